import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, PreflightError } from '../core/errors.js';
import { CsvParser, parseCsv } from './csv.js';
import type { CsvRecord } from './csv.js';
import { loadDataset } from './dataset.js';
import { readTextChunks } from './read.js';
import { buildTensorInputs } from './tensors.js';

const dir = mkdtempSync(join(tmpdir(), 'preflight-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

async function rejects(p: Promise<unknown>): Promise<PreflightError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PreflightError, String(e));
    return e;
  }
  assert.fail('expected a PreflightError');
}

describe('streamed CSV', () => {
  it('records come out the same whatever the chunk boundaries (quotes, doubled quotes, CRLF, newlines in quotes)', () => {
    const text = '\ufeffa,b,c\r\n"x, y","say ""hi""",3\r\n\r\n"multi\nline",,"q"\n1,2,3';
    const whole: CsvRecord[] = [];
    parseCsv(text, (r) => whole.push(r));
    assert.equal(whole.length, 4);
    assert.deepEqual(whole[1].cells, ['x, y', 'say "hi"', '3']);
    assert.deepEqual(whole[2], { line: 4, cells: ['multi\nline', '', 'q'] });
    for (let size = 1; size <= 7; size++) {
      const got: CsvRecord[] = [];
      const p = new CsvParser((r) => got.push(r));
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      p.end();
      assert.deepEqual(got, whole, `chunks of ${size}`);
    }
  });

  it('a multi-byte character split across reads is UTF-8; an invalid byte is located at line:column', async () => {
    const ok = file('utf8.csv', 'name,v\n' + 'é'.repeat(40) + ',1\n');
    let text = '';
    assert.equal(await readTextChunks(ok, (t) => (text += t), { chunkBytes: 17 }), null);
    assert.equal(text, 'name,v\n' + 'é'.repeat(40) + ',1\n');
    const bad = file(
      'latin1.csv',
      Buffer.concat([Buffer.from('name,v\nabc,1\nxy'), Buffer.from([0xe9]), Buffer.from(',2\n')]),
    );
    const p = await readTextChunks(bad, () => {}, { chunkBytes: 16 });
    assert.equal(p?.line, 3);
    assert.equal(p?.column, 3);
    assert.match(p!.message, /not UTF-8 text \(byte 0xe9 at byte 15\)/);
    const e = await rejects(loadDataset(bad));
    assert.ok(e instanceof DataError);
    assert.equal(e.problems[0].line, 3);
  });

  it('a column that turns to text after numbers keeps every cell as written', async () => {
    const ds = await loadDataset(file('mixed.csv', 'id,x\n1.50,1\n007,2\nA3,3\n'), undefined, { chunkBytes: 16 });
    const id = ds.columns.get('id')!;
    assert.equal(id.kind, 'string');
    assert.deepEqual(id.values, ['1.50', '007', 'A3']);
    assert.equal(ds.columns.get('x')!.kind, 'number');
  });

  it('numbers keep full precision: Float32Array only when every value is exactly a float32', async () => {
    const ds = await loadDataset(file('prec.csv', 'small,fine\n1,0.1\n2.5,123456789.123\n-3,1e-300\n'));
    const small = ds.columns.get('small')!;
    const fine = ds.columns.get('fine')!;
    assert.ok(small.values instanceof Float32Array);
    assert.deepEqual(Array.from(small.values as Float32Array), [1, 2.5, -3]);
    assert.ok(fine.values instanceof Float64Array);
    assert.deepEqual(Array.from(fine.values as Float64Array), [0.1, 123456789.123, 1e-300]);
    const [t] = buildTensorInputs(
      ds,
      { inputs: [{ name: 'x', columns: ['small', 'fine'], datatype: 'FP64' }] },
      ds.problems,
    );
    assert.deepEqual(Array.from(t.data as Float64Array), [1, 0.1, 2.5, 123456789.123, -3, 1e-300]);
  });

  it('a ~5 MB generated file loads exactly (row count, sums, lines), in small reads', async () => {
    const cols = 16;
    const rows = 30_000;
    const lines = [Array.from({ length: cols }, (_, k) => `p${k}`).join(',') + ',label'];
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const cells: string[] = [];
      for (let k = 0; k < cols; k++) {
        const v = ((r * 31 + k * 7) % 1000) / 8;
        sum += v;
        cells.push(v.toFixed(3));
      }
      lines.push(cells.join(',') + `,${r % 10}`);
    }
    const f = file('big.csv', lines.join('\n') + '\n');
    const ds = await loadDataset(f, undefined, { chunkBytes: 64 * 1024 });
    assert.equal(ds.rowCount, rows);
    assert.equal(ds.problems.size, 0);
    const [t] = buildTensorInputs(ds, { label: 'label' }, ds.problems);
    assert.equal(t.width, cols);
    let got = 0;
    for (const v of t.data as Float64Array) got += v;
    assert.ok(Math.abs(got - sum) < 1e-6 * sum, `${got} vs ${sum}`);
    assert.equal(ds.line(rows - 1), rows + 1);
  });

  it('an aborted signal stops the load (exit 130)', async () => {
    const f = file('abort.csv', 'a\n' + '1\n'.repeat(10_000));
    const ac = new AbortController();
    ac.abort();
    const e = await rejects(loadDataset(f, undefined, { signal: ac.signal, chunkBytes: 1024 }));
    assert.equal(e.exitCode, 130);
  });

  it('wrong-width rows are reported once; their cells are not reported again as non-numbers', async () => {
    const ds = await loadDataset(file('w.csv', 'a,b\n1,2\n3\n4,x\n'));
    const inputs = buildTensorInputs(
      ds,
      { inputs: [{ name: 'in', columns: ['a', 'b'], datatype: 'FP32' }] },
      ds.problems,
    );
    assert.equal(inputs.length, 0);
    const msgs = ds.problems.list().map((p) => `${p.line}: ${p.message}`);
    assert.deepEqual(msgs, ['3: row 2 has 1 cell, header has 2', '4: row 3, column "b": "x" is not a number']);
  });
});
