/**
 * The rules docs/ARCHITECTURE.md states, as data, for test/architecture.test.ts and
 * test/package.test.ts: which src/ folder may import which, and which modules under src/ are
 * test-only (tests and their support code live beside the code they test, but are not published
 * and no shipped module may import them).
 */

/** Everything that may import anything (except each other): the CLI and the library root. */
const ALL = [
  'core',
  'plan',
  'pacing',
  'metrics',
  'stats',
  'model',
  'data',
  'verdict',
  'comparison',
  'faults',
  'monitor',
  'cost',
  'report',
  'protocols',
  'checks',
  'engine',
  'run',
  'profiles',
  'scale',
  'server',
  'k8s',
];

/** What run() may import: the engine's list plus the engine, the verdict, the fault proxy, target metrics, checks and the cost model. */
const RUN_IMPORTS = [
  'core',
  'plan',
  'pacing',
  'metrics',
  'stats',
  'data',
  'protocols',
  'engine',
  'verdict',
  'comparison',
  'faults',
  'monitor',
  'checks',
  'cost',
];

/**
 * Folder (first path segment under src/; `index` is src/index.ts) → the other folders its modules
 * may import. Acyclic, lowest layer first. Changing it is an architecture change: update
 * docs/ARCHITECTURE.md in the same commit.
 */
export const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  plan: ['core'],
  pacing: ['core'],
  metrics: ['core'],
  stats: ['core'],
  model: ['core'],
  data: ['core', 'plan'],
  verdict: ['core', 'plan', 'metrics', 'stats'],
  // Reports are built from a results folder alone, never from a live run.
  report: ['core', 'plan', 'metrics', 'stats'],
  // Release comparisons judge variants' metrics (A/B, canary, shadow); run() calls them.
  comparison: ['core', 'plan', 'metrics', 'stats'],
  // The fault proxy (TCP toxics, HTTP faults) is a system of its own beside the target: it shares only contracts.
  faults: ['core'],
  // Target metrics (Prometheus scrapes and queries, alerts, replicas): read beside the load, never on its thread.
  monitor: ['core', 'plan', 'metrics', 'stats'],
  // The cost model: pure arithmetic on what a run measured (src/cost); run() and the capacity profile call it.
  cost: ['core', 'stats'],
  // Adapters build requests and judge responses; sending them is the engine's job.
  protocols: ['core', 'plan', 'metrics', 'stats', 'data'],
  engine: ['core', 'plan', 'pacing', 'metrics', 'stats', 'data', 'protocols', 'comparison'],
  // Assumption checks (preflight check): quick probes of the target before any load; run() and the CLI run them.
  checks: ['core', 'plan', 'metrics', 'stats', 'data', 'protocols', 'comparison', 'monitor'],
  run: RUN_IMPORTS,
  profiles: [...RUN_IMPORTS, 'run'],
  // Scale-out: the coordinator is run() with remote shards; workers run the engine's shards and publish windows.
  scale: [...RUN_IMPORTS, 'run'],
  // The reference server is the system under test: it shares no code with the load generator.
  server: ['core', 'model'],
  // Kubernetes manifests of a scale-out run: the plan and the files it references, nothing of the engine.
  k8s: ['core', 'plan', 'data'],
  cli: ALL,
  index: ALL,
};

/**
 * Test-only modules, as paths relative to src/ (or dist/src/), any extension (.ts, .js, .d.ts,
 * .js.map). package.json `files` excludes the same set from the published package.
 */
const TEST_ONLY: readonly RegExp[] = [
  /\.test\.[^/]+$/, // tests: x.test.ts, x.browser.test.ts
  /(^|\/)testing(\/|\.[^/]+$)/, // testing/ folders and testing.ts helper modules
  /(^|\/)test-[^/]+$/, // test-support.ts, test-servers.ts
  /^report\/fixtures\//, // committed report fixtures and their generator
  /^report\/synth-run\.[^/]+$/, // synthetic results folders, for the report tests and fixtures only
];

export function isTestOnly(pathUnderSrc: string): boolean {
  const p = pathUnderSrc.replaceAll('\\', '/');
  return TEST_ONLY.some((re) => re.test(p));
}

export interface ImportRef {
  specifier: string;
  /** 1-based line of the specifier. */
  line: number;
  kind: 'static' | 'dynamic' | 'url';
}

/**
 * Module references in a TypeScript source: static imports and re-exports (`import type` too),
 * side-effect imports, `import('…')` (dynamic imports and type queries), and
 * `new URL('./x.js', import.meta.url)` (worker and model-module entries). Comments are ignored;
 * computed specifiers cannot be seen.
 */
export function scanImports(source: string): ImportRef[] {
  const code = blankComments(source);
  const patterns: [RegExp, ImportRef['kind']][] = [
    [/^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])([^'"\n]+)\1/gm, 'static'],
    [/^[ \t]*import\s*(['"])([^'"\n]+)\1/gm, 'static'],
    [/\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*[,)]/g, 'dynamic'],
    [/\bnew\s+URL\s*\(\s*(['"])(\.{1,2}\/[^'"\n]*\.js)\1\s*,\s*import\.meta\.url\s*\)/g, 'url'],
  ];
  const refs: ImportRef[] = [];
  for (const [re, kind] of patterns) {
    for (const m of code.matchAll(re)) {
      const at = m.index + m[0].lastIndexOf(m[2]);
      refs.push({ specifier: m[2], line: lineOf(code, at), kind });
    }
  }
  return refs.sort((a, b) => a.line - b.line);
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The source with every comment replaced by spaces (newlines kept, so lines still match). Strings,
 * template literals (with nested `${…}`) and regular-expression literals are skipped over, so a
 * `//` or `/*` inside them is not taken for a comment.
 */
export function blankComments(src: string): string {
  const out: string[] = [];
  // One entry per open `${` of a template literal: the `{` depth inside it.
  const templateDepth: number[] = [];
  let prev = ''; // last significant code character, to tell a regex literal from a division
  let i = 0;
  const n = src.length;
  const copyTo = (j: number) => {
    out.push(src.slice(i, j));
    i = j;
  };
  const template = () => {
    // i is just after a backtick or a closing `}` of `${…}`: copy up to the closing backtick or the next `${`.
    let j = i;
    while (j < n) {
      if (src[j] === '\\') j += 2;
      else if (src[j] === '`') {
        copyTo(j + 1);
        prev = '`';
        return;
      } else if (src[j] === '$' && src[j + 1] === '{') {
        copyTo(j + 2);
        templateDepth.push(0);
        prev = '{';
        return;
      } else j++;
    }
    copyTo(n);
  };
  while (i < n) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      let j = i;
      while (j < n && src[j] !== '\n') j++;
      out.push(' '.repeat(j - i));
      i = j;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const j = end < 0 ? n : end + 2;
      out.push(src.slice(i, j).replace(/[^\n]/g, ' '));
      i = j;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      copyTo(Math.min(j + 1, n));
      prev = c;
    } else if (c === '`') {
      copyTo(i + 1);
      template();
    } else if (
      c === '/' &&
      (prev === '' ||
        '(,=:[!&|?{};+-*%<>~^'.includes(prev) ||
        /\b(return|typeof|case|of|in|yield|await)\s*$/.test(src.slice(Math.max(0, i - 12), i)))
    ) {
      // A regular-expression literal: up to the closing `/` outside a character class, then its flags.
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== '\n') {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        else if (src[j] === '/' && !inClass) break;
        j++;
      }
      j++;
      while (j < n && /[a-z]/i.test(src[j])) j++;
      copyTo(Math.min(j, n));
      prev = '/';
    } else if (c === '{' && templateDepth.length > 0) {
      templateDepth[templateDepth.length - 1]++;
      copyTo(i + 1);
      prev = c;
    } else if (c === '}' && templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === 0) {
      templateDepth.pop();
      copyTo(i + 1);
      template();
    } else {
      if (c === '}' && templateDepth.length > 0) templateDepth[templateDepth.length - 1]--;
      if (!/\s/.test(c)) prev = c;
      copyTo(i + 1);
    }
  }
  return out.join('');
}
