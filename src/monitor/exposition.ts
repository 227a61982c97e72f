/**
 * Prometheus exposition formats: the text format 0.0.4 and OpenMetrics 1.0, parsed into metric
 * families. Never throws on bad input: a malformed line is reported with its line number and
 * skipped, and the rest is read. Incremental: `ExpositionParser.push` takes chunks as they arrive
 * (a line may be split between chunks), `end` finishes.
 *
 * Both formats share the sample line `name{label="value",…} value [timestamp]`; they differ in
 * details this parser follows: OpenMetrics has `# UNIT`, `# EOF` (required, last), counters named
 * without `_total` in `# TYPE` (the samples carry it), timestamps in seconds (0.0.4: milliseconds)
 * and exemplars after ` # ` (read and dropped). Timestamps are returned in milliseconds either way.
 */

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'summary'
  | 'untyped'
  | 'unknown'
  | 'info'
  | 'stateset'
  | 'gaugehistogram';

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_total`, …). */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line had a timestamp. */
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  unit?: string;
  samples: Sample[];
}

export interface ExpositionProblem {
  /** 1-based line number in the input. */
  line: number;
  message: string;
}

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export interface Exposition {
  format: ExpositionFormat;
  families: MetricFamily[];
  /** Malformed lines (skipped), in input order. */
  problems: ExpositionProblem[];
}

const PROM_TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const OM_TYPES: readonly string[] = [
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
  'unknown',
];
/** Sample-name suffixes each type's samples may carry (beside the family name itself). */
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['_sum', '_count', '_created'],
  info: ['_info'],
};
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A float as both formats write it (`+Inf`, `-Inf`, `NaN`, Go's case-insensitive spellings); undefined if it is not one. */
export function parseFloatToken(s: string): number | undefined {
  if (FLOAT.test(s)) return Number(s);
  const l = s.toLowerCase();
  if (l === '+inf' || l === 'inf' || l === '+infinity' || l === 'infinity') return Number.POSITIVE_INFINITY;
  if (l === '-inf' || l === '-infinity') return Number.NEGATIVE_INFINITY;
  if (l === 'nan') return Number.NaN;
  return undefined;
}

/** Unescapes a HELP text (`\\`, `\n`; OpenMetrics also `\"`). */
function unescapeHelp(s: string, om: boolean): string {
  return s.replace(/\\(.)/g, (m, c: string) => (c === 'n' ? '\n' : c === '\\' ? '\\' : om && c === '"' ? '"' : m));
}

type Parsed<T> = { ok: true; value: T; rest: string } | { ok: false; message: string };

/** `{a="x",b="y"}` at the start of `s` (after the `{`), escapes `\\ \" \n`. */
function parseLabels(s: string): Parsed<Record<string, string>> {
  const labels: Record<string, string> = {};
  let i = 0;
  const skipWs = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  skipWs();
  while (i < s.length && s[i] !== '}') {
    const start = i;
    while (i < s.length && /[a-zA-Z0-9_]/.test(s[i])) i++;
    const name = s.slice(start, i);
    if (!LABEL.test(name)) return { ok: false, message: `bad label name at \`${s.slice(start, start + 20)}\`` };
    skipWs();
    if (s[i] !== '=') return { ok: false, message: `expected \`=\` after label \`${name}\`` };
    i++;
    skipWs();
    if (s[i] !== '"') return { ok: false, message: `label \`${name}\`: expected a quoted value` };
    i++;
    let v = '';
    let closed = false;
    while (i < s.length) {
      const c = s[i];
      if (c === '\\') {
        const n = s[i + 1];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else return { ok: false, message: `label \`${name}\`: unknown escape \`\\${n ?? ''}\`` };
        i += 2;
      } else if (c === '"') {
        closed = true;
        i++;
        break;
      } else {
        v += c;
        i++;
      }
    }
    if (!closed) return { ok: false, message: `label \`${name}\`: unterminated value` };
    if (Object.hasOwn(labels, name)) return { ok: false, message: `label \`${name}\` given twice` };
    labels[name] = v;
    skipWs();
    if (s[i] === ',') {
      i++;
      skipWs();
    } else if (s[i] !== '}') return { ok: false, message: `expected \`,\` or \`}\` after label \`${name}\`` };
  }
  if (s[i] !== '}') return { ok: false, message: 'unterminated label set (no `}`)' };
  return { ok: true, value: labels, rest: s.slice(i + 1) };
}

/** Parses exposition text as it arrives. */
export class ExpositionParser {
  private buf = '';
  private lineNo = 0;
  private readonly families: MetricFamily[] = [];
  private readonly byName = new Map<string, MetricFamily>();
  private readonly problems: ExpositionProblem[] = [];
  private current: MetricFamily | undefined;
  private eof = false;
  private afterEofReported = false;
  private om: boolean;

  /** `format`: from the response's Content-Type (`application/openmetrics-text` → openmetrics); default prometheus. */
  constructor(format: ExpositionFormat = 'prometheus') {
    this.om = format === 'openmetrics';
  }

  push(chunk: string): void {
    this.buf += chunk;
    let nl = this.buf.indexOf('\n');
    while (nl >= 0) {
      this.line(this.buf.slice(0, nl));
      this.buf = this.buf.slice(nl + 1);
      nl = this.buf.indexOf('\n');
    }
  }

  end(): Exposition {
    if (this.buf !== '') {
      const last = this.buf;
      this.buf = '';
      this.line(last);
    }
    if (this.om && !this.eof)
      this.problems.push({ line: this.lineNo, message: 'OpenMetrics text must end with `# EOF`' });
    return { format: this.om ? 'openmetrics' : 'prometheus', families: this.families, problems: this.problems };
  }

  private problem(message: string): void {
    this.problems.push({ line: this.lineNo, message });
  }

  private family(name: string): MetricFamily {
    let f = this.byName.get(name);
    if (!f) {
      f = { name, type: this.om ? 'unknown' : 'untyped', samples: [] };
      this.byName.set(name, f);
      this.families.push(f);
    }
    return f;
  }

  private line(raw: string): void {
    this.lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.eof) {
      if (!this.afterEofReported && line.trim() !== '') {
        this.problem('text after `# EOF`');
        this.afterEofReported = true;
      }
      return;
    }
    if (line.trim() === '') {
      if (this.om) this.problem('empty line (OpenMetrics has none)');
      return;
    }
    if (line.startsWith('#')) return this.comment(line);
    this.sample(line.replace(/^[ \t]+/, ''));
  }

  private comment(line: string): void {
    if (line === '# EOF') {
      this.eof = true;
      // Text that ends in `# EOF` is OpenMetrics whatever the caller said.
      this.om = true;
      return;
    }
    const m = /^#[ \t]+(HELP|TYPE|UNIT)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
    if (!m) {
      if (this.om) this.problem('OpenMetrics has no comments besides HELP, TYPE, UNIT and EOF');
      return; // 0.0.4: any other `#` line is a comment
    }
    const [, kw, name, arg = ''] = m;
    if (!NAME.test(name)) return this.problem(`bad metric name \`${name}\` in # ${kw}`);
    const f = this.family(name);
    this.current = f;
    if (kw === 'HELP') {
      if (f.help !== undefined) return this.problem(`second # HELP for \`${name}\``);
      f.help = unescapeHelp(arg, this.om);
    } else if (kw === 'UNIT') {
      if (!this.om) return; // not part of 0.0.4: a comment
      f.unit = arg.trim();
      if (f.unit !== '' && !name.endsWith(`_${f.unit}`))
        this.problem(`metric \`${name}\` has unit \`${f.unit}\` but its name does not end in _${f.unit}`);
    } else {
      const t = arg.trim();
      const allowed = this.om ? OM_TYPES : PROM_TYPES;
      if (!allowed.includes(t)) return this.problem(`unknown metric type \`${t}\` (allowed: ${allowed.join(', ')})`);
      if (f.samples.length > 0) return this.problem(`# TYPE for \`${name}\` after its samples`);
      f.type = t as MetricType;
    }
  }

  /** The family a sample name belongs to: the current one (suffixes by type), a declared one, or its own. */
  private familyOf(name: string): MetricFamily {
    const fits = (f: MetricFamily) => f.name === name || (SUFFIXES[f.type] ?? []).some((s) => name === f.name + s);
    if (this.current && fits(this.current)) return this.current;
    for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created', '_gsum', '_gcount', '_info']) {
      if (!name.endsWith(suffix)) continue;
      const f = this.byName.get(name.slice(0, -suffix.length));
      if (f && fits(f)) return f;
    }
    return this.byName.get(name) ?? this.family(name);
  }

  private sample(line: string): void {
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) return this.problem(`expected a metric name at \`${line.slice(0, 30)}\``);
    const name = nm[0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const l = parseLabels(rest.slice(1));
      if (!l.ok) return this.problem(`${name}: ${l.message}`);
      labels = l.value;
      rest = l.rest;
    }
    if (this.om) {
      const ex = rest.indexOf(' # ');
      if (ex >= 0) rest = rest.slice(0, ex); // an exemplar: not needed here
    }
    if (!/^[ \t]/.test(rest)) return this.problem(`${name}: expected a space and a value after the name`);
    const parts = rest.trim().split(/[ \t]+/);
    if (parts.length > 2 || parts[0] === '') return this.problem(`${name}: expected a value and an optional timestamp`);
    const value = parseFloatToken(parts[0]);
    if (value === undefined) return this.problem(`${name}: bad value \`${parts[0]}\``);
    const sample: Sample = { name, labels, value };
    if (parts.length === 2) {
      const ts = this.om ? parseFloatToken(parts[1]) : /^-?\d+$/.test(parts[1]) ? Number(parts[1]) : undefined;
      if (ts === undefined || !Number.isFinite(ts)) return this.problem(`${name}: bad timestamp \`${parts[1]}\``);
      sample.timestampMs = this.om ? ts * 1000 : ts;
    }
    const f = this.familyOf(name);
    if (f.type === 'histogram' && name === `${f.name}_bucket` && labels['le'] === undefined)
      return this.problem(`${name}: a histogram bucket needs an \`le\` label`);
    if (f.type === 'summary' && name === f.name && labels['quantile'] === undefined)
      return this.problem(`${name}: a summary quantile needs a \`quantile\` label`);
    if (this.om && f.type === 'counter' && name === f.name)
      return this.problem(`${name}: an OpenMetrics counter's samples end in _total`);
    this.current = f;
    f.samples.push(sample);
  }
}

/** Parses a whole exposition text (see ExpositionParser). */
export function parseExposition(text: string, format?: ExpositionFormat): Exposition {
  const p = new ExpositionParser(format ?? (/(^|\n)# EOF\r?\n?$/.test(text) ? 'openmetrics' : 'prometheus'));
  p.push(text);
  return p.end();
}

/** The format a Content-Type header announces. */
export function formatOfContentType(contentType: string | null | undefined): ExpositionFormat {
  return /application\/openmetrics-text/i.test(contentType ?? '') ? 'openmetrics' : 'prometheus';
}

function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string, om: boolean) => {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return om ? s.replace(/"/g, '\\"') : s;
};

/** Renders families in `format` (what an exporter writes; the parser's inverse). */
export function renderExposition(families: readonly MetricFamily[], format: ExpositionFormat): string {
  const om = format === 'openmetrics';
  const out: string[] = [];
  for (const f of families) {
    if (f.help !== undefined) out.push(`# HELP ${f.name} ${escapeHelp(f.help, om)}`);
    if (f.type !== 'untyped' && f.type !== 'unknown') out.push(`# TYPE ${f.name} ${f.type}`);
    if (om && f.unit !== undefined && f.unit !== '') out.push(`# UNIT ${f.name} ${f.unit}`);
    for (const s of f.samples) {
      const ls = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      const ts =
        s.timestampMs === undefined ? '' : ` ${om ? formatFloat(s.timestampMs / 1000) : String(s.timestampMs)}`;
      out.push(`${s.name}${ls.length > 0 ? `{${ls.join(',')}}` : ''} ${formatFloat(s.value)}${ts}`);
    }
  }
  if (om) out.push('# EOF');
  return `${out.join('\n')}\n`;
}
