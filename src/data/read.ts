/**
 * Reads a data file as UTF-8 text in chunks (never whole): each chunk is awaited, so the event
 * loop (and Ctrl-C) runs between them, and an AbortSignal stops the read. Bytes that are not
 * UTF-8 stop it with a problem located at line:column (byte column).
 */
import { open } from 'node:fs/promises';
import { PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';

export const CHUNK_BYTES = 1 << 20;

export interface ReadOptions {
  signal?: AbortSignal;
  /** Bytes per read (tests use small chunks to cross record boundaries). */
  chunkBytes?: number;
}

/** Thrown when the signal aborts a read (exit 130, like an interrupted run). */
export function interrupted(what: string): PreflightError {
  return new PreflightError('E_INTERRUPTED', `interrupted while reading ${what}: nothing was sent`);
}

/**
 * Calls `onText` with successive decoded chunks. Returns a problem when the file cannot be read
 * or is not UTF-8 (after `onText` saw the valid text before it), else null.
 */
export async function readTextChunks(
  file: string,
  onText: (text: string) => void,
  opts: ReadOptions = {},
): Promise<Problem | null> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      file,
      message: `cannot read data file${code ? ` (${code})` : ''}`,
      hint: code === 'ENOENT' ? "paths are relative to the plan file's folder" : undefined,
    };
  }
  const size = Math.max(16, opts.chunkBytes ?? CHUNK_BYTES);
  const buf = Buffer.allocUnsafe(size);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // where we are, for the location of an invalid byte
  let offset = 0;
  let line = 1;
  let lineStart = 0;
  let tail = Buffer.alloc(0);
  try {
    for (;;) {
      if (opts.signal?.aborted) throw interrupted(file);
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, size, null));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return { file, message: `cannot read data file${code ? ` (${code})` : ''}` };
      }
      if (opts.signal?.aborted) throw interrupted(file);
      const bytes = buf.subarray(0, n);
      let text: string;
      try {
        text = n === 0 ? decoder.decode() : decoder.decode(bytes, { stream: true });
      } catch {
        const all = Buffer.concat([tail, bytes]);
        const bad = invalidAt(all, tail.length);
        const at = offset - tail.length + bad;
        for (let i = 0; i < bad - tail.length && i < n; i++)
          if (bytes[i] === 10) {
            line++;
            lineStart = offset + i + 1;
          }
        const b = bad < all.length ? all[bad] : undefined;
        return {
          file,
          line,
          column: at - lineStart + 1,
          message: `not UTF-8 text${b !== undefined ? ` (byte 0x${b.toString(16).padStart(2, '0')} at byte ${at})` : ' (truncated character at the end)'}`,
          hint: 'save the file as UTF-8, e.g. iconv -f latin1 -t utf-8 in.csv > out.csv',
        };
      }
      if (text.length > 0) onText(text);
      if (n === 0) return null;
      for (let i = 0; i < n; i++)
        if (bytes[i] === 10) {
          line++;
          lineStart = offset + i + 1;
        }
      offset += n;
      tail = Buffer.from(bytes.subarray(Math.max(0, n - 3)));
    }
  } finally {
    await fh.close();
  }
}

/**
 * Index of the first byte that is not well-formed UTF-8 in `b`, scanning from where a sequence
 * may start at or before `from` (continuation bytes at the very start belong to text already
 * decoded); b.length when none (a sequence cut off at the end).
 */
function invalidAt(b: Uint8Array, from: number): number {
  let i = 0;
  while (i < from && (b[i] & 0xc0) === 0x80) i++;
  while (i < b.length) {
    const c = b[i];
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= b.length) return b.length;
      const x = b[i + k];
      if (k === 1 ? x < lo || x > hi : (x & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return b.length;
}
