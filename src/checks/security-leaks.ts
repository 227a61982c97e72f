/**
 * What an error answer must not show (security check `leaks`): stack traces (Python, Node.js, Java,
 * Go, .NET), file-system paths of the server, and software versions in headers. Patterns are kept
 * specific, so an ordinary error message ("at least 1 input", "/v2/models/x") does not match.
 */
import type { SecurityCheckPlan } from '../plan/security-check.js';

export interface Leak {
  /** What kind of leak: `stack trace (Python)`, `file path`, `header server`, … */
  kind: string;
  /** The matched text (the caller redacts and shortens it). */
  match: string;
}

const BODY_PATTERNS: ReadonlyArray<{ kind: string; re: RegExp }> = [
  { kind: 'stack trace (Python)', re: /Traceback \(most recent call last\)|File "[^"\n]+", line \d+/ },
  {
    kind: 'stack trace (Node.js)',
    re: /\bat (?:[\w$.<>[\] ]+ )?\(?(?:file:\/\/)?[^\s()'"]+\.(?:[cm]?js|ts):\d+:\d+\)?/,
  },
  {
    kind: 'stack trace (Java)',
    re: /Exception in thread "|(?:^|\n|\\n)\s*at [\w$]+(?:\.[\w$<>]+)+\([\w$]+\.(?:java|kt|scala):\d+\)|\n\tat /,
  },
  { kind: 'stack trace (Go)', re: /goroutine \d+ \[[a-z ]+\]:|panic: .+\n\s*goroutine/ },
  { kind: 'stack trace (.NET)', re: /\bat [\w.]+\(.*\) in [^\n]+:line \d+/ },
  {
    kind: 'file path',
    re: /(?:^|[\s"'(=:[])(?:\/home\/[\w.-]+|\/root\/|\/Users\/[\w.-]+|\/usr\/(?:local\/)?lib\/python\d|\/opt\/conda\/|[\w/.-]*\/(?:site|dist)-packages\/|[\w/.-]*\/node_modules\/|[A-Za-z]:\\\\?(?:Users|Program Files|Windows|inetpub)\\)[^\s"'<>)]*/,
  },
];

/** A `Server` value naming a version: `gunicorn/19.9.0`, `nginx/1.25.3`, `Apache/2.4.1 (Ubuntu)`, `Werkzeug/2.0 Python/3.9`. */
const SERVER_VERSION = /[A-Za-z][\w.-]*\/v?\d+(?:\.\d+)*/;

/** The leaks in one answer's headers and body text. */
export function findLeaks(
  headers: Record<string, string>,
  body: string,
  rules: NonNullable<SecurityCheckPlan['leaks']>,
): Leak[] {
  const out: Leak[] = [];
  for (const { kind, re } of BODY_PATTERNS) {
    const m = re.exec(body);
    if (m) out.push({ kind, match: contextOf(body, m.index, m[0].length) });
  }
  if (rules.serverVersion) {
    for (const h of ['server', 'via']) {
      const v = headers[h];
      if (v !== undefined && SERVER_VERSION.test(v)) out.push({ kind: `version in header ${h}`, match: `${h}: ${v}` });
    }
  }
  for (const h of rules.forbidHeaders) {
    const v = headers[h];
    if (v !== undefined) out.push({ kind: `header ${h}`, match: `${h}: ${v}` });
  }
  return out;
}

/** Required headers missing (or with another value) in one answer. */
export function missingHeaders(
  headers: Record<string, string>,
  required: Record<string, string>,
): Array<{ name: string; expected: string; got?: string }> {
  const out: Array<{ name: string; expected: string; got?: string }> = [];
  for (const [name, expected] of Object.entries(required)) {
    const got = headers[name];
    if (got === undefined || (expected !== '' && got.trim().toLowerCase() !== expected.trim().toLowerCase()))
      out.push({ name, expected, ...(got !== undefined ? { got } : {}) });
  }
  return out;
}

function contextOf(text: string, at: number, len: number): string {
  const start = Math.max(0, at - 20);
  return text.slice(start, Math.min(text.length, at + Math.max(len, 80)));
}
