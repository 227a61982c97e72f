/**
 * Field diff of two JSON values for shadow comparisons: walks both at once and reports each
 * differing JSON path once (`$.a.b[3]`, `$['odd key']`). Runs on the sending thread, so it does not
 * flatten either side into a map: it walks the two values together and builds a path string only
 * where they differ.
 *
 * - Numbers are equal within the tolerance: |a − b| ≤ absolute OR |a − b| ≤ relative × max(|a|, |b|).
 * - Arrays longer than ARRAY_INDEX_LIMIT (on either side) are one field `[*]`: elements are compared
 *   pairwise and any difference (or a different length) is one difference of `…[*]…`, so the number
 *   of paths stays bounded however long the arrays are.
 * - Ignore patterns are paths with `*` (any key) and `[*]` (any index); a pattern also ignores
 *   everything below the path it matches (`$.meta` ignores `$.meta.ts`).
 */

export type DiffKind = 'value' | 'missing' | 'added' | 'type';

/** Called once per differing path: `a` and `b` are the two sides' values there (undefined = absent). */
export type DiffSink = (path: string, kind: DiffKind, a: unknown, b: unknown) => void;

/** Arrays with more elements than this are compared as one field `[*]`. */
export const ARRAY_INDEX_LIMIT = 32;
/** Deeper than this, a subtree is compared as a whole (one path): bounds recursion. */
const MAX_DEPTH = 48;
/** Bound of the distinct paths remembered (with their text and whether they are ignored). */
const PATH_NODE_LIMIT = 8192;

/** Keys written with a dot: letters (any script), digits and `_`, not starting with a digit. */
const IDENT = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/** A key as a path segment: `.name`, or `['odd key']` (with `\` and `'` escaped). */
export function keySegment(key: string): string {
  return IDENT.test(key) ? `.${key}` : `['${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A path pattern (`$.a.*.b[*]`, `$['x y'][2]`) as a regular expression matching a path or any path
 * below it; throws an Error saying what is wrong for a malformed pattern.
 */
export function compilePathPattern(pattern: string): RegExp {
  if (!pattern.startsWith('$')) throw new Error(`path pattern "${pattern}" must start with "$" (e.g. "$.id")`);
  let re = '^\\$';
  let i = 1;
  while (i < pattern.length) {
    const rest = pattern.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\.\*/.exec(rest)) || (m = /^\['\*'\]/.exec(rest))) {
      // Any one key, in either notation.
      re += `(?:\\.[\\p{L}_][\\p{L}\\p{N}_]*|\\['(?:[^'\\\\]|\\\\.)*'\\])`;
    } else if ((m = /^\.([\p{L}_][\p{L}\p{N}_]*)/u.exec(rest))) {
      re += escapeRe(keySegment(m[1]));
    } else if ((m = /^\['((?:[^'\\]|\\.)*)'\]/.exec(rest)) || (m = /^\["((?:[^"\\]|\\.)*)"\]/.exec(rest))) {
      re += escapeRe(keySegment(m[1].replace(/\\(.)/g, '$1')));
    } else if ((m = /^\[\*\]/.exec(rest))) {
      re += '\\[(?:\\d+|\\*)\\]';
    } else if ((m = /^\[(\d+)\]/.exec(rest))) {
      re += `\\[${m[1]}\\]`;
    } else {
      throw new Error(
        `path pattern "${pattern}": cannot read "${rest}" at character ${i + 1} (use .key, ['key'], [3], .* or [*])`,
      );
    }
    i += m[0].length;
  }
  return new RegExp(`${re}(?=$|[.[])`, 'u');
}

type Tolerance = { absolute: number; relative: number };

export function numbersEqual(x: number, y: number, tol: Tolerance): boolean {
  if (x === y) return true;
  const d = Math.abs(x - y);
  return d <= tol.absolute || d <= tol.relative * Math.max(Math.abs(x), Math.abs(y));
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Equality of two JSON values without recursion (for subtrees deeper than MAX_DEPTH). */
function deepEqual(a: unknown, b: unknown, tol: Tolerance): boolean {
  const todo: unknown[] = [a, b];
  while (todo.length > 0) {
    const y = todo.pop();
    const x = todo.pop();
    if (x === y) continue;
    const t = typeOf(x);
    if (t !== typeOf(y)) return false;
    if (t === 'number') {
      if (!numbersEqual(x as number, y as number, tol)) return false;
    } else if (t === 'array') {
      const xa = x as unknown[];
      const ya = y as unknown[];
      if (xa.length !== ya.length) return false;
      for (let i = 0; i < xa.length; i++) todo.push(xa[i], ya[i]);
    } else if (t === 'object') {
      const xo = x as Record<string, unknown>;
      const yo = y as Record<string, unknown>;
      if (Object.keys(xo).length !== Object.keys(yo).length) return false;
      for (const k in xo) {
        if (!hasOwn.call(yo, k)) return false;
        todo.push(xo[k], yo[k]);
      }
    } else return false;
  }
  return true;
}

/** A path seen before: its text and whether it is ignored, computed once (a trie over segments). */
interface PathNode {
  path: string;
  ignored: boolean;
  children: Map<string | number, PathNode> | null;
}

export class FieldDiffer {
  private readonly ignore: RegExp[];
  private readonly root: PathNode = { path: '$', ignored: false, children: null };
  private nodes = 1;
  /** The path being walked: keys (strings), indices (numbers), -1 for `[*]`. */
  private readonly stack: Array<string | number> = [];
  /** Paths reported by the current diff() (collapsed arrays map several elements to one path). */
  private readonly seen = new Set<string>();
  private sink: DiffSink = () => {};

  constructor(
    ignore: readonly string[],
    private readonly tolerance: Tolerance,
    private readonly arrayLimit = ARRAY_INDEX_LIMIT,
  ) {
    this.ignore = ignore.map(compilePathPattern);
    this.root.ignored = this.ignored('$');
  }

  /** Whether a path (or one of its ancestors) is on the ignore list. */
  ignored(path: string): boolean {
    for (const re of this.ignore) if (re.test(path)) return true;
    return false;
  }

  /** Reports every path where `a` and `b` differ to `sink`, each path once. */
  diff(a: unknown, b: unknown, sink: DiffSink): void {
    this.sink = sink;
    if (this.seen.size > 0) this.seen.clear();
    this.stack.length = 0;
    this.walk(a, b, 0);
  }

  /**
   * The current path's node: built once per distinct path, so a difference seen on every request
   * costs a few map look-ups, not string building and pattern tests. Beyond PATH_NODE_LIMIT nodes
   * (keys that never repeat), the path is built and tested each time.
   */
  private node(): PathNode {
    let n = this.root;
    for (let i = 0; i < this.stack.length; i++) {
      const seg = this.stack[i];
      let child = n.children?.get(seg);
      if (child === undefined) {
        const path = n.path + (typeof seg === 'string' ? keySegment(seg) : seg < 0 ? '[*]' : `[${seg}]`);
        child = { path, ignored: n.ignored || this.ignored(path), children: null };
        if (this.nodes < PATH_NODE_LIMIT) {
          this.nodes++;
          (n.children ??= new Map()).set(seg, child);
        }
      }
      if (child.ignored) return child;
      n = child;
    }
    return n;
  }

  private emit(kind: DiffKind, a: unknown, b: unknown): void {
    const node = this.node();
    if (node.ignored) return;
    const path = node.path;
    if (this.seen.has(path)) return;
    this.seen.add(path);
    this.sink(path, kind, a, b);
  }

  private walk(a: unknown, b: unknown, depth: number): void {
    if (a === b) return;
    const ta = typeOf(a);
    if (ta !== typeOf(b)) return this.emit('type', a, b);
    if (ta === 'number') {
      if (!numbersEqual(a as number, b as number, this.tolerance)) this.emit('value', a, b);
      return;
    }
    if (ta !== 'array' && ta !== 'object') return this.emit('value', a, b);
    if (depth >= MAX_DEPTH) {
      if (!deepEqual(a, b, this.tolerance)) this.emit('value', a, b);
      return;
    }
    const st = this.stack;
    if (ta === 'array') {
      const x = a as unknown[];
      const y = b as unknown[];
      const common = Math.min(x.length, y.length);
      if (x.length > this.arrayLimit || y.length > this.arrayLimit) {
        st.push(-1);
        for (let i = 0; i < common; i++) this.walk(x[i], y[i], depth + 1);
        if (x.length > y.length) this.emit('missing', x[common], undefined);
        else if (y.length > x.length) this.emit('added', undefined, y[common]);
        st.pop();
        return;
      }
      for (let i = 0; i < common; i++) {
        st.push(i);
        this.walk(x[i], y[i], depth + 1);
        st.pop();
      }
      for (let i = common; i < x.length; i++) {
        st.push(i);
        this.emit('missing', x[i], undefined);
        st.pop();
      }
      for (let i = common; i < y.length; i++) {
        st.push(i);
        this.emit('added', undefined, y[i]);
        st.pop();
      }
      return;
    }
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    for (const k in x) {
      st.push(k);
      if (hasOwn.call(y, k)) this.walk(x[k], y[k], depth + 1);
      else this.emit('missing', x[k], undefined);
      st.pop();
    }
    for (const k in y) {
      if (hasOwn.call(x, k)) continue;
      st.push(k);
      this.emit('added', undefined, y[k]);
      st.pop();
    }
  }
}
