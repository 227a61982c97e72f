/**
 * `validate` sees what `run` sees, and `run` sees it first: bad data files, malformed checks, absurd
 * values and broken header values are exit 2 from `validate`, and from `run` before the target is
 * touched (a down target does not hide them behind exit 5) and before a results folder exists.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closedPort } from './helpers/servers.js';
import { preflight, root } from './helpers/cli.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-validate-'));
  dirs.push(d);
  return d;
};

/** A kserve-v2 scenario reading `file` (inputs p0, p1; label) and an http one using {{a}} of `file2`. */
function planFor(url: string, file: string, extra = ''): string {
  return `target: { url: ${url} }
scenarios:
  tensors:
    executor: constant-arrival-rate
    rate: 5/s
    duration: 1s
    protocol: kserve-v2
    model: digits
    data: { file: ${file}, label: label, inputs: [ { name: x, columns: [p0, p1] } ] }
${extra}`;
}

const BAD_FILES: Record<string, { content: Buffer | string; expect: RegExp }> = {
  'empty.csv': { content: '', expect: /empty\.csv: CSV file is empty/ },
  'header.csv': { content: 'p0,p1,label\n', expect: /header\.csv:1: CSV file has a header but no rows/ },
  'width.csv': { content: 'p0,p1,label\n1,2,0\n3,4\n5,6,1\n', expect: /width\.csv:3: row 2 has 2 cells, header has 3/ },
  'nonnum.csv': {
    content: 'p0,p1,label\n1,2,0\n3,abc,1\n',
    expect: /nonnum\.csv:3: row 2, column "p1": "abc" is not a number/,
  },
  'latin1.csv': {
    content: Buffer.concat([Buffer.from('p0,p1,label\n1,2,0\n3,4,'), Buffer.from([0xe9]), Buffer.from('\n')]),
    expect: /latin1\.csv:3:5: not UTF-8 text \(byte 0xe9/,
  },
  'bad.jsonl': { content: '{"p0":1,"p1":2,"label":0}\n{"p0":1,\n', expect: /bad\.jsonl:2: not valid JSON/ },
};

for (const [name, { content, expect }] of Object.entries(BAD_FILES)) {
  test(`validate: ${name} is reported with its location (exit 2), not ✓`, async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, name), content);
    fs.writeFileSync(path.join(dir, 'plan.yaml'), planFor('http://127.0.0.1:9', name));
    const r = await preflight(['validate', path.join(dir, 'plan.yaml')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /is valid/);
    assert.match(r.stderr, expect);
    assert.match(r.stderr, /hint: /);
  });
}

test('validate: one wrong-width row does not hide the other problems of the file; the list is bounded', async () => {
  const dir = tmp();
  const rows = ['p0,p1,label', '1,2,0', '3,4', 'x,5,1'];
  for (let i = 0; i < 60; i++) rows.push(`${i},y${i},1`);
  fs.writeFileSync(path.join(dir, 'many.csv'), rows.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'plan.yaml'), planFor('http://127.0.0.1:9', 'many.csv'));
  const r = await preflight(['validate', path.join(dir, 'plan.yaml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /many\.csv:3: row 2 has 2 cells/);
  assert.match(r.stderr, /many\.csv:4: row 3, column "p0": "x" is not a number/);
  assert.match(r.stderr, /many\.csv:5: row 4, column "p1": "y0" is not a number/);
  // 62 problems: 20 shown, then a count of the rest
  assert.match(r.stderr, /… and 42 more problems/);
  assert.equal((r.stderr.match(/many\.csv:\d+: /g) ?? []).length, 20);
});

test('run: bad data with a down target → exit 2 listing the data problems, nothing sent, no results folder', async () => {
  const dir = tmp();
  const port = await closedPort();
  fs.writeFileSync(path.join(dir, 'width.csv'), 'p0,p1,label\n1,2,0\n3,4\n');
  fs.writeFileSync(path.join(dir, 'plan.yaml'), planFor(`http://127.0.0.1:${port}`, 'width.csv'));
  const out = path.join(dir, 'results');
  const r = await preflight(['run', path.join(dir, 'plan.yaml'), '--out', out, '--quiet']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /width\.csv:3: row 2 has 2 cells/);
  assert.doesNotMatch(r.stderr, /cannot reach|unreachable/i);
  assert.equal(fs.existsSync(out), false, 'no results folder for a run that never started');
});

test('validate: malformed checks, absurd values and a header with a newline from the environment (secret not shown)', async () => {
  const dir = tmp();
  fs.writeFileSync(
    path.join(dir, 'plan.yaml'),
    `target: { url: http://127.0.0.1:9, headers: { authorization: "Bearer \${TOKEN}" } }
scenarios:
  a:
    executor: constant-arrival-rate
    rate: 999999M/s
    duration: 1s
    request: { path: /x }
    checks: [ "status = 200", "$.x matches [a-" ]
  b:
    executor: constant-concurrency
    concurrency: 100000000
    duration: 1s
    request: { path: /x }
options: { workers: 100000, interval: 1us }
`,
  );
  const r = await preflight(['validate', path.join(dir, 'plan.yaml')], { env: { TOKEN: 'hunter2-secret\n' } });
  assert.equal(r.code, 2);
  const err = r.stderr;
  assert.match(
    err,
    /plan\.yaml:1:\d+: header value contains a line break \(CR\/LF\) after interpolating `Bearer \$\{TOKEN\}`/,
  );
  assert.match(err, /plan\.yaml:8:\d+: check `status = 200`/);
  assert.match(err, /plan\.yaml:8:\d+: check `\$\.x matches \[a-`: bad regular expression/);
  assert.match(err, /plan\.yaml:5:\d+: must be at most 1,000,000\/s, got `999999M\/s`/);
  assert.match(err, /plan\.yaml:11:\d+: must be at most 100000, got `100000000`/);
  assert.match(err, /plan\.yaml:14:\d+: must be at most 64, got `100000`/);
  assert.match(err, /plan\.yaml:14:\d+: must be at least 100ms, got `1us`/);
  assert.doesNotMatch(err + r.stdout, /hunter2/);
});

test('validate: a replay trace with a bad time is reported (run would reject it at its start)', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 't.csv'), 'timestamp\n1\nsoon\n');
  fs.writeFileSync(
    path.join(dir, 'plan.yaml'),
    'target: { url: http://127.0.0.1:9 }\nscenarios:\n  r: { executor: replay, trace: { file: t.csv }, request: { path: /x } }\n',
  );
  const r = await preflight(['validate', path.join(dir, 'plan.yaml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /t\.csv:3: `timestamp` is not a time: "soon"/);
});

test('run: a profile plan with bad data and a down target → exit 2, no results folder', async () => {
  const dir = tmp();
  const port = await closedPort();
  fs.writeFileSync(path.join(dir, 'width.csv'), 'p0,p1,label\n1,2,0\n3,4\n');
  fs.writeFileSync(
    path.join(dir, 'plan.yaml'),
    `target: { url: http://127.0.0.1:${port} }
profile: { type: load, rate: 10/s }
scenario:
  protocol: kserve-v2
  model: digits
  data: { file: width.csv, label: label, inputs: [ { name: x, columns: [p0, p1] } ] }
thresholds: [ p99 < 1s ]
`,
  );
  const out = path.join(dir, 'results');
  const r = await preflight(['run', path.join(dir, 'plan.yaml'), '--out', out, '--quiet']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /width\.csv:3: row 2 has 2 cells/);
  assert.equal(fs.existsSync(out), false);
});

test('a shadow plan with a malformed ignore pattern: exit 2 from validate, and from run before the (down) target', async () => {
  const port = await closedPort();
  const dir = tmp();
  const file = path.join(dir, 'shadow.yaml');
  fs.writeFileSync(
    file,
    `target: { url: http://127.0.0.1:${port} }
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 5/s
    duration: 1s
    request: { method: GET, path: /predict }
comparison:
  kind: shadow
  variants: [ { name: p }, { name: s }, { name: c, url: http://127.0.0.1:${port}/b } ]
  shadow: { ignore: [ $.id, "$.meta[" ] }
`,
  );
  const v = await preflight(['validate', file]);
  assert.equal(v.code, 2, v.stdout + v.stderr);
  assert.match(v.stderr, /path pattern "\$\.meta\[": .*\(comparison\.shadow\.ignore\[1\]\)/);
  assert.match(v.stderr, /hint: a JSON path such as \$\.id/);
  const out = path.join(dir, 'out');
  const r = await preflight(['run', file, '-o', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /comparison\.shadow\.ignore\[1\]/);
  assert.ok(!fs.existsSync(out), 'no results folder');
});

test('validate, an A/B plan: the requests per arm each minimum effect needs at the plan’s power; too few is a warning', async () => {
  const dir = tmp();
  const data = path.join(root, 'examples', 'data', 'digits-test.csv');
  const planWith = (duration: string) =>
    fs
      .readFileSync(path.join(root, 'examples', 'ab-digits.yaml'), 'utf8')
      .replace('duration: 30s', `duration: ${duration}`)
      .replace('file: data/digits-test.csv', `file: ${data}`);
  // Two proportions at alpha 0.05/5 (Holm's family of 5: the Bonferroni level for power), power 0.8,
  // R's power.prop.test solved for n (SciPy, once): 95% → 94%: 12,138.8; 1% → 2%: 3,449.7.
  const short = path.join(dir, 'short.yaml');
  fs.writeFileSync(short, planWith('30s'));
  const s = await preflight(['validate', short]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /planned requests per variant v1 \(control\) ≈ 1,500/);
  assert.match(
    s.stdout,
    /warning: accuracy: 12,139 requests per arm needed for power 0\.8 \(assuming accuracy 95% → 94%.*\); the plan sends ≈ 1,500 to its smaller arm/,
  );
  assert.match(s.stdout, /warning: error_rate: 3,450 requests per arm needed .*assuming error rate 1% → 2%/);
  const long = path.join(dir, 'long.yaml');
  fs.writeFileSync(long, planWith('300s'));
  const l = await preflight(['validate', long]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /^ {2}accuracy: 12,139 requests per arm needed/m);
  assert.doesNotMatch(l.stdout, /warning/);
});
