/**
 * A small description language for the plan file's syntax. One description drives both:
 *   - the validator (`Walker`), which walks the YAML AST, converts units, interpolates `${VAR}`,
 *     and reports every problem with its line:column, path and a hint; and
 *   - the JSON Schema (`toJsonSchema`) printed by `preflight schema` for editor completion.
 * so the two cannot drift apart.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, Scalar } from 'yaml';
import type { Document, LineCounter } from 'yaml';
import type { Problem } from '../core/errors.js';
import { interpolate } from './secrets.js';
import type { Env } from './secrets.js';
import { closest, didYouMean } from './suggest.js';
import { DURATION_PATTERN, formatDuration, RATE_PATTERN, tryParseDuration, tryParseRate } from './units.js';
import type { UnitResult } from './units.js';
import { LIMIT_HINTS, LIMITS } from './limits.js';

/** Characters an HTTP header value must not hold (RFC 9110: no CTLs but HTAB). */
const HEADER_CTL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

interface Common {
  description?: string;
  /** Default, written in plan-file syntax (e.g. `'10s'`); converted like a value from the file. */
  default?: unknown;
}

export interface StringSpec extends Common {
  t: 'string';
  enum?: readonly string[];
  /** Other names people use for an enum value (e.g. k6 executor names) → hint. */
  enumHints?: Record<string, string>;
  /** JS regular expression the value must match, with the message/hint when it does not. */
  pattern?: RegExp;
  patternMessage?: string;
  patternHint?: string;
  nonEmpty?: boolean;
  /** Numbers and booleans are accepted and kept as written (e.g. `modelVersion: 2`); default true. */
  coerce?: boolean;
  /** An HTTP header value: no CR, LF, NUL or other control characters (checked after interpolation). */
  headerValue?: boolean;
}
export interface DurationSpec extends Common {
  t: 'duration';
  positive?: boolean /** ms */;
  min?: number;
  minHint?: string;
}
export interface RateSpec extends Common {
  t: 'rate';
  positive?: boolean;
}
export interface IntSpec extends Common {
  t: 'int';
  min?: number;
  max?: number;
  maxHint?: string;
}
export interface NumberSpec extends Common {
  t: 'number';
  min?: number;
  max?: number;
  exclusiveMin?: number;
}
export interface BoolSpec extends Common {
  t: 'bool';
  const?: boolean;
}
export type FieldSpec = Spec & {
  required?: boolean;
  /** This key is another name for `aliasOf` (e.g. `vus` for `concurrency`). */
  aliasOf?: string;
};
export interface ObjectSpec extends Common {
  t: 'object';
  /** What this mapping is, for messages: "scenario", "request", … */
  what: string;
  fields: Record<string, FieldSpec>;
  /** Hints for keys that other tools use (k6…), shown instead of "did you mean". */
  foreignKeys?: Record<string, string>;
  /** Keys matching this are extension fields, ignored (e.g. `x-defaults: &anchor …`). */
  extensionKeys?: RegExp;
  /** Extra JSON Schema keywords (if/then rules) merged into the generated schema. */
  schemaExtra?: Record<string, unknown>;
}
export interface MapSpec extends Common {
  t: 'map';
  what: string;
  values: Spec;
  keyPattern?: RegExp;
  keyMessage?: string;
  /** Lower-case keys (HTTP header names); duplicates after lower-casing are problems. */
  lowerCaseKeys?: boolean;
  minEntries?: number;
  emptyHint?: string;
}
export interface ArraySpec extends Common {
  t: 'array';
  items: Spec;
  minItems?: number;
  /** Keep `undefined` for invalid items so indices match the document (default: drop them). */
  keepHoles?: boolean;
}
/** A value whose accepted form depends on its YAML kind (e.g. `ready: /health` or `ready: false`). */
export interface UnionSpec extends Common {
  t: 'union';
  expected: string;
  string?: Spec;
  number?: Spec;
  bool?: Spec;
  map?: Spec;
  seq?: Spec;
}
/** Any YAML value (e.g. a JSON request body); strings in it are interpolated. */
export interface AnySpec extends Common {
  t: 'any';
}
/** Parsed by hand (e.g. a stage target, whose unit depends on the executor). */
export interface CustomSpec extends Common {
  t: 'custom';
  /** The default in resolved form (the `default` is shown in plan-file syntax, e.g. `5%`). */
  resolvedDefault?: unknown;
  schema: Record<string, unknown>;
  parse: (w: Walker, node: unknown, path: string) => unknown;
}
export type Spec =
  | StringSpec
  | DurationSpec
  | RateSpec
  | IntSpec
  | NumberSpec
  | BoolSpec
  | ObjectSpec
  | MapSpec
  | ArraySpec
  | UnionSpec
  | AnySpec
  | CustomSpec;

// biome-ignore lint/suspicious/noExplicitAny: raw plan values, checked by the walker
export type Raw = Record<string, any>;

/** Extends a path: `join('a', 'b')` → `a.b`; `join('a', 2)` → `a[2]`. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function parentPath(path: string): string | undefined {
  if (path === '') return undefined;
  const dot = path.lastIndexOf('.');
  const br = path.lastIndexOf('[');
  const cut = Math.max(dot, br);
  return cut <= 0 ? '' : path.slice(0, cut);
}

function expectedOf(spec: Spec): string {
  switch (spec.t) {
    case 'string':
      return spec.enum ? `one of ${spec.enum.map((e) => `\`${e}\``).join(', ')}` : 'a string';
    case 'duration':
      return 'a duration like `30s`';
    case 'rate':
      return 'a rate like `200/s`';
    case 'int':
      return spec.min !== undefined && spec.min >= 1
        ? 'a positive integer'
        : spec.min === 0
          ? 'an integer ≥ 0'
          : 'an integer';
    case 'number':
      return 'a number';
    case 'bool':
      return spec.const !== undefined ? `\`${spec.const}\`` : '`true` or `false`';
    case 'object':
      return `a mapping (${spec.what})`;
    case 'map':
      return `a mapping (${spec.what})`;
    case 'array':
      return 'a list';
    case 'union':
      return spec.expected;
    case 'any':
      return 'a value';
    case 'custom':
      return String(spec.schema['description'] ?? 'a value');
  }
}

interface Loc {
  line?: number;
  column?: number;
}

interface Entry {
  key: unknown;
  value: unknown;
}

const MAX_DEPTH = 64;

/**
 * Walks a YAML document against a Spec. Collects problems instead of throwing; invalid values come
 * back as `undefined` (their problem already recorded), so later checks can go on without cascading.
 */
export class Walker {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];
  readonly secrets = new Set<string>();
  /** Path → the YAML key and value nodes there, for locating later (semantic) problems. */
  readonly index = new Map<string, { key?: unknown; value?: unknown }>();
  /** Paths of keys present in the document (valid or not). */
  readonly present = new Set<string>();
  /** Paths a "did you mean" hint pointed at: no separate "missing" problem for those. */
  readonly suggested = new Set<string>();
  private depth = 0;

  constructor(
    readonly doc: Document,
    readonly lc: LineCounter,
    readonly file: string,
    readonly env: Env,
  ) {}

  // ---- locations and problems -------------------------------------------------------------

  locate(node: unknown): Loc {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (!range) return {};
    const { line, col } = this.lc.linePos(range[0]);
    return { line, column: col };
  }

  problem(node: unknown, path: string, message: string, hint?: string): void {
    this.problems.push(this.located(node, path, message, hint));
  }

  warn(node: unknown, path: string, message: string, hint?: string): void {
    this.warnings.push(this.located(node, path, message, hint));
  }

  private located(node: unknown, path: string, message: string, hint?: string) {
    return { file: this.file, ...this.locate(node), path: path || undefined, message, ...(hint ? { hint } : {}) };
  }

  /** The node to point at for `path`: its value (or key), else the nearest located ancestor. */
  nodeFor(path: string, prefer: 'key' | 'value' = 'value'): unknown {
    let p: string | undefined = path;
    while (p !== undefined) {
      const e = this.index.get(p);
      if (e) {
        const n = prefer === 'key' ? (e.key ?? e.value) : (e.value ?? e.key);
        if (n && (n as { range?: unknown }).range) return n;
      }
      p = parentPath(p);
      prefer = 'key';
    }
    return this.doc.contents;
  }

  problemAt(path: string, message: string, hint?: string, prefer: 'key' | 'value' = 'value'): void {
    this.problem(this.nodeFor(path, prefer), path, message, hint);
  }

  warnAt(path: string, message: string, hint?: string, prefer: 'key' | 'value' = 'value'): void {
    this.warn(this.nodeFor(path, prefer), path, message, hint);
  }

  has(path: string): boolean {
    return this.present.has(path);
  }

  // ---- YAML helpers ------------------------------------------------------------------------

  resolve(node: unknown): unknown {
    let n = node;
    for (let i = 0; i < 16 && isAlias(n); i++) n = n.resolve(this.doc);
    return n;
  }

  /** Entries of a mapping node, with `<<: *anchor` merges applied (explicit keys win). */
  entries(map: unknown): Entry[] {
    if (!isMap(map)) return [];
    const own: Entry[] = [];
    const merged: Entry[] = [];
    for (const item of map.items) {
      if (!isPair(item)) continue;
      const key = item.key;
      const kv = isScalar(key) ? key.value : key;
      if (kv === '<<' || (typeof kv === 'symbol' && kv.description === '<<')) {
        const src = this.resolve(item.value);
        const sources = isSeq(src) ? src.items.map((x) => this.resolve(x)) : [src];
        for (const s of sources) {
          if (isMap(s)) merged.push(...this.entries(s));
          else
            this.problem(
              item.value ?? key,
              '',
              'a `<<` merge key needs a mapping (or a list of mappings), e.g. `<<: *defaults`',
            );
        }
        continue;
      }
      own.push({ key, value: item.value });
    }
    if (merged.length === 0) return own;
    const seen = new Set(own.map((e) => keyText(e.key)));
    const out = [...own];
    for (const e of merged) {
      const k = keyText(e.key);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(e);
      }
    }
    return out;
  }

  describe(node: unknown): string {
    const n = this.resolve(node);
    if (n === null || n === undefined) return 'nothing';
    if (isMap(n)) return 'a mapping';
    if (isSeq(n)) return 'a list';
    if (isScalar(n)) {
      const v = n.value;
      if (v === null || v === undefined) return 'nothing (an empty value)';
      if (typeof v === 'number' || typeof v === 'bigint') return `the number ${n.source ?? String(v)}`;
      if (typeof v === 'boolean') return `\`${v}\``;
      if (typeof v === 'string') return `the string ${show(v)}`;
    }
    return 'an unsupported value';
  }

  /**
   * A scalar's value, with `${VAR}` interpolated in strings. `raw` is the text as written (safe to
   * show: it never contains a secret).
   */
  scalar(node: unknown, path: string): { value: unknown; raw: string; interpolated: boolean } | undefined {
    const n = this.resolve(node);
    if (!isScalar(n)) return undefined;
    const v = n.value;
    if (typeof v !== 'string') return { value: v, raw: n.source ?? String(v), interpolated: false };
    const r = interpolate(v, this.env);
    for (const s of r.secrets) this.secrets.add(s);
    for (const name of r.missing) {
      this.problem(
        n,
        path,
        `environment variable \`${name}\` is not set`,
        `export ${name}=… before running, or give a default: \${${name}:-default}`,
      );
    }
    for (const e of r.errors)
      this.problem(n, path, e, 'write `${NAME}` or `${NAME:-default}`; `$${` is a literal `${`');
    if (r.missing.length > 0 || r.errors.length > 0) return { value: undefined, raw: v, interpolated: r.interpolated };
    return { value: r.value, raw: v, interpolated: r.interpolated };
  }

  // ---- the walk ----------------------------------------------------------------------------

  walk(node: unknown, spec: Spec, path: string, keyNode?: unknown): unknown {
    if (this.depth > MAX_DEPTH) {
      this.problem(node, path, 'the document is nested too deeply (recursive anchors?)');
      return undefined;
    }
    this.depth++;
    try {
      const n = this.resolve(node);
      const prev = this.index.get(path);
      this.index.set(path, { key: keyNode ?? prev?.key, value: n ?? prev?.value });
      return this.walkResolved(n, spec, path, keyNode);
    } finally {
      this.depth--;
    }
  }

  private typeError(node: unknown, path: string, spec: Spec, keyNode?: unknown): undefined {
    const n = this.resolve(node);
    const empty = n === null || n === undefined || (isScalar(n) && (n.value === null || n.value === undefined));
    const listHint =
      spec.t === 'array' && isScalar(n) && !empty
        ? 'write a list: put each item on its own line starting with `- `, or use [ … ]'
        : undefined;
    this.problem(empty ? (keyNode ?? n) : n, path, `expected ${expectedOf(spec)}, got ${this.describe(n)}`, listHint);
    return undefined;
  }

  private walkResolved(n: unknown, spec: Spec, path: string, keyNode?: unknown): unknown {
    switch (spec.t) {
      case 'object':
        return this.walkObject(n, spec, path, keyNode);
      case 'map':
        return this.walkMap(n, spec, path, keyNode);
      case 'array': {
        if (!isSeq(n)) return this.typeError(n, path, spec, keyNode);
        if (spec.minItems !== undefined && n.items.length < spec.minItems) {
          this.problem(
            isSeq(n) && n.items.length === 0 ? n : (keyNode ?? n),
            path,
            `needs at least ${spec.minItems} item${spec.minItems === 1 ? '' : 's'}`,
          );
        }
        const out: unknown[] = [];
        n.items.forEach((item, i) => {
          const v = this.walk(item, spec.items, join(path, i));
          if (v !== undefined || spec.keepHoles) out.push(v);
        });
        return out;
      }
      case 'union': {
        let branch = isMap(n) ? spec.map : isSeq(n) ? spec.seq : isScalar(n) ? scalarBranch(spec, n.value) : undefined;
        // `${READY:-false}` in a key taking a string or a boolean: the interpolated text decides.
        if (spec.bool && isScalar(n) && typeof n.value === 'string' && n.value.includes('${')) {
          const r = interpolate(n.value, this.env);
          if (r.missing.length === 0 && r.errors.length === 0 && /^(true|false)$/.test(r.value.trim()))
            branch = spec.bool;
        }
        if (!branch) return this.typeError(n, path, spec, keyNode);
        return this.walkResolved(n, branch, path, keyNode);
      }
      case 'custom':
        return spec.parse(this, n, path);
      case 'any':
        return this.toValue(n, path);
      default:
        return this.walkLeaf(n, spec, path, keyNode);
    }
  }

  /** A YAML node as a plain JS value, strings interpolated. */
  toValue(node: unknown, path: string): unknown {
    const n = this.resolve(node);
    if (isMap(n)) {
      const o: Record<string, unknown> = {};
      for (const e of this.entries(n)) {
        const k = keyText(e.key);
        o[k] = this.toValue(e.value, join(path, k));
      }
      return o;
    }
    if (isSeq(n)) return n.items.map((x, i) => this.toValue(x, join(path, i)));
    if (isScalar(n)) {
      const s = this.scalar(n, path);
      if (!s) return null;
      if (typeof s.value === 'bigint') return Number(s.value);
      return s.value === undefined ? null : s.value;
    }
    return null;
  }

  private walkLeaf(
    n: unknown,
    spec: StringSpec | DurationSpec | RateSpec | IntSpec | NumberSpec | BoolSpec,
    path: string,
    keyNode?: unknown,
  ): unknown {
    if (!isScalar(n) || n.value === null || n.value === undefined) return this.typeError(n, path, spec, keyNode);
    const s = this.scalar(n, path);
    if (!s || s.value === undefined) return undefined; // interpolation problem already reported
    const v = s.value;
    const shown = s.interpolated ? `${show(s.raw)} (after interpolation)` : show(s.raw);
    switch (spec.t) {
      case 'string': {
        let str: string;
        if (typeof v === 'string') str = v;
        else if (
          (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') &&
          spec.coerce !== false &&
          !spec.enum
        )
          str = s.raw;
        else return this.typeError(n, path, spec, keyNode);
        if (spec.enum && !spec.enum.includes(str)) {
          const foreign = spec.enumHints?.[str] ?? spec.enumHints?.[str.toLowerCase()];
          const hint = foreign ?? didYouMean(str, spec.enum, 'use one of');
          this.problem(n, path, `unknown value ${shown}; expected ${expectedOf(spec)}`, hint);
          return undefined;
        }
        if (spec.nonEmpty && str.trim() === '') {
          this.problem(n, path, 'must not be empty');
          return undefined;
        }
        if (spec.headerValue && HEADER_CTL.test(str)) {
          // Never show the value: it may hold a secret from the environment.
          const crlf = /[\r\n]/.test(str);
          this.problem(
            n,
            path,
            `header value contains ${crlf ? 'a line break (CR/LF)' : 'a control character'}${s.interpolated ? ` after interpolating ${show(s.raw)}` : ''}: every request would fail`,
            s.interpolated
              ? 'a value read from a file often ends with a newline: strip it, e.g. export TOKEN="$(tr -d \'\\r\\n\' < token.txt)"'
              : 'remove the control character from the value',
          );
          return undefined;
        }
        if (spec.pattern && !spec.pattern.test(str)) {
          this.problem(
            n,
            path,
            spec.patternMessage ? `${spec.patternMessage}, got ${shown}` : `${shown} is not valid`,
            spec.patternHint,
          );
          return undefined;
        }
        return str;
      }
      case 'duration':
      case 'rate': {
        const input = typeof v === 'string' ? v : typeof v === 'number' ? v : undefined;
        if (input === undefined) return this.typeError(n, path, spec, keyNode);
        const r = spec.t === 'duration' ? tryParseDuration(input) : tryParseRate(input);
        if (!r.ok) {
          // Never echo an interpolated value: it may be a secret.
          this.problem(
            n,
            path,
            s.interpolated ? `${show(s.raw)} is not a valid ${spec.t} after interpolation` : r.message,
            r.hint,
          );
          return undefined;
        }
        if (spec.positive && r.value <= 0) {
          this.problem(n, path, `must be more than ${spec.t === 'duration' ? '0s' : '0/s'}, got ${shown}`);
          return undefined;
        }
        if (spec.t === 'duration' && spec.min !== undefined && r.value < spec.min) {
          this.problem(n, path, `must be at least ${formatDuration(spec.min)}, got ${shown}`, spec.minHint);
          return undefined;
        }
        // Bounds every duration and rate: absurd values are stopped here, not mid-run.
        const max = spec.t === 'duration' ? LIMITS.durationMs : LIMITS.ratePerS;
        if (r.value > max) {
          this.problem(
            n,
            path,
            `must be at most ${spec.t === 'duration' ? formatDuration(max) : `${max.toLocaleString('en-US')}/s`}, got ${shown}`,
            spec.t === 'duration' ? LIMIT_HINTS.duration : LIMIT_HINTS.rate,
          );
          return undefined;
        }
        return r.value;
      }
      case 'int':
      case 'number': {
        let num: number | undefined;
        if (typeof v === 'number') num = v;
        else if (typeof v === 'bigint') num = Number(v);
        else if (typeof v === 'string' && s.interpolated && /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.trim()))
          num = Number(v);
        if (num === undefined || !Number.isFinite(num)) {
          if (typeof v === 'string' && !s.interpolated) {
            // A number with a unit where a plain number belongs (`connections: 8x`, `weight: 50%`).
            this.problem(n, path, `expected ${expectedOf(spec)}, got ${this.describe(n)}`);
            return undefined;
          }
          if (s.interpolated) {
            this.problem(n, path, `expected ${expectedOf(spec)}, but ${show(s.raw)} is not one after interpolation`);
            return undefined;
          }
          return this.typeError(n, path, spec, keyNode);
        }
        if (spec.t === 'int' && !Number.isInteger(num)) {
          this.problem(n, path, `expected ${expectedOf(spec)}, got ${shown}`);
          return undefined;
        }
        if (spec.min !== undefined && num < spec.min) {
          this.problem(n, path, `must be at least ${spec.min}, got ${shown}`);
          return undefined;
        }
        if (spec.max !== undefined && num > spec.max) {
          this.problem(
            n,
            path,
            `must be at most ${spec.max}, got ${shown}`,
            spec.t === 'int' ? spec.maxHint : undefined,
          );
          return undefined;
        }
        if (spec.t === 'number' && spec.exclusiveMin !== undefined && num <= spec.exclusiveMin) {
          this.problem(n, path, `must be more than ${spec.exclusiveMin}, got ${shown}`);
          return undefined;
        }
        return num;
      }
      case 'bool': {
        let b: boolean | undefined;
        if (typeof v === 'boolean') b = v;
        else if (typeof v === 'string' && s.interpolated && /^(true|false)$/.test(v.trim())) b = v.trim() === 'true';
        if (b === undefined) {
          const yesNo = typeof v === 'string' && /^(yes|no|on|off|y|n|True|False|TRUE|FALSE)$/.test(v);
          this.problem(
            n,
            path,
            `expected ${expectedOf(spec)}, got ${this.describe(n)}`,
            yesNo ? 'YAML 1.2: write `true` or `false`' : undefined,
          );
          return undefined;
        }
        if (spec.const !== undefined && b !== spec.const) {
          this.problem(n, path, `expected ${expectedOf(spec)}, got \`${b}\``);
          return undefined;
        }
        return b;
      }
    }
  }

  private walkObject(n: unknown, spec: ObjectSpec, path: string, keyNode?: unknown): Raw | undefined {
    if (!isMap(n)) return this.typeError(n, path, spec, keyNode);
    const out: Raw = {};
    const allowed = Object.keys(spec.fields);
    const seenCanonical = new Map<string, string>();
    for (const { key, value } of this.entries(n)) {
      const k = keyText(key);
      const childPath = join(path, k);
      const field = spec.fields[k];
      if (!field && spec.extensionKeys?.test(k)) continue;
      if (!field) {
        this.present.add(childPath);
        this.index.set(childPath, { key, value: this.resolve(value) });
        const foreign = spec.foreignKeys?.[k];
        const suggestion = foreign ? undefined : closest(k, allowed);
        if (suggestion) this.suggested.add(join(path, spec.fields[suggestion]?.aliasOf ?? suggestion));
        this.problem(
          key,
          childPath,
          `unknown key \`${k}\` in ${spec.what}`,
          foreign ?? (suggestion ? `did you mean \`${suggestion}\`?` : `allowed keys: ${allowed.join(', ')}`),
        );
        continue;
      }
      const canonical = field.aliasOf ?? k;
      const canonicalPath = join(path, canonical);
      const other = seenCanonical.get(canonical);
      if (other !== undefined) {
        this.problem(key, childPath, `\`${k}\` and \`${other}\` are the same setting; give only one`);
        continue;
      }
      seenCanonical.set(canonical, k);
      this.present.add(childPath);
      this.present.add(canonicalPath);
      const v = this.walk(value, field, childPath, key);
      if (field.aliasOf) this.index.set(canonicalPath, this.index.get(childPath) ?? { key });
      if (v !== undefined) out[canonical] = v;
    }
    for (const [k, field] of Object.entries(spec.fields)) {
      if (field.aliasOf) continue;
      const p = join(path, k);
      if (this.present.has(p)) continue;
      if (field.required) {
        if (!this.suggested.has(p))
          this.problem(
            keyNode ?? n,
            p,
            `${spec.what} is missing \`${k}\``,
            field.description ? `${k}: ${field.description}` : undefined,
          );
        continue;
      }
      if (field.default !== undefined) {
        const d = defaultValue(field);
        if (d !== undefined) out[k] = d;
      }
    }
    return out;
  }

  private walkMap(n: unknown, spec: MapSpec, path: string, keyNode?: unknown): Raw | undefined {
    if (!isMap(n)) return this.typeError(n, path, spec, keyNode);
    const out: Raw = {};
    const entries = this.entries(n);
    if (spec.minEntries !== undefined && entries.length < spec.minEntries) {
      this.problem(
        keyNode ?? n,
        path,
        `\`${spec.what}\` needs at least ${spec.minEntries} entr${spec.minEntries === 1 ? 'y' : 'ies'}`,
        spec.emptyHint,
      );
    }
    const original = new Map<string, string>();
    for (const { key, value } of entries) {
      let k = keyText(key);
      if (spec.keyPattern && !spec.keyPattern.test(k)) {
        this.problem(
          key,
          join(path, k),
          `${show(k)} is not a valid name${spec.keyMessage ? `: ${spec.keyMessage}` : ''}`,
        );
        continue;
      }
      if (spec.lowerCaseKeys) {
        const lower = k.toLowerCase();
        const prev = original.get(lower);
        if (prev !== undefined) {
          this.problem(key, join(path, k), `\`${k}\` repeats \`${prev}\` (header names are case-insensitive)`);
          continue;
        }
        original.set(lower, k);
        k = lower;
      }
      const childPath = join(path, k);
      this.present.add(childPath);
      const v = this.walk(value, spec.values, childPath, key);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
}

function scalarBranch(spec: UnionSpec, v: unknown): Spec | undefined {
  if (typeof v === 'string')
    return spec.string ?? (spec.number?.t === 'int' || spec.number?.t === 'number' ? spec.number : undefined);
  if (typeof v === 'number' || typeof v === 'bigint') return spec.number;
  if (typeof v === 'boolean') return spec.bool;
  return undefined;
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  if (key instanceof Scalar) return String(key.value);
  return String(key);
}

/** Shows a string in a message, truncated; callers pass raw (pre-interpolation) text only. */
export function show(s: string): string {
  const one = s.replace(/\s+/g, ' ');
  return `\`${one.length > 60 ? `${one.slice(0, 57)}…` : one}\``;
}

/** A field's default converted to its resolved form (durations → ms, rates → per second). */
export function defaultValue(spec: Spec): unknown {
  const d = spec.default;
  if (d === undefined) return undefined;
  if (spec.t === 'custom') return spec.resolvedDefault;
  if (spec.t === 'duration') {
    const r = tryParseDuration(d as string);
    return r.ok ? r.value : undefined;
  }
  if (spec.t === 'rate') {
    const r = tryParseRate(d as string);
    return r.ok ? r.value : undefined;
  }
  return d;
}

// ---- JSON Schema ------------------------------------------------------------------------------

const INTERPOLATION = String.raw`\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}`;
const INTERPOLATED_STRING = {
  type: 'string',
  pattern: INTERPOLATION,
  description: 'An environment variable reference, ${VAR} or ${VAR:-default}.',
};

function withCommon(spec: Spec, schema: Record<string, unknown>): Record<string, unknown> {
  const out = { ...schema };
  if (spec.description)
    out['description'] = out['description'] ? `${spec.description} ${out['description'] as string}` : spec.description;
  if (spec.default !== undefined) out['default'] = spec.default;
  return out;
}

/** JSON Schema (draft-07) of a Spec. */
export function toJsonSchema(spec: Spec): Record<string, unknown> {
  switch (spec.t) {
    case 'string': {
      const s: Record<string, unknown> = { type: 'string' };
      if (spec.enum) s['enum'] = [...spec.enum];
      if (spec.pattern) s['pattern'] = spec.pattern.source;
      if (spec.nonEmpty) s['minLength'] = 1;
      if (!spec.enum && spec.coerce !== false && !spec.pattern)
        return withCommon(spec, { type: ['string', 'number', 'boolean'] });
      return withCommon(spec, s);
    }
    case 'duration':
      return withCommon(spec, {
        type: 'string',
        pattern: `${DURATION_PATTERN}|${INTERPOLATION}`,
        description:
          'Duration: a number and a unit (h, m, s, ms, us), e.g. 30s, 500ms, 1m30s. A bare number is an error.',
        examples: ['30s', '500ms', '1m30s'],
      });
    case 'rate':
      return withCommon(spec, {
        type: 'string',
        pattern: `${RATE_PATTERN}|${INTERPOLATION}`,
        description: 'Rate: a number, optional k (×1000) or M (×1e6), and /s, /m or /h, e.g. 200/s, 12k/m, 3000/h.',
        examples: ['200/s', '12k/m'],
      });
    case 'int': {
      const s: Record<string, unknown> = { type: 'integer' };
      if (spec.min !== undefined) s['minimum'] = spec.min;
      if (spec.max !== undefined) s['maximum'] = spec.max;
      return withCommon(spec, { anyOf: [s, INTERPOLATED_STRING] });
    }
    case 'number': {
      const s: Record<string, unknown> = { type: 'number' };
      if (spec.min !== undefined) s['minimum'] = spec.min;
      if (spec.max !== undefined) s['maximum'] = spec.max;
      if (spec.exclusiveMin !== undefined) s['exclusiveMinimum'] = spec.exclusiveMin;
      return withCommon(spec, { anyOf: [s, INTERPOLATED_STRING] });
    }
    case 'bool':
      return withCommon(
        spec,
        spec.const !== undefined
          ? { type: 'boolean', const: spec.const }
          : { anyOf: [{ type: 'boolean' }, INTERPOLATED_STRING] },
      );
    case 'object': {
      const properties: Record<string, unknown> = {};
      const required: string[] = [];
      for (const [k, f] of Object.entries(spec.fields)) {
        const s = toJsonSchema(f);
        properties[k] = f.aliasOf
          ? { ...s, description: `Alias of ${f.aliasOf}: ${(s['description'] as string | undefined) ?? ''}`.trim() }
          : s;
        if (f.required) required.push(k);
      }
      const s: Record<string, unknown> = { type: 'object', title: spec.what, properties, additionalProperties: false };
      if (spec.extensionKeys)
        s['patternProperties'] = {
          [spec.extensionKeys.source]: { description: 'Extension field, ignored (a place for YAML anchors).' },
        };
      if (required.length) s['required'] = required;
      return withCommon(spec, { ...s, ...(spec.schemaExtra ?? {}) });
    }
    case 'map': {
      const s: Record<string, unknown> = {
        type: 'object',
        title: spec.what,
        additionalProperties: toJsonSchema(spec.values),
      };
      if (spec.keyPattern) s['propertyNames'] = { pattern: spec.keyPattern.source };
      if (spec.minEntries !== undefined) s['minProperties'] = spec.minEntries;
      return withCommon(spec, s);
    }
    case 'array': {
      const s: Record<string, unknown> = { type: 'array', items: toJsonSchema(spec.items) };
      if (spec.minItems !== undefined) s['minItems'] = spec.minItems;
      return withCommon(spec, s);
    }
    case 'union': {
      const branches = [spec.string, spec.number, spec.bool, spec.map, spec.seq].filter(
        (b): b is Spec => b !== undefined,
      );
      const uniq = [...new Set(branches)];
      return withCommon(spec, { anyOf: uniq.map(toJsonSchema) });
    }
    case 'any':
      return withCommon(spec, {});
    case 'custom':
      return withCommon(spec, spec.schema);
  }
}

/** A value with a unit parsed by `tryParse` (sizes, bandwidths): a custom spec so the schema shows the pattern. */
export const unitSpec = (
  description: string,
  pattern: string,
  tryParse: (v: string | number) => UnitResult,
  integer = false,
): Spec => ({
  t: 'custom',
  schema: { description, anyOf: [{ type: 'string', pattern }, ...(integer ? [{ type: 'integer', minimum: 0 }] : [])] },
  parse: (w: Walker, node: unknown, path: string): unknown => {
    const s = isScalar(node) ? w.scalar(node, path) : undefined;
    if (
      !s ||
      s.value === undefined ||
      s.value === null ||
      (typeof s.value !== 'string' && typeof s.value !== 'number')
    ) {
      if (!s || s.value !== undefined) w.problem(node, path, `expected ${description}, got ${w.describe(node)}`);
      return undefined;
    }
    const r = tryParse(s.value);
    if (!r.ok) {
      w.problem(node, path, s.interpolated ? `${show(s.raw)} is not valid after interpolation` : r.message, r.hint);
      return undefined;
    }
    return r.value;
  },
});

/** HTTP headers in a plan (here, not in syntax.ts: check kinds' specs use it, and syntax imports them). */
export const headers: Spec = {
  t: 'map',
  what: 'headers',
  lowerCaseKeys: true,
  keyPattern: /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/,
  keyMessage: "header names are letters, digits and !#$%&'*+.^_`|~-",
  values: {
    t: 'string',
    headerValue: true,
    description: 'Header value; ${VAR} is interpolated from the environment and redacted from output.',
  },
  description: 'HTTP headers (names are case-insensitive and lower-cased).',
};
