/**
 * A loopback target with known timing that also records what it actually did (its own truth), run
 * as a child process by bench/stream-timing.ts:
 *
 *   node dist/bench/timed-server.js --port P [--ttft 100] [--gap 15] [--tokens 20] [--service 10]
 *
 * - POST /v1/chat/completions (stream): an OpenAI-style SSE stream, the first content token written
 *   `ttft` ms after the request arrived, then one every `gap` ms, `tokens` in all, then [DONE].
 *   Truth per stream: first token written − request received; every gap between token writes.
 * - GET /v1/models: for the adapter's readiness check.
 * - anything else: 200 "ok" after `service` ms. Truth: request received → response written.
 * - GET /__stats?from=S: the truth so far as JSON (sorted values, ms) of what completed from S
 *   seconds after the first request since the last reset on (the generator's first windows hold its
 *   set-up and warm-up), and resets it. With `&detail=1` also `records`: each request's own figures
 *   by id — every response carries its id in an `x-timed-id` header, so a wire capture
 *   (bench/pcap.ts) can be compared with this clock request by request.
 * Each token write is timed right after `res.write()` returns — just before the bytes reach the
 * kernel: node:http corks the socket inside a write and sends on the next tick (the wire truth,
 * bench/pcap.ts, sees the send itself).
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values: v } = parseArgs({
  options: {
    port: { type: 'string' },
    ttft: { type: 'string', default: '100' },
    gap: { type: 'string', default: '15' },
    tokens: { type: 'string', default: '20' },
    service: { type: 'string', default: '10' },
  },
  strict: true,
});
const PORT = Number(v.port);
const TTFT = Number(v.ttft);
const GAP = Number(v.gap);
const TOKENS = Number(v.tokens);
const SERVICE = Number(v.service);

/** Per completed request: when it completed (ms) and its figures. */
let completed: Array<{ id: number; at: number; ttft?: number; gaps?: number[]; service?: number }> = [];
let nextId = 1;
let first = -1;
/**
 * The server's own event-loop delay: a request that waits in its socket buffer while the loop is
 * busy is late before its handler (where the truth starts) runs, so that wait is in the client's
 * TTFT but not in the server's. Beyond the 10 ms sampling interval, in ms.
 */
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();
const eldMs = (ns: number) => Math.max(0, ns / 1e6 - 10);

function event(data: string): string {
  return `data: ${data}\n\n`;
}

const server = http.createServer((req, res) => {
  const t0 = performance.now();
  req.socket.setNoDelay(true);
  const url = req.url ?? '/';
  req.resume();
  if (url.startsWith('/__stats')) {
    const from = first + Number(new URL(url, 'http://x').searchParams.get('from') ?? 0) * 1000;
    const kept = completed.filter((d) => d.at >= from);
    const sort = (a: number[]) => a.sort((x, y) => x - y);
    const detail = new URL(url, 'http://x').searchParams.get('detail') === '1';
    const body = JSON.stringify({
      streams: kept.filter((d) => d.ttft !== undefined).length,
      ttft: sort(kept.flatMap((d) => (d.ttft === undefined ? [] : [d.ttft]))),
      gaps: sort(kept.flatMap((d) => d.gaps ?? [])),
      service: sort(kept.flatMap((d) => (d.service === undefined ? [] : [d.service]))),
      eventLoopDelayMs: { p99: eldMs(eld.percentile(99)), max: eldMs(eld.max) },
      ...(detail ? { records: kept.map(({ id, ttft, gaps, service }) => ({ id, ttft, gaps, service })) } : {}),
    });
    eld.reset();
    completed = [];
    first = -1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  if (url === '/v1/models') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'tiny', object: 'model' }] }));
    return;
  }
  if (first < 0 && url !== '/v1/models') first = t0;
  const id = nextId++;
  res.setHeader('x-timed-id', String(id));
  if (url === '/v1/chat/completions') {
    let ttft = 0;
    const gaps: number[] = [];
    req.once('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(event(JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] })));
      let i = 0;
      let last = 0;
      const next = () => {
        const isLast = i === TOKENS - 1;
        res.write(
          event(
            JSON.stringify({
              choices: [{ index: 0, delta: { content: `w${i} ` }, finish_reason: isLast ? 'length' : null }],
            }),
          ),
        );
        const now = performance.now();
        if (i === 0) ttft = now - t0;
        else gaps.push(now - last);
        last = now;
        i++;
        if (isLast) {
          res.end(event('[DONE]'));
          completed.push({ id, at: performance.now(), ttft, gaps });
          return;
        }
        // Scheduled from the request's arrival, not from the last write: no drift.
        setTimeout(next, Math.max(0, t0 + TTFT + i * GAP - performance.now()));
      };
      setTimeout(next, Math.max(0, t0 + TTFT - performance.now()));
    });
    return;
  }
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
    const now = performance.now();
    completed.push({ id, at: now, service: now - t0 });
  }, SERVICE);
});
server.keepAliveTimeout = 120_000;
server.listen(PORT, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
