/**
 * `{{column}}` templates for the http adapter, compiled once into literal parts and holes.
 * Where a hole sits decides how a value is written:
 *   - path: URL-encoded (encodeURIComponent);
 *   - JSON body, inside a string literal ("text": "{{review}}"): JSON-escaped without quotes;
 *   - JSON body, outside strings ("x": {{value}}): numbers as numbers, text as a JSON string,
 *     nested values (JSON datasets) as JSON;
 *   - other bodies: the text as is.
 */
import type { Column } from '../data/dataset.js';
import { cellText } from '../data/dataset.js';

export type HoleMode = 'url' | 'json-string' | 'json-value' | 'raw';
export type TemplatePart = string | { column: string; mode: HoleMode };

export interface Template {
  readonly parts: readonly TemplatePart[];
  readonly columns: readonly string[];
  readonly isStatic: boolean;
  /** Renders with values from `lookup(column)` at `row`; `extra` supplies non-data holes (e.g. model). */
  render(lookup: (column: string) => Column | undefined, row: number, extra?: Record<string, string>): string;
}

const HOLE = /\{\{\s*([^{}]+?)\s*\}\}/g;

export function compileTemplate(text: string, kind: 'path' | 'json' | 'text'): Template {
  const parts: TemplatePart[] = [];
  const columns: string[] = [];
  let last = 0;
  let inString = false;
  const scan = (lit: string): void => {
    for (let i = 0; i < lit.length; i++) {
      const c = lit.charCodeAt(i);
      if (inString && c === 92) i++;
      else if (c === 34) inString = !inString;
    }
  };
  for (const m of text.matchAll(HOLE)) {
    const lit = text.slice(last, m.index);
    if (lit) parts.push(lit);
    scan(lit);
    const column = m[1];
    const mode: HoleMode =
      kind === 'path' ? 'url' : kind === 'json' ? (inString ? 'json-string' : 'json-value') : 'raw';
    parts.push({ column, mode });
    if (!columns.includes(column)) columns.push(column);
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  const isStatic = columns.length === 0;
  return {
    parts,
    columns,
    isStatic,
    render(lookup, row, extra) {
      if (isStatic) return text;
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') {
          out += p;
          continue;
        }
        const col = lookup(p.column);
        if (!col) {
          const v = extra?.[p.column] ?? '';
          out +=
            p.mode === 'url'
              ? encodeURIComponent(v)
              : p.mode === 'json-string'
                ? JSON.stringify(v).slice(1, -1)
                : p.mode === 'json-value'
                  ? JSON.stringify(v)
                  : v;
          continue;
        }
        switch (p.mode) {
          case 'url':
            out += encodeURIComponent(cellText(col, row));
            break;
          case 'json-string':
            out += JSON.stringify(cellText(col, row)).slice(1, -1);
            break;
          case 'json-value':
            out += col.kind === 'number' ? jsonNumber(col.values[row]) : (JSON.stringify(col.values[row]) ?? 'null');
            break;
          default:
            out += cellText(col, row);
        }
      }
      return out;
    },
  };
}

function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/** Whether a body looks like JSON (starts with `{` or `[` after whitespace). */
export function looksLikeJson(body: string): boolean {
  const t = body.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}
