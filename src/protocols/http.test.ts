import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdapter } from './index.js';
import { json, MemoryRecorder, send, startServer, testPlan } from './testing/helpers.js';
import { PreflightError } from '../core/errors.js';

describe('http adapter', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  const dir = mkdtempSync(join(tmpdir(), 'preflight-http-'));
  const csv = join(dir, 'rows.csv');
  writeFileSync(csv, 'id,text,n\na,"he said ""hi""",1\nb,plain,2\nc,x/y,3\nd,z,4\n');
  before(async () => {
    srv = await startServer((req, body, res) => {
      const u = req.url ?? '';
      if (u.startsWith('/status/')) return json(res, Number(u.slice(8)), { error: 'x' });
      if (u.startsWith('/notjson')) {
        res.writeHead(200);
        return res.end('<html>');
      }
      return json(res, 200, {
        model_name: 'digits',
        id: 'abc',
        echo: body.length > 0 ? JSON.parse(body.toString()) : null,
        outputs: [{ data: [1] }],
      });
    });
  });
  after(() => srv.close());

  it('static request: built once, same object for every seq, lower-case headers, JSON content-type', async () => {
    const plan = testPlan(
      `${srv.url}/base/`,
      { protocol: 'http', request: { method: 'post', path: '/echo', headers: { 'X-Req': 'r' }, body: '{"a":1}' } },
      { headers: { Authorization: 'Bearer t' } },
    );
    const a = await createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 });
    const r0 = a.request(0);
    assert.equal(a.request(1), r0);
    assert.equal(a.request(99), r0);
    assert.equal(r0.method, 'POST');
    assert.equal(r0.path, '/base/echo');
    assert.deepEqual(r0.headers, { authorization: 'Bearer t', 'x-req': 'r', 'content-type': 'application/json' });
    assert.ok(Buffer.isBuffer(r0.body));
    assert.equal(a.bodyMode, 'none');
  });

  it('classifies 2xx / 4xx / 5xx', async () => {
    for (const [code, cls] of [
      [200, null],
      [204, null],
      [404, 'http_4xx'],
      [429, 'http_4xx'],
      [503, 'http_5xx'],
    ] as const) {
      const plan = testPlan(srv.url, {
        protocol: 'http',
        request: { method: 'GET', path: `/status/${code}`, headers: {} },
      });
      const a = await createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 });
      const res = await send(a, srv.url, a.request(0), new MemoryRecorder());
      assert.equal(res.cls, cls, `status ${code}`);
    }
  });

  it('fills {{column}} in path (URL-encoded) and body (JSON-escaped), rows divided among shards', async () => {
    const scenario = {
      protocol: 'http' as const,
      request: {
        method: 'POST',
        path: '/items/{{text}}',
        headers: {},
        body: '{"id":"{{id}}","text":"{{text}}","n":{{n}}}',
      },
      data: { file: csv, format: 'csv' as const, order: 'sequential' as const, batch: { min: 1, max: 1 } },
    };
    const plan = testPlan(srv.url, scenario);
    const a0 = await createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 2 }, seed: 1 });
    const a1 = await createAdapter(plan.scenarios[0], plan, { shard: { index: 1, count: 2 }, seed: 1 });
    const bodies = (a: typeof a0) => [0, 1, 2].map((s) => JSON.parse(a.request(s).body!.toString()));
    assert.deepEqual(
      bodies(a0).map((b) => b.id),
      ['a', 'c', 'a'],
    );
    assert.deepEqual(
      bodies(a1).map((b) => b.id),
      ['b', 'd', 'b'],
    );
    assert.deepEqual(bodies(a0)[0], { id: 'a', text: 'he said "hi"', n: 1 });
    assert.equal(a0.request(1).path, '/items/x%2Fy');
    assert.equal(a0.request(0), a0.request(2), 'pre-encoded per row');
    assert.equal(a0.request(0).row, 0);
    const res = await send(a0, srv.url, a0.request(0), new MemoryRecorder());
    assert.equal(res.cls, null);
    assert.deepEqual(JSON.parse(res.body.toString()).echo, { id: 'a', text: 'he said "hi"', n: 1 });
  });

  it('missing template column → DataError before load', async () => {
    const plan = testPlan(srv.url, {
      protocol: 'http',
      request: { method: 'GET', path: '/x/{{nope}}', headers: {} },
      data: { file: csv, format: 'csv', order: 'sequential', batch: { min: 1, max: 1 } },
    });
    await assert.rejects(
      createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 }),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_DATA_INVALID' && /nope/.test(e.problems[0].message),
    );
  });

  it('checks → check_failed; body checks switch to bodyMode full; non-JSON → invalid_response', async () => {
    const mk = async (path: string, checks: string[]) => {
      const plan = testPlan(srv.url, {
        protocol: 'http',
        request: { method: 'GET', path, headers: {} },
        checks: checks.map((expression) => ({ expression })),
      });
      return createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 });
    };
    const good = await mk('/ok', [
      'status == 200',
      '$.outputs[0].data exists',
      '$.model_name == "digits"',
      '$.id matches ^[a-z]+$',
    ]);
    assert.equal(good.bodyMode, 'full');
    assert.equal((await send(good, srv.url, good.request(0), new MemoryRecorder())).cls, null);
    const bad = await mk('/ok', ['$.model_name == "other"']);
    assert.equal((await send(bad, srv.url, bad.request(0), new MemoryRecorder())).cls, 'check_failed');
    const missing = await mk('/ok', ['$.outputs[1] exists']);
    assert.equal((await send(missing, srv.url, missing.request(0), new MemoryRecorder())).cls, 'check_failed');
    const statusOnly = await mk('/ok', ['status == 201']);
    assert.equal(statusOnly.bodyMode, 'none');
    assert.equal((await send(statusOnly, srv.url, statusOnly.request(0), new MemoryRecorder())).cls, 'check_failed');
    const expect404 = await mk('/status/404', ['status == 404']);
    assert.equal((await send(expect404, srv.url, expect404.request(0), new MemoryRecorder())).cls, null);
    const notJson = await mk('/notjson', ['$.id exists']);
    assert.equal((await send(notJson, srv.url, notJson.request(0), new MemoryRecorder())).cls, 'invalid_response');
    await assert.rejects(
      mk('/ok', ['this is not a check']),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_PLAN_INVALID',
    );
  });
});
