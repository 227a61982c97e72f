/**
 * The plan's `cost:` section and the price file it names (docs/cost.md): validated with located
 * problems — the price file's own problems point into the price file. The model that turns them
 * into figures is src/cost; the figures land in `summary.cost` (src/core/cost.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { isScalar, LineCounter, parseDocument } from 'yaml';
import type { InstancePrice, PriceList } from '../core/cost.js';
import type { Problem } from '../core/errors.js';
import type { Env } from './secrets.js';
import { type ObjectSpec, type Raw, type Spec, show, Walker } from './spec.js';
import { didYouMean } from './suggest.js';
import { tryParseRate } from './units.js';

/** Where a cost section takes the capacity per replica from. */
export type CostCapacity = { fromRun: true } | { fromRun: false; perSecond: number };

export interface CostPlan {
  /** The price file, resolved (absolute). */
  pricesFile: string;
  prices: PriceList;
  instance: string;
  /** Expected peak traffic, inferences per second (the curve's highest rate when not given). */
  peakPerS: number;
  headroom: number;
  minReplicas: number;
  /** 24 hourly rates per second, when the plan gives a daily curve. */
  curve?: number[];
  capacity: CostCapacity;
  /** The target under test is this many replicas: the measured capacity is divided by it. */
  testedReplicas: number;
  hoursPerMonth: number;
  currency: string;
}

const HOURS = 24;

/** The `cost:` section's keys; `percent` is syntax.ts's percentSpec (passed in: syntax.ts imports this module). */
export function costSpecWith(percent: (description: string, def?: string) => Spec): ObjectSpec {
  return {
    t: 'object',
    what: 'cost',
    description:
      'Capacity and cost planning (docs/cost.md): replicas, monthly cost and cost per 1k/1M inferences from the measured capacity and a price file. After a plain run or a capacity profile.',
    fields: {
      prices: {
        t: 'string',
        nonEmpty: true,
        required: true,
        description: 'Price file (YAML: currency, instances with onDemand/spot per hour, gpus), relative to the plan.',
      },
      instance: {
        t: 'string',
        nonEmpty: true,
        required: true,
        description: 'Instance type one replica runs on: a key of the price file’s `instances`.',
      },
      peak: {
        t: 'rate',
        positive: true,
        description: 'Expected peak traffic, e.g. 500/s. Default: the curve’s highest rate.',
      },
      headroom: percent('Spare capacity kept above the traffic.', '30%'),
      minReplicas: { t: 'int', min: 0, default: 1, description: 'Fewest replicas kept running.' },
      curve: {
        t: 'union',
        expected: 'a list of 24 hourly rates, or points `{ hour: rate }`',
        description:
          'Daily traffic: 24 rates (hours 0–23), or points { 9: 150/s, 22: 40/s } joined linearly around the clock.',
        seq: { t: 'array', keepHoles: true, items: { t: 'rate' } },
        map: {
          t: 'map',
          what: 'curve points',
          values: { t: 'rate' },
          keyPattern: /^(?:[01]?\d|2[0-3])$/,
          keyMessage: 'curve points are keyed by the hour, 0 to 23',
        },
      },
      capacity: {
        t: 'custom',
        default: 'from-run',
        schema: {
          description:
            'Capacity per replica: `from-run` (a capacity profile’s max sustainable rate within the SLO; a plain run’s goodput, else its successful throughput) or a rate like 120/s.',
          type: 'string',
        },
        parse: parseCapacity,
      },
      testedReplicas: {
        t: 'int',
        min: 1,
        default: 1,
        description: 'Replicas behind the tested target: a measured capacity is divided by this.',
      },
      hoursPerMonth: {
        t: 'number',
        exclusiveMin: 0,
        default: 730,
        description: 'Hours in a month for monthly figures (730 = 365 × 24 / 12).',
      },
      currency: {
        t: 'string',
        nonEmpty: true,
        description: 'Currency of the prices (checked against the price file’s `currency`, if it has one).',
      },
    },
  };
}

function parseCapacity(w: Walker, node: unknown, path: string): unknown {
  const s = isScalar(node) ? w.scalar(node, path) : undefined;
  if (!s || (typeof s.value !== 'string' && typeof s.value !== 'number')) {
    w.problem(node, path, `expected \`from-run\` or a rate like \`120/s\`, got ${w.describe(node)}`);
    return undefined;
  }
  if (s.value === 'from-run') return { fromRun: true } satisfies CostCapacity;
  const r = tryParseRate(s.value);
  if (!r.ok) {
    w.problem(node, path, `capacity: ${r.message}`, r.hint ?? 'write `from-run` or a rate like 120/s');
    return undefined;
  }
  if (!(r.value > 0)) {
    w.problem(node, path, 'a capacity per replica must be more than 0/s', 'e.g. 120/s, or from-run');
    return undefined;
  }
  return { fromRun: false, perSecond: r.value } satisfies CostCapacity;
}

const priceFileSpec: ObjectSpec = {
  t: 'object',
  what: 'price file',
  fields: {
    currency: { t: 'string', nonEmpty: true, description: 'e.g. USD' },
    instances: {
      t: 'map',
      what: 'instance types',
      required: true,
      minEntries: 1,
      emptyHint: 'e.g. instances: { g5.xlarge: { onDemand: 1.006, spot: 0.40, gpus: 1 } }',
      values: {
        t: 'object',
        what: 'instance type',
        fields: {
          onDemand: { t: 'number', min: 0, required: true, description: 'On-demand price per hour.' },
          spot: { t: 'number', min: 0, description: 'Spot (preemptible) price per hour.' },
          gpus: { t: 'int', min: 0, description: 'GPUs per instance.' },
          gpu: { t: 'string', nonEmpty: true, description: 'GPU model, e.g. A10G.' },
        },
      },
    },
  },
};

/** Reads and validates a price file; problems are located in it. Never throws for the file's content. */
export interface PriceFileResult {
  prices?: PriceList;
  problems: Problem[];
  /** The instance types the file names (also when some of their prices are wrong). */
  names?: string[];
}

export function readPriceFile(file: string, env: Env = process.env): PriceFileResult {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      problems: [
        {
          file,
          message:
            code === 'ENOENT' ? `price file not found: ${file}` : `cannot read price file ${file}: ${code ?? err}`,
          hint: 'a YAML file: currency: USD, instances: { <type>: { onDemand: <per hour>, spot: <per hour>, gpus: <n> } }',
        },
      ],
    };
  }
  return parsePriceText(text, file, env);
}

/** A price file's text → a PriceList, or its problems (located in `file`). */
export function parsePriceText(text: string, file: string, env: Env = process.env): PriceFileResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.slice(0, 5).map((e) => {
        const { line, col } = lc.linePos(e.pos[0]);
        return { file, line, column: col, message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const w = new Walker(doc, lc, file, env);
  if (doc.contents === null) {
    return {
      problems: [{ file, line: 1, column: 1, message: 'the price file is empty', hint: 'give currency and instances' }],
    };
  }
  const raw = w.walk(doc.contents, priceFileSpec, '') as Raw | undefined;
  const names = Object.keys((raw?.['instances'] as Raw | undefined) ?? {});
  if (w.problems.length > 0 || !raw) return { problems: w.problems, names };
  const instances: Record<string, InstancePrice> = {};
  for (const [name, v] of Object.entries(raw['instances'] as Record<string, Raw>)) {
    const p: InstancePrice = { onDemandPerHour: v['onDemand'] };
    if (v['spot'] !== undefined) p.spotPerHour = v['spot'];
    if (v['gpus'] !== undefined) p.gpus = v['gpus'];
    if (v['gpu'] !== undefined) p.gpu = v['gpu'];
    if (p.spotPerHour !== undefined && p.spotPerHour > p.onDemandPerHour)
      w.warnAt(
        `instances.${name}.spot`,
        `spot price ${p.spotPerHour} is above the on-demand price ${p.onDemandPerHour}`,
      );
    instances[name] = p;
  }
  return { prices: { source: file, currency: raw['currency'] ?? '', instances }, problems: [], names };
}

/** 24 hourly rates from a list or from points `{ hour: rate }` joined linearly around the clock. */
function curveOf(w: Walker, raw: unknown): number[] | undefined {
  if (Array.isArray(raw)) {
    if (raw.length !== HOURS) {
      w.problemAt(
        'cost.curve',
        `a daily curve has ${HOURS} hourly rates (hours 0 to 23), got ${raw.length}`,
        'give one rate per hour, or points such as { 0: 20/s, 9: 150/s, 18: 150/s, 22: 40/s }',
      );
      return undefined;
    }
    if (raw.some((x) => typeof x !== 'number')) return undefined; // an invalid rate, already reported
    return raw as number[];
  }
  if (raw && typeof raw === 'object') {
    const points = Object.entries(raw as Record<string, unknown>)
      .filter((e): e is [string, number] => typeof e[1] === 'number')
      .map(([h, r]) => [Number(h), r] as const)
      .sort((a, b) => a[0] - b[0]);
    if (points.length === 0) return undefined;
    const out: number[] = [];
    for (let h = 0; h < HOURS; h++) {
      // The points before and after h, wrapping past midnight.
      const before = [...points].reverse().find((p) => p[0] <= h) ?? points[points.length - 1];
      const after = points.find((p) => p[0] >= h) ?? points[0];
      const span = (after[0] - before[0] + HOURS) % HOURS;
      const at = (h - before[0] + HOURS) % HOURS;
      out.push(span === 0 ? before[1] : before[1] + ((after[1] - before[1]) * at) / span);
    }
    return out;
  }
  return undefined;
}

/**
 * The resolved cost section, or undefined (its problems recorded on `w`: those of the price file
 * carry the price file's path and position).
 */
export function buildCost(
  w: Walker,
  raw: Raw,
  opts: { resolveFile: (p: string) => string; profile: string | undefined },
): CostPlan | undefined {
  if (opts.profile !== undefined && opts.profile !== 'capacity') {
    w.problemAt(
      'cost',
      `cost is computed from a plain run or a capacity profile; this plan is a ${opts.profile} profile`,
      'use profile: { type: capacity, … } (its max sustainable rate is the capacity), or `scenarios:`',
      'key',
    );
    return undefined;
  }
  const pricesPath = raw['prices'] as string | undefined;
  const instance = raw['instance'] as string | undefined;
  let prices: PriceList | undefined;
  let pricesFile: string | undefined;
  let names: string[] | undefined;
  if (pricesPath !== undefined) {
    pricesFile = opts.resolveFile(pricesPath);
    const r = readPriceFile(pricesFile, w.env);
    if (r.problems.length > 0 && r.problems[0].line === undefined) {
      // The file itself is missing: point at the plan's key.
      w.problemAt(
        'cost.prices',
        `price file ${show(pricesPath)} not found`,
        `paths are relative to the plan file's folder (${pricesFile})`,
      );
    } else w.problems.push(...r.problems);
    prices = r.prices;
    names = r.names;
  }
  const curve = raw['curve'] !== undefined ? curveOf(w, raw['curve']) : undefined;
  let peak = raw['peak'] as number | undefined;
  if (peak === undefined && curve) peak = Math.max(...curve);
  if (peak === undefined && !w.has('cost.peak') && !w.has('cost.curve'))
    w.problemAt('cost', 'cost needs the expected `peak` traffic (or a daily `curve`)', 'e.g. peak: 500/s', 'key');
  if (peak !== undefined && !(peak > 0) && !w.has('cost.peak'))
    w.problemAt('cost.curve', 'the daily curve is 0 all day', 'give the expected traffic per hour');
  if (curve && peak !== undefined && raw['peak'] !== undefined && Math.max(...curve) > peak + 1e-9)
    w.problemAt(
      'cost.curve',
      `the daily curve reaches ${Math.max(...curve)}/s, above the peak ${peak}/s`,
      'raise `peak`, or leave it out: the curve’s highest rate is then the peak',
    );
  let currency = (raw['currency'] as string | undefined) ?? prices?.currency;
  if (names && instance !== undefined && !names.includes(instance)) {
    w.problemAt(
      'cost.instance',
      `unknown instance type \`${instance}\`: not in the price file ${pricesPath ?? ''}`,
      didYouMean(instance, names, 'instance types'),
    );
  }
  if (prices && raw['currency'] !== undefined && prices.currency && prices.currency !== raw['currency'])
    w.problemAt(
      'cost.currency',
      `the plan says currency ${raw['currency']}, the price file ${prices.currency}`,
      'give the price file’s currency, or leave `currency` out',
    );
  if (prices && !currency) {
    w.problemAt(
      'cost',
      'no currency: neither the price file nor the cost section says one',
      'add currency: USD to the price file',
      'key',
    );
    currency = undefined;
  }
  if (!prices || !pricesFile || instance === undefined || peak === undefined || !(peak > 0) || !currency)
    return undefined;
  if (!prices.instances[instance]) return undefined;
  const capacity = (raw['capacity'] as CostCapacity | undefined) ?? { fromRun: true };
  return {
    pricesFile,
    prices: { ...prices, currency },
    instance,
    peakPerS: peak,
    headroom: raw['headroom'] ?? 0.3,
    minReplicas: raw['minReplicas'] ?? 1,
    ...(curve ? { curve } : {}),
    capacity,
    testedReplicas: raw['testedReplicas'] ?? 1,
    hoursPerMonth: raw['hoursPerMonth'] ?? 730,
    currency,
  };
}
