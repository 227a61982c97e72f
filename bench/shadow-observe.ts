/**
 * What the shadow comparison costs the sending thread (issue 12): ns per `ShadowAccumulator.observe`
 * (three parsed responses in, field diffs primary–candidate and primary–secondary, ML figures) for
 *
 * - a KServe v2 response of a 10-class classifier (probabilities + predicted label, a random id per
 *   answer; primary and secondary the same probabilities, the candidate's all slightly different),
 *   with the row's true label;
 * - an OpenAI chat completion (~60-token answer, id and `created` per answer, the candidate's text
 *   differing in a few tokens), compared as text too;
 * - the text comparison's worst case: 4,000-token answers that differ throughout.
 *
 * Responses are generated beforehand (a pool of `pool` triples, parsed as the engine would), so only
 * observe() is timed: in batches (mean per call) and per call (hrtime around each call, which adds
 * its own ~30–60 ns). A window's `take()` every 1,000 calls is included, as the engine does it.
 *
 *   node dist/bench/shadow-observe.js [--calls 100000] [--pool 1000]
 */
import { ShadowAccumulator, type ShadowExchange } from '../src/comparison/shadow.js';
import type { ShadowPlan } from '../src/plan/comparison.js';
import { Rng } from '../src/core/random.js';
import { fmt, heading, machineLine, numericArgs, table, warnIfBusy } from './common.js';

const args = numericArgs({ calls: 100_000, pool: 1000 });

const plan: ShadowPlan = {
  ignore: ['$.id', '$.created', '$.system_fingerprint'],
  tolerance: { absolute: 1e-6, relative: 0 },
  relativeThreshold: 20,
  absoluteThreshold: 0.03,
  allowSideEffects: true,
  topK: 3,
  maxExamples: 3,
};

type Triple = [ShadowExchange, ShadowExchange, ShadowExchange, number | string | undefined];

const rng = new Rng(42);
/** Through JSON text and back, as the engine hands over parsed bodies. */
const parsed = (v: unknown) => JSON.parse(JSON.stringify(v));

/** One answer of a 10-class model to a row with these logits; `shift` perturbs them (another version). */
function kserve(logits: number[], shift: number): ShadowExchange {
  const raw = logits.map((v) => v + shift * rng.float());
  const z = raw.reduce((s, v) => s + Math.exp(v), 0);
  const data = raw.map((v) => Math.exp(v) / z);
  const body = parsed({
    model_name: 'digits',
    model_version: '1',
    id: `${Math.floor(rng.float() * 1e15).toString(16)}`,
    outputs: [{ name: 'probabilities', shape: [1, 10], datatype: 'FP32', data }],
  });
  const scores = body.outputs[0].data as number[];
  return { status: 200, body, prediction: { scores, label: scores.indexOf(Math.max(...scores)) } };
}

const WORDS = 'the a model answer is of to in that it for on with as was this be by not are at or from'.split(' ');
function chat(seedText: string[], changes: number): ShadowExchange {
  const words = [...seedText];
  for (let i = 0; i < changes; i++) words[rng.int(words.length)] = WORDS[rng.int(WORDS.length)];
  const content = words.join(' ');
  const body = parsed({
    id: `chatcmpl-${Math.floor(rng.float() * 1e15).toString(36)}`,
    object: 'chat.completion',
    created: 1_790_000_000 + rng.int(100),
    model: 'llama-3-8b',
    system_fingerprint: `fp_${rng.int(1e6)}`,
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 42, completion_tokens: words.length, total_tokens: 42 + words.length },
  });
  return { status: 200, body, prediction: { text: content } };
}

function kservePool(): Triple[] {
  return Array.from({ length: args.pool }, () => {
    const truth = rng.int(10);
    const logits = Array.from({ length: 10 }, (_, k) => (k === truth ? 3 : rng.normal(0, 1)));
    return [kserve(logits, 0), kserve(logits, 0), kserve(logits, 0.05), truth];
  });
}

function chatPool(): Triple[] {
  return Array.from({ length: args.pool }, () => {
    const text = Array.from({ length: 60 }, () => WORDS[rng.int(WORDS.length)]);
    return [chat(text, 0), chat(text, 0), chat(text, rng.int(4)), undefined];
  });
}

/** The worst case of the text comparison: long answers that differ throughout. */
function longChatPool(): Triple[] {
  return Array.from({ length: Math.min(args.pool, 100) }, () => {
    const a = Array.from({ length: 4000 }, () => WORDS[rng.int(WORDS.length)]);
    const b = Array.from({ length: 4000 }, () => WORDS[rng.int(WORDS.length)]);
    return [chat(a, 0), chat(a, 0), chat(b, 0), undefined];
  });
}

function measure(pool: Triple[], calls: number): { meanNs: number; p50: number; p99: number; max: number } {
  const acc = new ShadowAccumulator(plan);
  // warm-up (JIT)
  for (let i = 0; i < calls / 5; i++) acc.observe(...pool[i % pool.length]);
  acc.take();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    acc.observe(...pool[i % pool.length]);
    if (i % 1000 === 999) acc.take();
  }
  const meanNs = Number(process.hrtime.bigint() - t0) / calls;
  const per = new Float64Array(calls);
  for (let i = 0; i < per.length; i++) {
    const t = process.hrtime.bigint();
    acc.observe(...pool[i % pool.length]);
    per[i] = Number(process.hrtime.bigint() - t);
    if (i % 1000 === 999) acc.take();
  }
  per.sort();
  const q = (p: number) => per[Math.min(per.length - 1, Math.floor(p * per.length))];
  return { meanNs, p50: q(0.5), p99: q(0.99), max: per[per.length - 1] };
}

const busy = await warnIfBusy();
const rows = [
  ['ns per observe()', 'mean (batch)', 'p50 (per call)', 'p99', 'max'],
  ...(
    [
      ['KServe v2, 10 classes, scores + label', kservePool(), args.calls],
      ['OpenAI chat, ~60 tokens, text', chatPool(), args.calls],
      ['OpenAI chat, 4,000 tokens, all different', longChatPool(), Math.ceil(args.calls / 100)],
    ] as const
  ).map(([name, pool, calls]) => {
    const r = measure(pool, calls);
    return [`${name} (${fmt(calls)} calls)`, fmt(r.meanNs), fmt(r.p50), fmt(r.p99), fmt(r.max)];
  }),
];
heading('Shadow comparison on the sending thread: ns per ShadowAccumulator.observe()', [
  machineLine(),
  busy,
  '',
  table(rows),
  '(per-call figures include hrtime overhead; max includes GC pauses)',
]);
