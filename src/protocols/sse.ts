/**
 * Incremental Server-Sent Events parser. Bytes may be split anywhere — inside a line, between
 * CR and LF, inside a multi-byte UTF-8 character, across events. Lines starting with `:` are
 * comments (keep-alives); `data:` lines of one event are joined with "\n"; a blank line ends an
 * event; `end()` dispatches a last event that lacked its blank line.
 */
import { StringDecoder } from 'node:string_decoder';

export type SseHandler = (data: string, event: string | undefined) => void;

export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  private data: string[] = [];
  private event: string | undefined;
  private skipLf = false;
  /** Comment lines seen (keep-alives). */
  comments = 0;

  constructor(private readonly onEvent: SseHandler) {}

  push(chunk: Buffer | string): void {
    let s = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (s.length === 0) return;
    if (this.skipLf) {
      this.skipLf = false;
      if (s.charCodeAt(0) === 10) s = s.slice(1);
    }
    let text = this.buf + s;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i));
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.skipLf = true;
        }
      }
      start = i + 1;
    }
    this.buf = start < text.length ? text.slice(start) : '';
    text = '';
  }

  /** End of stream: flushes a last line and a pending event. */
  end(): void {
    const rest = this.decoder.end();
    if (rest) this.buf += rest;
    if (this.buf.length > 0) {
      this.line(this.buf);
      this.buf = '';
    }
    this.dispatch();
  }

  private line(l: string): void {
    if (l.length === 0) {
      this.dispatch();
      return;
    }
    if (l.charCodeAt(0) === 58 /* : */) {
      this.comments++;
      return;
    }
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    // id / retry / unknown fields: ignored
  }

  private dispatch(): void {
    if (this.data.length === 0) {
      this.event = undefined;
      return;
    }
    const d = this.data.length === 1 ? this.data[0] : this.data.join('\n');
    const e = this.event;
    this.data = [];
    this.event = undefined;
    this.onEvent(d, e);
  }
}
