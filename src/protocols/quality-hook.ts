/**
 * Glue between an adapter's judge() and src/data/quality.ts: which rows a request carried, how to
 * read predictions from the response, labels and golden outputs. One per adapter instance (shard).
 */
import type { Recorder } from '../core/types.js';
import { DataError } from '../core/errors.js';
import { checkWritableFile } from '../core/output-path.js';
import type { Dataset } from '../data/dataset.js';
import { resolveDataFile } from '../data/dataset.js';
import type { BatchTable } from '../data/order.js';
import { ProblemList } from '../data/problems.js';
import { buildLabels } from '../data/tensors.js';
import type { Labels } from '../data/tensors.js';
import { compileJsonPath, evalJsonPath, MISSING } from '../data/json.js';
import type { PathStep } from '../data/json.js';
import {
  isCorrect,
  maxAbsDiff,
  outputVector,
  predictionOf,
  readGolden,
  recordRegression,
  writeGoldenShard,
} from '../data/quality.js';
import type { GoldenOutputs, RowValue } from '../data/quality.js';
import type { AdapterOptions, DataWireRequest } from './common.js';

/**
 * How an adapter decodes a response for scoring:
 *   rows       per-row raw outputs (argmax prediction; `output` names the tensor, when the protocol has names)
 *   json       the whole parsed body, for adapters without a tensor notion (argmax applies to it per row)
 *   empty      the response carried no outputs at all
 *   malformed  outputs present but unreadable
 */
export type Decoded =
  | { kind: 'rows'; rows: RowValue[] }
  | { kind: 'json'; value: unknown }
  | { kind: 'empty' }
  | { kind: 'malformed' };
export type Decoder = (json: unknown, rows: number, output: string | undefined) => Decoded;

export interface GoldenWorst {
  row: number;
  max_diff: number;
}

export interface QualityReport {
  golden_worst: GoldenWorst[];
  golden_saved?: string;
}

export interface QualityHook {
  /** Scoring or golden outputs are on (the adapter needs response bodies). */
  readonly active: boolean;
  /** Scores a 2xx, protocol-valid response. */
  score(req: DataWireRequest, json: unknown, rec: Recorder): void;
  finish(): Promise<void>;
  report(): QualityReport;
}

const WORST_KEPT = 5;

const INACTIVE: QualityHook = {
  active: false,
  score: () => {},
  finish: async () => {},
  report: () => ({ golden_worst: [] }),
};

export function createQuality(
  o: AdapterOptions,
  ds: Dataset | undefined,
  table: BatchTable | undefined,
  decoder: Decoder,
): QualityHook {
  const q = o.scenario.quality;
  if (!q) return INACTIVE;
  const problems = ds?.problems ?? new ProblemList();
  const labelCol = o.scenario.data?.label;
  let labels: Labels | null = null;
  if (labelCol && ds) labels = buildLabels(ds, labelCol, q.task, problems);
  else if (!q.golden && !q.saveGolden) {
    problems.add({
      path: `scenarios.${o.scenario.name}.quality`,
      message: 'quality scoring needs true labels: set `data.label` (or use `golden` / `saveGolden`)',
    });
  }
  problems.throwIfAny('data');
  let golden: GoldenOutputs | undefined;
  if (q.golden) golden = readGolden(resolveDataFile(q.golden.file, o.plan.source));
  const tolerance = q.golden?.tolerance ?? 0;
  const saveFile = q.saveGolden ? resolveDataFile(q.saveGolden, o.plan.source) : undefined;
  // Checked before any request: a path that cannot be written would only fail after the whole run.
  const saveProblem = saveFile ? checkWritableFile(saveFile) : null;
  if (saveProblem) {
    throw new DataError([
      {
        file: o.plan.source,
        path: `scenarios.${o.scenario.name}.quality.saveGolden`,
        message: `cannot write golden outputs there: ${saveProblem.message}`,
        hint: saveProblem.hint,
      },
    ]);
  }
  const saved = saveFile ? new Map<number, number[]>() : undefined;
  const task = q.task;
  const pred = q.prediction ?? { kind: 'argmax' as const };
  let pathSteps: PathStep[] | undefined;
  let pathMaps = false;
  if (pred.kind === 'path') {
    try {
      pathSteps = compileJsonPath(pred.path);
    } catch (err) {
      throw new DataError([
        { path: `scenarios.${o.scenario.name}.quality.prediction`, message: (err as Error).message },
      ]);
    }
    pathMaps = pathSteps.some((s) => 'all' in s);
  }
  const outputName = pred.kind === 'argmax' ? pred.output : undefined;
  // Distinct rows the data can offer: when the run repeats rows, they bound the CI's sample size.
  const datasetRows = ds?.rowCount ?? 0;
  const worst: GoldenWorst[] = [];
  let savedWritten = false;

  const rowsOf = (req: DataWireRequest): ArrayLike<number> => {
    if (table && req.batch !== undefined) return table.rows(req.batch);
    const first = req.row ?? 0;
    const n = req.rows ?? 1;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = first + i;
    return out;
  };

  const perRow = (json: unknown, n: number): Decoded => {
    if (pathSteps) {
      const v = evalJsonPath(json, pathSteps);
      if (v === MISSING) return { kind: 'empty' };
      if (Array.isArray(v) && (pathMaps || n > 1)) return { kind: 'rows', rows: v };
      return { kind: 'rows', rows: [v] };
    }
    const d = decoder(json, n, outputName);
    if (d.kind !== 'json') return d;
    const v = d.value;
    // generic JSON: an array of per-row values for a batch, else the single row's value
    if (n > 1) return Array.isArray(v) ? { kind: 'rows', rows: v } : { kind: 'malformed' };
    if (Array.isArray(v) && v.length === 1 && Array.isArray(v[0])) return { kind: 'rows', rows: [v[0]] };
    return { kind: 'rows', rows: [v] };
  };

  // distinct rows: a row sent again (the data cycles) updates its entry instead of filling the list
  const noteWorst = (row: number, d: number): void => {
    const seen = worst.find((w) => w.row === row);
    if (seen) {
      if (d <= seen.max_diff) return;
      seen.max_diff = d;
    } else {
      if (worst.length === WORST_KEPT && d <= worst[WORST_KEPT - 1].max_diff) return;
      worst.push({ row, max_diff: d });
    }
    worst.sort((a, b) => b.max_diff - a.max_diff);
    if (worst.length > WORST_KEPT) worst.length = WORST_KEPT;
  };

  return {
    active: true,
    score(req, json, rec) {
      const rows = rowsOf(req);
      const n = rows.length;
      rec.count('quality.requests');
      rec.count('quality.rows', n);
      if (datasetRows > 0) rec.max('quality.dataset_rows', datasetRows);
      const d = perRow(json, n);
      if (d.kind === 'empty' || d.kind === 'malformed' || d.kind === 'json') {
        rec.count(d.kind === 'empty' ? 'quality.empty' : 'quality.malformed', n);
        return;
      }
      const got = d.rows;
      const m = Math.min(n, got.length);
      if (got.length < n) rec.count('quality.truncated', n - got.length);
      for (let i = 0; i < m; i++) {
        const row = rows[i];
        const raw = got[i];
        if (labels) {
          const p = predictionOf(raw, task);
          if (p.kind === 'empty') rec.count('quality.empty');
          else if (p.kind === 'malformed') rec.count('quality.malformed');
          else {
            rec.count('quality.scored');
            if (task === 'classification') {
              if (isCorrect(p.value, labels, row)) rec.count('quality.correct');
            } else {
              const pv = typeof p.value === 'number' ? p.value : Number(p.value);
              recordRegression(rec, pv, (labels.values as Float64Array)[row]);
            }
          }
        }
        if (golden || saved) {
          const vec = outputVector(raw);
          if (saved && vec && !saved.has(row)) saved.set(row, vec);
          if (golden) {
            const ref = golden.get(row);
            if (!ref) rec.count('golden.missing');
            else if (!vec) {
              rec.count('golden.compared');
              rec.count('golden.shape_mismatch');
              noteWorst(row, Infinity);
            } else {
              const diff = maxAbsDiff(vec, ref);
              rec.count('golden.compared');
              if (diff === Infinity && vec.length !== ref.length) rec.count('golden.shape_mismatch');
              if (diff <= tolerance) rec.count('golden.agree');
              rec.max('golden.max_diff_e6', diff === Infinity ? Number.MAX_SAFE_INTEGER : Math.round(diff * 1e6));
              if (diff > 0) noteWorst(row, diff);
            }
          }
        }
      }
    },
    async finish() {
      if (saved && saveFile && !savedWritten) {
        savedWritten = true;
        await writeGoldenShard(saveFile, o.shard, saved);
      }
    },
    report() {
      return { golden_worst: worst.map((w) => ({ ...w })), ...(saveFile ? { golden_saved: saveFile } : {}) };
    },
  };
}
