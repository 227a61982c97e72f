/**
 * What `npm publish` would ship (package.json `files`), from `npm pack --dry-run --json`: no tests
 * or test support, and every module the CLI and the library load. Needs a built dist/ (npm test
 * builds first); runs offline and without lifecycle scripts (no rebuild under the running tests).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTestOnly, scanImports } from './helpers/source-rules.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface PackResult {
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

let pack: PackResult;
let files: Set<string>;

before(() => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  [pack] = JSON.parse(out) as PackResult[];
  files = new Set(pack.files.map((f) => f.path));
  console.log(`npm pack: ${pack.entryCount} files, ${pack.size} bytes packed, ${pack.unpackedSize} unpacked`);
});

test('the package holds no tests, test support or fixtures', () => {
  const leaked = [...files].filter((f) => {
    if (/^(dist\/(test|bench)|src|test)\//.test(f)) return true;
    return f.startsWith('dist/src/') && isTestOnly(f.slice('dist/src/'.length));
  });
  assert.deepEqual(
    leaked,
    [],
    'add a negation to package.json "files" (and the pattern to isTestOnly in test/helpers/source-rules.ts)',
  );
});

test('the package holds the CLI, the library entry points and the reference models', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
    main: string;
    types: string;
    exports: Record<string, Record<string, string>>;
  };
  const entries = [
    ...Object.values(manifest.bin),
    manifest.main,
    manifest.types,
    ...Object.values(manifest.exports).flatMap((e) => Object.values(e)),
  ];
  for (const entry of entries) assert.ok(files.has(path.posix.normalize(entry)), `${entry} is packed`);
  const models = fs.readdirSync(path.join(root, 'models'));
  assert.ok(
    models.includes('models.json') && models.some((m) => m.endsWith('.onnx')),
    'models/ has the manifest and ONNX files',
  );
  for (const m of models) assert.ok(files.has(`models/${m}`), `models/${m} is packed`);
});

test('every module a packed module imports is packed too', () => {
  const missing: string[] = [];
  const modules = [...files].filter((f) => f.startsWith('dist/src/') && (f.endsWith('.js') || f.endsWith('.d.ts')));
  assert.ok(modules.length > 100, `only ${modules.length} modules packed`);
  for (const f of modules) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    for (const ref of scanImports(text)) {
      if (!ref.specifier.startsWith('.')) continue;
      let target = path.posix.normalize(path.posix.join(path.posix.dirname(f), ref.specifier));
      // A declaration file's `./x.js` means `./x.d.ts`.
      if (f.endsWith('.d.ts')) target = target.replace(/\.js$/, '.d.ts');
      if (!files.has(target)) missing.push(`${f}:${ref.line} → ${target}`);
    }
  }
  assert.deepEqual(missing, [], 'a shipped module imports a file the package leaves out');
});
