/**
 * Responses and request bodies of the reference server, shared by every protocol's routes: sending
 * (after fault latency and outside stalls), error bodies per protocol, 404/405, bounded JSON bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deliver } from './faults.js';
import type { FaultState } from './faults.js';

export type Labels = { model: string; version: string };
export const NO_MODEL: Labels = { model: '', version: '' };

/** Error body of a protocol for a status and message. */
export type ErrorFormat = (status: number, message: string) => string;

export const jsonError: ErrorFormat = (_s, message) => JSON.stringify({ error: message });
const TORCH_TYPES: Record<number, string> = {
  400: 'BadRequestException',
  404: 'ModelNotFoundException',
  405: 'MethodNotAllowedException',
  413: 'RequestTooLargeException',
  429: 'ServiceUnavailableException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};
export const torchError: ErrorFormat = (status, message) =>
  JSON.stringify({ code: status, type: TORCH_TYPES[status] ?? 'InternalServerException', message });

export interface SendOptions {
  delayMs?: number;
  headers?: Record<string, string>;
  immediate?: boolean;
  contentType?: string;
  onSent?: () => void;
}

export interface Http {
  /** Sends a complete response after `delayMs` and outside stalls (admin replies skip both: `immediate`). */
  send(res: ServerResponse, status: number, body: string, labels: Labels, opts?: SendOptions): void;
  /** Reads a JSON body of at most maxBodyBytes (413 beyond, 400 when not JSON), then calls `then`. */
  readJson(
    req: IncomingMessage,
    res: ServerResponse,
    labels: Labels,
    errorFormat: ErrorFormat,
    then: (body: unknown) => void,
  ): void;
  notFound(res: ServerResponse, method: string, path: string): void;
  methodNotAllowed(res: ServerResponse, allow: string): void;
}

export function createHttp(deps: {
  faults: FaultState;
  maxBodyBytes: number;
  countHttp: (model: string, version: string, status: number) => void;
}): Http {
  const { faults, maxBodyBytes, countHttp } = deps;
  const send: Http['send'] = (res, status, body, labels, opts = {}) => {
    const write = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, {
        'content-type': opts.contentType ?? 'application/json',
        'content-length': Buffer.byteLength(body),
        ...opts.headers,
      });
      res.end(body);
      countHttp(labels.model, labels.version, status);
      opts.onSent?.();
    };
    if (opts.immediate) write();
    else deliver(faults, opts.delayMs ?? 0, write);
  };

  const readJson: Http['readJson'] = (req, res, labels, errorFormat, then) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) {
      req.resume();
      send(res, 413, errorFormat(413, `request body larger than ${maxBodyBytes} bytes`), labels, {
        headers: { connection: 'close' },
      });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      if (tooBig) return;
      size += c.length;
      if (size > maxBodyBytes) {
        tooBig = true;
        chunks.length = 0;
        send(res, 413, errorFormat(413, `request body larger than ${maxBodyBytes} bytes`), labels, {
          headers: { connection: 'close' },
        });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return;
      const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(buf.toString('utf8'));
      } catch (e) {
        send(res, 400, errorFormat(400, `invalid JSON: ${(e as Error).message}`), labels);
        return;
      }
      then(body);
    });
  };

  return {
    send,
    readJson,
    notFound: (res, method, path) => send(res, 404, jsonError(404, `not found: ${method} ${path}`), NO_MODEL),
    methodNotAllowed: (res, allow) =>
      send(res, 405, jsonError(405, `method not allowed (allowed: ${allow})`), NO_MODEL, { headers: { allow } }),
  };
}
