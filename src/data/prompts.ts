/**
 * Prompt datasets for OpenAI-compatible endpoints: JSON Lines (or JSON array / CSV) rows with
 * `prompt` (text) or `messages` (chat messages [{role, content}]), and optionally `max_tokens`.
 * For the chat endpoint a bare prompt becomes one user message; for the completions endpoint
 * messages are joined (their contents, one per line) into a prompt.
 */
import type { Dataset } from './dataset.js';
import { rowWhere } from './dataset.js';
import type { ProblemList } from './problems.js';

export interface Prompt {
  prompt?: string;
  messages?: Array<{ role: string; content: unknown }>;
  maxTokens?: number;
}

function valueAt(ds: Dataset, col: string, row: number): unknown {
  const c = ds.columns.get(col);
  if (!c) return undefined;
  const m = ds.missing(col);
  const v = c.values[row];
  if (m && c.kind === 'number' && Number.isNaN(v as number)) return undefined;
  if (m && c.kind === 'string' && v === '') return undefined;
  return v;
}

export function loadPrompts(ds: Dataset, endpoint: 'chat' | 'completions', problems: ProblemList): Prompt[] {
  const hasPrompt = ds.columns.has('prompt');
  const hasMessages = ds.columns.has('messages');
  if (!hasPrompt && !hasMessages) {
    problems.add({
      file: ds.file,
      message: 'prompt data needs a `prompt` or a `messages` column',
      hint: '{"prompt": "…", "max_tokens": 64} or {"messages": [{"role": "user", "content": "…"}]} per line',
    });
    return [];
  }
  const out: Prompt[] = new Array(ds.rowCount);
  for (let r = 0; r < ds.rowCount; r++) {
    if (ds.flawed(r)) continue; // reported as a wrong-width row
    const p: Prompt = {};
    const msg = hasMessages ? valueAt(ds, 'messages', r) : undefined;
    const pr = hasPrompt ? valueAt(ds, 'prompt', r) : undefined;
    if (msg !== undefined && msg !== null) {
      if (
        !Array.isArray(msg) ||
        msg.length === 0 ||
        !msg.every(
          (m) =>
            m !== null &&
            typeof m === 'object' &&
            typeof (m as { role?: unknown }).role === 'string' &&
            'content' in (m as object),
        )
      ) {
        problems.add({
          ...rowWhere(ds, r, 'messages'),
          message: `row ${r + 1}: messages must be a non-empty list of {role, content}`,
        });
        continue;
      }
      p.messages = msg as Prompt['messages'];
    } else if (typeof pr === 'string' && pr.length > 0) {
      p.prompt = pr;
    } else if (typeof pr === 'number') {
      p.prompt = String(pr);
    } else {
      problems.add({ ...rowWhere(ds, r), message: `row ${r + 1} has neither a prompt nor messages` });
      continue;
    }
    if (endpoint === 'chat' && !p.messages) p.messages = [{ role: 'user', content: p.prompt! }];
    if (endpoint === 'completions' && !p.prompt)
      p.prompt = p
        .messages!.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
        .join('\n');
    if (endpoint === 'chat') delete p.prompt;
    else delete p.messages;
    const mt = ds.columns.has('max_tokens') ? valueAt(ds, 'max_tokens', r) : undefined;
    if (mt !== undefined && mt !== null && mt !== '') {
      const n = typeof mt === 'number' ? mt : Number(mt);
      if (!Number.isInteger(n) || n < 1)
        problems.add({
          ...rowWhere(ds, r, 'max_tokens'),
          message: `row ${r + 1}: max_tokens ${JSON.stringify(mt)} is not a positive integer`,
        });
      else p.maxTokens = n;
    }
    out[r] = p;
  }
  return out;
}
