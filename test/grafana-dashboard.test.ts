/**
 * examples/grafana/*.json: parseable dashboards whose PromQL names only metrics that exist — Preflight's
 * own (`--metrics-port`) and the reference server's /metrics (nv_*, preflight_server_*, process_*).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Summary } from '../src/core/results.js';
import { LiveMetrics } from '../src/run/index.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import { root } from './helpers/cli.js';

let server: ServerHandle | undefined;
after(async () => {
  await server?.close();
});

/** Metric names of an exposition text: each `# TYPE` family, with a histogram's series suffixes. */
function namesOf(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
  }
  return names;
}

/** The metric names a PromQL expression selects (functions, label matchers, grouping labels left out). */
function metricsInPromql(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range selectors ($__rate_interval)
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out: string[] = [];
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)) {
    if (m[2]) continue; // a function
    if (/^(e\d+|Inf|NaN|and|or|unless|offset|bool)$/.test(m[1])) continue;
    out.push(m[1]);
  }
  return out;
}

test('metricsInPromql finds the selected metrics only', () => {
  assert.deepEqual(
    metricsInPromql(
      'histogram_quantile(0.99, sum by (le, scenario) (rate(preflight_request_duration_seconds_bucket{group=""}[$__rate_interval])))',
    ),
    ['preflight_request_duration_seconds_bucket'],
  );
  assert.deepEqual(metricsInPromql('sum (rate(a_b[1m])) / sum (rate(c{x="y z"}[1m])) / 1e6'), ['a_b', 'c']);
});

test('the example Grafana dashboards parse and query only metrics Preflight and the reference server export', async () => {
  const live = new LiveMetrics('plan.yaml');
  live.finish({ status: 'completed', scenarios: {} } as unknown as Summary, 0);
  const known = namesOf(await live.registry.metrics());
  server = await startServer({ port: 0, instances: 1 });
  for (const n of namesOf(server.metricsText())) known.add(n);
  assert.ok(known.has('preflight_requests_total') && known.has('nv_inference_queue_duration_us'));

  const dir = path.join(root, 'examples', 'grafana');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const d = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as {
      title: string;
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    };
    assert.ok(d.title && Array.isArray(d.panels), f);
    let queries = 0;
    for (const p of d.panels) {
      for (const t of p.targets ?? []) {
        queries++;
        const names = metricsInPromql(t.expr);
        assert.ok(names.length > 0, `${f} "${p.title}": ${t.expr}`);
        for (const n of names) assert.ok(known.has(n), `${f} panel "${p.title}" queries unknown metric ${n}`);
      }
    }
    assert.ok(queries >= 10, `${f}: ${queries} queries`);
  }
});
