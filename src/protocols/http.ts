/**
 * Protocol `http`: a plain request template (method, path, headers, body).
 *
 * - Static template: the WireRequest (body Buffer included) is built once and returned for every seq.
 * - With `data`: `{{column}}` holes in the path and body are filled from one data row per request
 *   (see src/protocols/template.ts for escaping); rows follow `data.order` and are divided among
 *   shards as in src/data/order.ts (shard k sends rows k, k+count, … of the order). Requests are
 *   pre-encoded per row while the total stays under 50 MB, else rendered per request.
 *   `{{model}}` is filled with the scenario's model name (traffic mixes) when no column has that name.
 * - Judge: 2xx ok, 4xx http_4xx, 5xx http_5xx, other statuses `other`; checks → check_failed;
 *   bodyMode 'full' only when a check (or quality scoring) reads the body.
 */
import type { Adapter, ErrorClass, Recorder, WireRequest } from '../core/types.js';
import { DataError } from '../core/errors.js';
import { buildBatchTable } from '../data/order.js';
import type { BatchTable } from '../data/order.js';
import { compileChecks } from './checks.js';
import type { AdapterOptions, DataWireRequest } from './common.js';
import { joinPath, PREENCODE_BUDGET_BYTES, scenarioDataset, tryParseJson } from './common.js';
import { compileTemplate, looksLikeJson } from './template.js';
import { createQuality } from './quality-hook.js';
import type { Dataset } from '../data/dataset.js';

export async function createHttpAdapter(o: AdapterOptions): Promise<Adapter> {
  const { scenario } = o;
  const tmpl = scenario.request ?? { method: 'GET', path: '/', headers: {} };
  const method = (tmpl.method || 'GET').toUpperCase();
  const bodyText = tmpl.body;
  const headers: Record<string, string> = { ...o.headers };
  if (bodyText !== undefined && headers['content-type'] === undefined && looksLikeJson(bodyText))
    headers['content-type'] = 'application/json';
  const checks = compileChecks(scenario.checks, scenario.name);
  const pathT = compileTemplate(tmpl.path || '/', 'path');
  const bodyT =
    bodyText !== undefined ? compileTemplate(bodyText, looksLikeJson(bodyText) ? 'json' : 'text') : undefined;
  const extra: Record<string, string> = scenario.model ? { model: scenario.model } : {};
  const group = o.group;

  const ds: Dataset | undefined = await scenarioDataset(o);
  const holes = [...pathT.columns, ...(bodyT?.columns ?? [])];
  let table: BatchTable | undefined;
  if (ds) {
    const problems = ds.problems;
    const needed = holes.filter((c) => !(c in extra) || ds.columns.has(c));
    const absent = needed.filter((c) => !ds.columns.has(c));
    if (absent.length > 0) {
      problems.add({
        file: ds.file,
        message: `request template uses column${absent.length === 1 ? '' : 's'} ${absent.map((c) => `{{${c}}}`).join(', ')} missing from the data`,
        hint: `columns present: ${ds.columnNames.slice(0, 12).join(', ')}`,
      });
    }
    problems.throwIfAny('data');
    // one row per request for plain http
    table = buildBatchTable(ds.rowCount, {
      order: scenario.data!.order,
      batch: { min: 1, max: 1 },
      seed: o.seed,
      shard: o.shard,
    });
  } else {
    const unfilled = holes.filter((c) => !(c in extra));
    if (unfilled.length > 0) {
      throw new DataError([
        {
          path: `scenarios.${scenario.name}.request`,
          message: `request template uses ${unfilled.map((c) => `{{${c}}}`).join(', ')} but the scenario has no data file`,
        },
      ]);
    }
  }

  const quality = createQuality(o, ds, table, (json) =>
    json === undefined ? { kind: 'malformed' } : { kind: 'json', value: json },
  );
  const needBody = checks.readsBody || quality.active;
  const bodyMode = needBody ? 'full' : 'none';

  const lookup = (c: string) => ds?.columns.get(c);
  const build = (row: number, batch?: number): DataWireRequest => {
    const path = joinPath(o.basePath, pathT.render(lookup, row, extra));
    const req: DataWireRequest = { method, path, headers };
    if (bodyT) req.body = Buffer.from(bodyT.render(lookup, row, extra), 'utf8');
    if (ds) {
      req.row = row;
      req.rows = 1;
      req.batch = batch;
    }
    if (group !== undefined) req.group = group;
    return req;
  };

  let request: (seq: number) => WireRequest;
  if (!ds || !table) {
    const fixed = build(0);
    delete fixed.row;
    delete fixed.rows;
    request = () => fixed;
  } else {
    const t = table;
    const cache: Array<DataWireRequest | undefined> = new Array(t.count);
    let bytes = 0;
    let cached = true;
    for (const b of t.visited()) {
      const r = build(t.rows(b)[0], b);
      bytes += (r.body?.length ?? 0) + r.path.length;
      if (bytes > PREENCODE_BUDGET_BYTES) {
        cached = false;
        cache.length = 0;
        break;
      }
      cache[b] = r;
    }
    request = cached
      ? (seq) => cache[t.batchOf(seq)]!
      : (seq) => {
          const b = t.batchOf(seq);
          return build(t.rows(b)[0], b);
        };
  }

  const judge = (req: WireRequest, status: number, body: Buffer | null, rec: Recorder): ErrorClass | null => {
    const s = checks.statusVerdict(status);
    if (s !== null || !needBody) return s;
    let json: unknown;
    let parsed = false;
    const getJson = (): unknown => {
      if (!parsed) {
        json = tryParseJson(body);
        parsed = true;
      }
      return json;
    };
    if (checks.readsBody) {
      const failed = checks.evaluateBody(checks.readsJson ? getJson() : undefined, () =>
        body ? body.toString('utf8') : '',
      );
      if (failed !== null) {
        // a check on JSON of a body that is not JSON: the response itself is invalid
        if (checks.readsJson && getJson() === undefined) return 'invalid_response';
        return 'check_failed';
      }
    }
    if (quality.active && status >= 200 && status < 300) {
      const j = getJson();
      if (j === undefined) return 'invalid_response';
      quality.score(req as DataWireRequest, j, rec);
    }
    return null;
  };

  const adapter: Adapter & { report(): Record<string, unknown> } = {
    protocol: 'http',
    bodyMode,
    request,
    judge,
    finish: () => quality.finish(),
    report: () => ({ ...quality.report() }),
  };
  return adapter;
}
