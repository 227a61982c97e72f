/**
 * The JSON path subset of plan files (checks, quality.prediction.path): compiled at validation so
 * a bad path is reported with its line and column; evaluated by src/data/json.ts.
 */

/** One step of a JSON path: an object key, an array index (negative counts from the end), or `[*]`. */
export type PathStep = { key: string } | { index: number } | { all: true };

/**
 * Compiles a JSON path of the subset `$`, `.key`, `['key']`, `["key"]`, `[0]`, `[-1]`, `[*]`.
 * Throws Error with a readable message on bad syntax.
 */
export function compileJsonPath(path: string): PathStep[] {
  const p = path.trim();
  if (!p.startsWith('$')) throw new Error(`JSON path must start with "$": ${path}`);
  const steps: PathStep[] = [];
  let i = 1;
  while (i < p.length) {
    const c = p[i];
    if (c === '.') {
      let j = i + 1;
      while (j < p.length && p[j] !== '.' && p[j] !== '[') j++;
      const key = p.slice(i + 1, j);
      if (!key) throw new Error(`empty key in JSON path at ${i}: ${path}`);
      steps.push(key === '*' ? { all: true } : { key });
      i = j;
    } else if (c === '[') {
      const close = p.indexOf(']', i);
      if (close < 0) throw new Error(`unclosed "[" in JSON path: ${path}`);
      const inner = p.slice(i + 1, close).trim();
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ key: inner.slice(1, -1) });
      else throw new Error(`bad subscript [${inner}] in JSON path: ${path}`);
      i = close + 1;
    } else {
      throw new Error(`unexpected "${c}" at ${i} in JSON path: ${path}`);
    }
  }
  return steps;
}
