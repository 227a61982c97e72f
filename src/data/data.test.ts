import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, PreflightError } from '../core/errors.js';
import { parseCsv } from './csv.js';
import { expandColumns, loadDataset } from './dataset.js';
import { buildBatchTable, rowOrder } from './order.js';
import { ProblemList } from './problems.js';
import { buildLabels, buildTensorInputs } from './tensors.js';
import { flatRowsJson, rowJson } from './encode.js';
import { floatPayload, payloadSweep, syntheticTensor } from './synthetic.js';
import { compileJsonPath, evalJsonPath, MISSING, parseJsonTolerant } from './json.js';
import { argmax, maxAbsDiff, predictionOf } from './quality.js';
import { loadPrompts } from './prompts.js';

const dir = mkdtempSync(join(tmpdir(), 'preflight-data-'));
function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

async function dataError(fn: () => unknown): Promise<DataError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    assert.equal(e.code, 'E_DATA_INVALID');
    assert.equal(e.exitCode, 2);
    return e;
  }
  assert.fail('expected a DataError');
}

async function inputsOf(
  f: string,
  inputs?: Array<{ name: string; columns: string[]; datatype: string }>,
  label?: string,
) {
  const ds = await loadDataset(f);
  const problems = ds.problems;
  const t = buildTensorInputs(ds, { inputs, label }, problems);
  if (label) buildLabels(ds, label, 'classification', problems);
  problems.throwIfAny('data');
  return t;
}

describe('CSV parser', () => {
  it('quotes, doubled quotes, CRLF, newlines inside quotes, line numbers, blank lines', async () => {
    const recs: Array<{ line: number; cells: string[] }> = [];
    parseCsv('a,b\r\n"x, y","say ""hi"""\n\n"multi\nline",3\n', (r) => recs.push(r));
    assert.deepEqual(recs, [
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, y', 'say "hi"'] },
      { line: 4, cells: ['multi\nline', '3'] },
    ]);
  });
});

describe('datasets', () => {
  it('CSV: numeric columns become Float64Array, text columns strings; p0..p63 ranges', async () => {
    const ds = await loadDataset(file('ok.csv', 'p0,p1,p2,name,label\n1,2,3,a,0\n4,5,6,b,1\n'));
    assert.equal(ds.rowCount, 2);
    assert.ok(ds.columns.get('p1')!.values instanceof Float32Array); // small integers: exact as float32, half the memory
    assert.equal(ds.columns.get('name')!.kind, 'string');
    assert.deepEqual(expandColumns(['p0..p2', 'x']), ['p0', 'p1', 'p2', 'x']);
    assert.equal(expandColumns(['p0..p63']).length, 64);
    const [t] = await inputsOf(join(dir, 'ok.csv'), [{ name: 'x', columns: ['p0..p2'], datatype: 'FP32' }], 'label');
    assert.equal(t.width, 3);
    assert.deepEqual(Array.from(t.data as Float64Array), [1, 2, 3, 4, 5, 6]);
    assert.equal(flatRowsJson(t, [1, 0]), '[4,5,6,1,2,3]');
  });

  it('the shared digits dataset: 1,797 rows × 64 pixels, default input = numeric columns except the label', async () => {
    const ds = await loadDataset('/work/shared/datasets/digits.csv');
    const problems = new ProblemList();
    const [t] = buildTensorInputs(ds, { label: 'label' }, problems);
    assert.equal(problems.size, 0);
    assert.equal(ds.rowCount, 1797);
    assert.equal(t.width, 64);
    assert.equal(t.columns[63], 'p63');
    const labels = buildLabels(ds, 'label', 'classification', problems)!;
    assert.equal(labels.kind, 'number');
  });

  it('JSON Lines and JSON arrays, with an array column as the tensor', async () => {
    const jl = await loadDataset(file('a.jsonl', '{"x":[[1,2],[3,4]],"label":1}\n\n{"x":[[5,6],[7,8]],"label":0}\n'));
    const problems = new ProblemList();
    const [t] = buildTensorInputs(
      jl,
      { inputs: [{ name: 'x', columns: ['x'], datatype: 'FP32' }], label: 'label' },
      problems,
    );
    assert.equal(problems.size, 0);
    assert.deepEqual(t.rowShape, [2, 2]);
    assert.equal(rowJson(t, 1), '[[5,6],[7,8]]');
    const js = await loadDataset(file('a.json', '[{"a":1,"b":"x"},{"a":2,"b":"y"}]'));
    assert.equal(js.rowCount, 2);
    assert.equal(js.columns.get('a')!.kind, 'number');
  });

  it('unreadable file → DataError naming it', async () => {
    const e = await dataError(() => loadDataset(join(dir, 'nope.csv')));
    assert.match(e.problems[0].message, /cannot read data file \(ENOENT\)/);
    assert.equal(e.problems[0].file, join(dir, 'nope.csv'));
  });

  it('wrong width (CSV rows with too few / many cells) → every row listed with its line', async () => {
    const e = await dataError(async () =>
      (await loadDataset(file('width.csv', 'a,b,c\n1,2,3\n1,2\n1,2,3,4\n'))).problems.throwIfAny(),
    );
    assert.equal(e.problems.length, 2);
    assert.deepEqual(
      e.problems.map((p) => p.line),
      [3, 4],
    );
    assert.match(e.problems[0].message, /row 2 has 2 cells, header has 3/);
  });

  it('missing column → listed with the columns present', async () => {
    const f = file('miss.csv', 'p0,p1,label\n1,2,0\n');
    const e = await dataError(() => inputsOf(f, [{ name: 'x', columns: ['p0..p3'], datatype: 'FP32' }], 'lbl'));
    assert.equal(e.problems.length, 2);
    assert.match(e.problems[0].message, /missing columns p2, p3 \(input "x"\)/);
    assert.match(e.problems[1].message, /missing column lbl \(label\)/);
  });

  it('non-numeric cells → every one listed with row, column and line', async () => {
    const f = file('nonnum.csv', 'p0,p1,label\n1,abc,0\n2,3,1\n,4,1\n');
    const e = await dataError(() => inputsOf(f, [{ name: 'x', columns: ['p0', 'p1'], datatype: 'FP32' }]));
    assert.equal(e.problems.length, 2);
    assert.match(e.problems[0].message, /row 3, column "p0": "" is not a number/);
    assert.equal(e.problems[0].line, 4);
    assert.match(e.problems[1].message, /row 1, column "p1": "abc" is not a number/);
    assert.equal(e.problems[1].line, 2);
  });

  it('JSON Lines: bad lines, non-objects and rows missing a used column are all reported', async () => {
    const f = file('bad.jsonl', '{"x":1,"y":2}\nnot json\n[1,2]\n{"x":3}\n');
    const e1 = await dataError(async () => (await loadDataset(f)).problems.throwIfAny());
    assert.deepEqual(
      e1.problems.map((p) => p.line),
      [2, 3],
    );
    const g = file('miss.jsonl', '{"x":1,"y":2}\n{"x":3}\n{"x":4,"y":"z"}\n');
    const e2 = await dataError(() => inputsOf(g, [{ name: 'in', columns: ['x', 'y'], datatype: 'FP32' }]));
    assert.ok(e2.problems.some((p) => /row 2 has no "y"/.test(p.message) && p.line === 2));
  });

  it('ragged array column → wrong width reported per row', async () => {
    const f = file('ragged.jsonl', '{"x":[1,2,3]}\n{"x":[1,2]}\n{"x":[1,"a",3]}\n');
    const e = await dataError(() => inputsOf(f, [{ name: 'in', columns: ['x'], datatype: 'FP32' }]));
    assert.match(e.problems[0].message, /2 values, expected 3/);
    assert.match(e.problems[1].message, /"a" is not a number/);
  });

  it('integer datatypes reject fractions; unknown datatypes are reported', async () => {
    const f = file('int.csv', 'a,b\n1.5,2\n3,4\n');
    const e = await dataError(() =>
      inputsOf(f, [
        { name: 'x', columns: ['a', 'b'], datatype: 'INT64' },
        { name: 'y', columns: ['a'], datatype: 'FLOAT99' },
      ]),
    );
    assert.ok(e.problems.some((p) => /1\.5 is not an integer/.test(p.message)));
    assert.ok(e.problems.some((p) => /unknown datatype FLOAT99/.test(p.message)));
  });

  it('problems are capped at 20, with a count of the rest', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},x${i}`).join('\n');
    const f = file('many.csv', `a,b\n${rows}\n`);
    const e = await dataError(() => inputsOf(f, [{ name: 'x', columns: ['a', 'b'], datatype: 'FP32' }]));
    assert.equal(e.problems.length, 21);
    assert.match(e.problems[20].message, /… and 30 more problems/);
    assert.match(e.message, /50 problems/);
  });

  it('empty files and files with only a header', async () => {
    await dataError(() => loadDataset(file('empty.csv', '')));
    await dataError(() => loadDataset(file('header.csv', 'a,b\n')));
    await dataError(() => loadDataset(file('x.parquet', 'PAR1')));
  });
});

describe('row order and batches', () => {
  it('sequential / shuffle / sample are deterministic for a seed', async () => {
    assert.deepEqual(Array.from(rowOrder(5, 'sequential', 1)), [0, 1, 2, 3, 4]);
    const s1 = Array.from(rowOrder(100, 'shuffle', 1));
    assert.deepEqual(s1, Array.from(rowOrder(100, 'shuffle', 1)));
    assert.notDeepEqual(s1, Array.from(rowOrder(100, 'shuffle', 2)));
    assert.deepEqual(
      [...s1].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
    const smp = Array.from(rowOrder(100, 'sample', 3));
    assert.ok(new Set(smp).size < 100, 'with replacement');
    assert.deepEqual(smp, Array.from(rowOrder(100, 'sample', 3)));
  });

  it('shards walk disjoint batches that together cover every row once per cycle', async () => {
    for (const count of [1, 2, 3, 4]) {
      const seen: number[] = [];
      for (let k = 0; k < count; k++) {
        const t = buildBatchTable(24, {
          order: 'shuffle',
          batch: { min: 2, max: 2 },
          seed: 9,
          shard: { index: k, count },
        });
        for (let s = 0; s < 12 / count; s++) seen.push(...t.rows(t.batchOf(s)));
      }
      assert.deepEqual(
        seen.sort((a, b) => a - b),
        Array.from({ length: 24 }, (_, i) => i),
        `count ${count}`,
      );
    }
  });

  it('batch sizes uniform in [min, max]; the last batch wraps to stay full', async () => {
    const t = buildBatchTable(100, {
      order: 'sequential',
      batch: { min: 2, max: 5 },
      seed: 4,
      shard: { index: 0, count: 1 },
    });
    const sizes = Array.from({ length: t.count }, (_, i) => t.rows(i).length);
    assert.ok(sizes.every((s) => s >= 2 && s <= 5));
    assert.ok(new Set(sizes).size > 1);
    const w = buildBatchTable(5, {
      order: 'sequential',
      batch: { min: 2, max: 2 },
      seed: 4,
      shard: { index: 0, count: 1 },
    });
    assert.deepEqual(Array.from(w.rows(2)), [4, 0]);
  });
});

describe('synthetic inputs and payloads', () => {
  it('shaped after metadata, seeded, typed', async () => {
    const a = syntheticTensor(
      { name: 'x', datatype: 'FP32', shape: [-1, 8, 8] },
      { distribution: 'uniform', low: 0, high: 16 },
      5,
    );
    const b = syntheticTensor(
      { name: 'x', datatype: 'FP32', shape: [-1, 8, 8] },
      { distribution: 'uniform', low: 0, high: 16 },
      5,
    );
    assert.equal(a.width, 64);
    assert.deepEqual(a.rowShape, [8, 8]);
    assert.deepEqual(Array.from(a.data as Float64Array), Array.from(b.data as Float64Array));
    assert.ok(Array.from(a.data as Float64Array).every((v) => v >= 0 && v < 16));
    const n = syntheticTensor(
      { name: 'y', datatype: 'INT64', shape: [-1, 4] },
      { distribution: 'normal', mean: 10, std: 2 },
      5,
    );
    const vals = Array.from(n.data as Float64Array);
    assert.ok(vals.every((v) => Number.isInteger(v)));
    const mean = vals.reduce((x, y) => x + y, 0) / vals.length;
    assert.ok(Math.abs(mean - 10) < 1, `mean ${mean}`);
  });

  it('payload sweep: N floats per body', async () => {
    assert.equal(floatPayload(10, 1).length, 10);
    const sweep = payloadSweep([1, 100, 10000]);
    for (const s of sweep) {
      const b = JSON.parse(s.body.toString());
      assert.equal(b.inputs[0].data.length, s.floats);
      assert.deepEqual(b.inputs[0].shape, [1, s.floats]);
    }
    assert.ok(sweep[2].bytes > sweep[1].bytes * 50);
  });
});

describe('JSON helpers', () => {
  it('tolerant parse of bare NaN / Infinity / -Infinity outside strings only', async () => {
    const v = parseJsonTolerant('{"p":[NaN, Infinity, -Infinity, 1], "s":"NaN Infinity"}') as {
      p: Array<number | null>;
      s: string;
    };
    assert.deepEqual(v.p, [null, Infinity, -Infinity, 1]);
    assert.equal(v.s, 'NaN Infinity');
    assert.throws(() => parseJsonTolerant('{"a": nope}'));
  });

  it('JSON path subset', async () => {
    const doc = {
      outputs: [
        { name: 'a', data: [1, 2] },
        { name: 'b', data: [3] },
      ],
      'odd key': 1,
    };
    assert.deepEqual(evalJsonPath(doc, compileJsonPath('$.outputs[0].data')), [1, 2]);
    assert.deepEqual(evalJsonPath(doc, compileJsonPath('$.outputs[-1].name')), 'b');
    assert.deepEqual(evalJsonPath(doc, compileJsonPath('$.outputs[*].name')), ['a', 'b']);
    assert.equal(evalJsonPath(doc, compileJsonPath("$['odd key']")), 1);
    assert.equal(evalJsonPath(doc, compileJsonPath('$.outputs[5]')), MISSING);
    assert.throws(() => compileJsonPath('outputs'));
  });
});

describe('predictions', () => {
  it('argmax, label dicts, regression, empty and malformed', async () => {
    assert.equal(argmax([0.1, 0.7, 0.2]), 1);
    assert.deepEqual(predictionOf([0.1, 0.7, 0.2], 'classification'), { kind: 'value', value: 1 });
    assert.deepEqual(predictionOf([[0.1, 0.2, 0.9]], 'classification'), { kind: 'value', value: 2 });
    assert.deepEqual(predictionOf({ cat: 0.2, dog: 0.8 }, 'classification'), { kind: 'value', value: 'dog' });
    assert.deepEqual(predictionOf('7', 'classification'), { kind: 'value', value: '7' });
    assert.deepEqual(predictionOf([3.5], 'regression'), { kind: 'value', value: 3.5 });
    assert.deepEqual(predictionOf([], 'classification'), { kind: 'empty' });
    assert.deepEqual(predictionOf([{ a: 'x' }, 1], 'classification'), { kind: 'malformed' });
    assert.equal(maxAbsDiff([1, 2], [1, 2.5]), 0.5);
    assert.equal(maxAbsDiff([1], [1, 2]), Infinity);
  });
});

describe('prompt datasets', () => {
  it('prompt or messages, max_tokens; chat/completions conversion; bad rows reported', async () => {
    const ds = await loadDataset(
      file('p.jsonl', '{"prompt":"hi","max_tokens":5}\n{"messages":[{"role":"user","content":"yo"}]}\n'),
    );
    const problems = new ProblemList();
    const chat = loadPrompts(ds, 'chat', problems);
    assert.deepEqual(chat[0], { messages: [{ role: 'user', content: 'hi' }], maxTokens: 5 });
    const comp = loadPrompts(ds, 'completions', problems);
    assert.deepEqual(comp[1], { prompt: 'yo' });
    assert.equal(problems.size, 0);
    const bad = await loadDataset(file('pb.jsonl', '{"prompt":"a","max_tokens":-1}\n{"messages":"x"}\n{"other":1}\n'));
    loadPrompts(bad, 'chat', problems);
    assert.equal(problems.size, 3);
    assert.throws(
      () => problems.throwIfAny(),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_DATA_INVALID',
    );
  });
});

describe('golden files across shards', () => {
  it('each shard writes a part; the last one merges them (sorted, parts removed)', async () => {
    const { writeGoldenShard, readGolden } = await import('./quality.js');
    const { readdirSync } = await import('node:fs');
    const f = join(dir, 'g', 'golden.jsonl');
    assert.equal(
      await writeGoldenShard(
        f,
        { index: 1, count: 2 },
        new Map([
          [3, [0.5, 1]],
          [1, [2, NaN]],
        ]),
      ),
      false,
    );
    assert.equal(
      await writeGoldenShard(
        f,
        { index: 0, count: 2 },
        new Map([
          [0, [1]],
          [2, [2]],
        ]),
      ),
      true,
    );
    const g = readGolden(f);
    assert.deepEqual([...g.keys()], [0, 1, 2, 3]);
    assert.deepEqual(Array.from(g.get(3)!), [0.5, 1]);
    assert.ok(Number.isNaN(g.get(1)![1]));
    assert.deepEqual(readdirSync(join(dir, 'g')), ['golden.jsonl']);
    const bad = file('badgolden.jsonl', '{"row":0,"output":[1]}\n{"row":"x"}\nnope\n');
    const e = await dataError(() => readGolden(bad));
    assert.deepEqual(
      e.problems.map((p) => p.line),
      [2, 3],
    );
  });
});

describe('golden files: non-finite outputs', () => {
  it('an output of ±Infinity survives save and read, so a run agrees with its own golden file', async () => {
    const { writeGoldenShard, readGolden, maxAbsDiff } = await import('./quality.js');
    const f = join(dir, 'ginf', 'golden.jsonl');
    await writeGoldenShard(f, { index: 0, count: 1 }, new Map([[0, [1, Infinity, -Infinity, NaN]]]));
    const g = readGolden(f).get(0)!;
    assert.deepEqual(Array.from(g).slice(0, 3), [1, Infinity, -Infinity]);
    assert.ok(Number.isNaN(g[3]));
    assert.equal(maxAbsDiff([1, Infinity, -Infinity, NaN], g), 0);
    // and across shards (parts merged)
    const f2 = join(dir, 'ginf2', 'golden.jsonl');
    assert.equal(await writeGoldenShard(f2, { index: 1, count: 2 }, new Map([[1, [Infinity]]])), false);
    assert.equal(await writeGoldenShard(f2, { index: 0, count: 2 }, new Map([[0, [-Infinity]]])), true);
    const g2 = readGolden(f2);
    assert.deepEqual(Array.from(g2.get(1)!), [Infinity]);
    assert.deepEqual(Array.from(g2.get(0)!), [-Infinity]);
  });
});
