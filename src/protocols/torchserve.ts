/**
 * Protocol `torchserve` (TorchServe inference API).
 *
 * prepare(): GET /ping must answer 2xx (and `{"status": "Healthy"}` when it answers JSON), else
 * E_TARGET_NOT_READY; network failure → TargetUnreachableError. (Model registration lives on the
 * management API, port 8081, which is not assumed reachable.)
 *
 * Request: POST /predictions/{m}[/{version}] with
 *   payload json (default): the row's input values as JSON — one input: the row nested to its row
 *     shape (`[0, 0, 5, …]`), several inputs: `{name: row, …}`; with more than one row per request, a
 *     JSON array of those. content-type application/json.
 *   payload raw: the bytes of data column `torchserve.column` — utf8 text, base64-decoded, or the
 *     contents of the file it names (`encoding: file`, read once at start); content-type
 *     `torchserve.contentType` (default application/octet-stream); one row per request.
 *   no data: `request.body` as is.
 * Responses are handler-defined: for scoring, a JSON vector (argmax), a list of vectors (batch), a
 * {label: score} object (top label), a number or a string; or use `quality.prediction.path`.
 */
import { readFileSync } from 'node:fs';
import type { Adapter, AdapterContext, WireRequest } from '../core/types.js';
import { cellText, requireColumns, resolveDataFile, rowWhere } from '../data/dataset.js';
import type { Dataset } from '../data/dataset.js';
import { buildBatchTable } from '../data/order.js';
import type { ProblemList } from '../data/problems.js';
import { rowJson } from '../data/encode.js';
import type { AdapterOptions } from './common.js';
import { bodySnippet, isObject, joinPath, notReady, prepFetch, seg } from './common.js';
import { createQuality } from './quality-hook.js';
import { fixedRequest, tensorAdapter, tensorBase } from './tensor-common.js';
import { dataSource, RequestBank, stamp } from './tensor-source.js';
import type { TensorSource } from './tensor-source.js';

/** Raw payloads for `payload: raw`: one Buffer per row; every problem collected. */
export function rawPayloads(
  ds: Dataset,
  column: string,
  encoding: 'utf8' | 'base64' | 'file',
  planSource: string,
  problems: ProblemList,
): Buffer[] | null {
  if (!requireColumns(ds, [column], problems, 'torchserve raw payload')) return null;
  const col = ds.columns.get(column)!;
  const out: Buffer[] = new Array(ds.rowCount);
  const before = problems.size;
  for (let r = 0; r < ds.rowCount; r++) {
    const text = cellText(col, r);
    if (encoding === 'file') {
      const f = resolveDataFile(text, planSource === '<inline>' ? ds.file : planSource);
      try {
        out[r] = readFileSync(f);
      } catch (err) {
        problems.add({
          ...rowWhere(ds, r, column),
          message: `row ${r + 1}: cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        });
      }
    } else if (encoding === 'base64') {
      if (!/^[A-Za-z0-9+/=\s_-]*$/.test(text))
        problems.add({ ...rowWhere(ds, r, column), message: `row ${r + 1}: not base64` });
      else out[r] = Buffer.from(text, 'base64');
    } else {
      out[r] = Buffer.from(text, 'utf8');
    }
  }
  return problems.size > before ? null : out;
}

export async function createTorchserveAdapter(o: AdapterOptions): Promise<Adapter> {
  const { scenario } = o;
  const { model, checks, ds } = await tensorBase(o);
  const ts = scenario.torchserve ?? { payload: 'json' as const };
  const path = joinPath(
    o.basePath,
    `/predictions/${seg(model)}${scenario.modelVersion ? `/${seg(scenario.modelVersion)}` : ''}`,
  );
  const group = o.group;
  let bank: RequestBank | undefined;
  let fixed: WireRequest | undefined;
  let src: TensorSource | undefined;
  let table = undefined as ReturnType<typeof buildBatchTable> | undefined;

  if (ds && ts.payload === 'raw') {
    const problems = ds.problems;
    const payloads = rawPayloads(ds, ts.column!, ts.encoding ?? 'utf8', o.plan.source, problems);
    problems.throwIfAny('data');
    const headers: Record<string, string> = {
      'content-type': ts.contentType ?? 'application/octet-stream',
      ...o.headers,
    };
    table = buildBatchTable(ds.rowCount, {
      order: scenario.data!.order,
      batch: { min: 1, max: 1 },
      seed: o.seed,
      shard: o.shard,
    });
    bank = new RequestBank(table, (b, rows) =>
      stamp({ method: 'POST', path, headers, body: payloads![rows[0]] }, b, rows, group),
    );
  } else if (ds) {
    src = dataSource(o, ds);
    table = src.table;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers };
    const s = src;
    const one = (r: number): string =>
      s.inputs.length === 1
        ? rowJson(s.inputs[0], r)
        : `{${s.inputs.map((t) => `${JSON.stringify(t.name)}:${rowJson(t, r)}`).join(',')}}`;
    const multi = s.batch.max > 1;
    bank = new RequestBank(table, (b, rows) => {
      const body = multi ? `[${Array.from(rows, one).join(',')}]` : one(rows[0]);
      return stamp({ method: 'POST', path, headers, body: Buffer.from(body) }, b, rows, group);
    });
  } else {
    // no data: the protocol rules (createAdapter) ensured a request.body
    const body = scenario.request!.body!;
    const t = body.trimStart();
    const headers: Record<string, string> = {
      ...(t.startsWith('{') || t.startsWith('[') ? { 'content-type': 'application/json' } : {}),
      ...o.headers,
    };
    fixed = fixedRequest(path, headers, body, group);
  }

  const quality = createQuality(o, ds, table, (json) => ({ kind: 'json', value: json }));
  const needJson = checks.readsJson || quality.active;

  return tensorAdapter({
    protocol: 'torchserve',
    checks,
    quality,
    // handler-defined responses: only an answer that is not JSON, or a JSON error, is invalid
    invalid: needJson ? (json) => json === undefined || (isObject(json) && json.error !== undefined) : null,
    ...(fixed ? { fixed } : {}),
    bank: () => bank,
    async prepare(ctx: AdapterContext) {
      const ping = await prepFetch(ctx, o.basePath, o.headers, '/ping');
      const st = isObject(ping.json) ? ping.json.status : undefined;
      if (ping.status < 200 || ping.status >= 300 || (st !== undefined && st !== 'Healthy')) {
        throw notReady(`TorchServe not healthy: GET ${ping.url} → ${ping.status} ${bodySnippet(ping.body)}`);
      }
      bank?.encode();
    },
  });
}
