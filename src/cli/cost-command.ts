/**
 * `preflight cost <results-dir> [<results-dir-2>]`: the cost of runs already made, from their
 * measured capacity and a price file (docs/cost.md) — the plan's `cost:` section (`--plan`), or the
 * same keys as flags. With two folders (v1, v2): side by side, and which is cheaper per correct
 * inference. Reads the results folders; writes nothing.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CostSummary } from '../core/cost.js';
import { PreflightError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import { fmtNum, fmtRate } from '../core/format.js';
import type { Summary } from '../core/results.js';
import { compareCosts } from '../cost/index.js';
import {
  didYouMean,
  loadPlan,
  readPriceFile,
  tryParsePercent,
  tryParseRate,
  type CostPlan,
  type ThresholdPlan,
} from '../plan/index.js';
import { COST_HEAD, costFacts, costRows, loadResultsSync } from '../report/index.js';
import { costOfResults } from '../run/index.js';
import { evaluateThresholds } from '../verdict/index.js';
import { paint, table, useColor } from './format.js';

function argError(message: string, hint?: string): PreflightError {
  return new PreflightError('E_ARGS', message, hint ? { problems: [{ file: '<args>', message, hint }] } : {});
}

function rateArg(name: string, v: string): number {
  const r = tryParseRate(v);
  if (!r.ok || !(r.value > 0)) throw argError(`--${name}: ${r.ok ? 'must be more than 0/s' : r.message}`, 'e.g. 500/s');
  return r.value;
}

/** A CostPlan from flags (no plan file). */
function costFromFlags(v: Record<string, string | undefined>): CostPlan {
  const prices = v['prices'];
  if (!prices) throw argError('cost needs --prices <prices.yaml> (or --plan <plan.yaml> with a cost: section)');
  const r = readPriceFile(path.resolve(prices));
  if (!r.prices || r.problems.length > 0)
    throw new PreflightError('E_ARGS', `price file ${prices}: ${r.problems.length} problem(s)`, {
      problems: r.problems,
    });
  const instance =
    v['instance'] ?? (Object.keys(r.prices.instances).length === 1 ? Object.keys(r.prices.instances)[0] : undefined);
  if (!instance)
    throw argError(
      'cost needs --instance <type> (a key of the price file’s instances)',
      didYouMean('', Object.keys(r.prices.instances), 'instance types'),
    );
  if (!r.prices.instances[instance])
    throw argError(
      `--instance: unknown instance type \`${instance}\` in ${prices}`,
      didYouMean(instance, Object.keys(r.prices.instances), 'instance types'),
    );
  if (v['peak'] === undefined)
    throw argError('cost needs --peak <rate>: the expected peak traffic', 'e.g. --peak 500/s');
  let headroom = 0.3;
  if (v['headroom'] !== undefined) {
    const h = tryParsePercent(v['headroom']);
    if (!h.ok) throw argError(`--headroom: ${h.message}`, 'e.g. 30%');
    headroom = h.value;
  }
  const int = (name: string, def: number, min: number): number => {
    const s = v[name];
    if (s === undefined) return def;
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw argError(`--${name} must be an integer ≥ ${min}, got "${s}"`);
    return n;
  };
  const hours = v['hours-per-month'] === undefined ? 730 : Number(v['hours-per-month']);
  if (!(hours > 0)) throw argError(`--hours-per-month must be a number > 0, got "${v['hours-per-month']}"`);
  const currency = v['currency'] ?? r.prices.currency;
  if (!currency)
    throw argError('no currency: the price file names none', 'add currency: USD to it, or pass --currency');
  return {
    pricesFile: path.resolve(prices),
    prices: { ...r.prices, currency },
    instance,
    peakPerS: rateArg('peak', v['peak']),
    headroom,
    minReplicas: int('min-replicas', 1, 0),
    capacity:
      v['capacity'] === undefined
        ? { fromRun: true }
        : { fromRun: false, perSecond: rateArg('capacity', v['capacity']) },
    testedReplicas: int('tested-replicas', 1, 1),
    hoursPerMonth: hours,
    currency,
  };
}

function costOf(cost: CostPlan, dir: string): { summary: Summary; cost: CostSummary; warnings: string[] } {
  const { summary } = loadResultsSync(dir);
  let warnings: string[];
  try {
    warnings = costOfResults(cost, summary);
  } catch (e) {
    throw argError(`${dir}: ${(e as Error).message}`);
  }
  if (!summary.cost) throw new PreflightError('E_ARGS', `${dir}: ${summary.cost_note ?? 'no cost could be computed'}`);
  return { summary, cost: summary.cost, warnings };
}

export async function costCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        plan: { type: 'string' },
        prices: { type: 'string' },
        instance: { type: 'string' },
        peak: { type: 'string' },
        headroom: { type: 'string' },
        'min-replicas': { type: 'string' },
        capacity: { type: 'string' },
        'tested-replicas': { type: 'string' },
        'hours-per-month': { type: 'string' },
        currency: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw argError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length < 1 || positionals.length > 2)
    throw argError(
      'cost takes one results folder, or two to compare: preflight cost <results-dir> [<results-dir-2>] --prices prices.yaml --instance T --peak 500/s',
    );
  let cost: CostPlan;
  let gates: ThresholdPlan[] = [];
  if (values.plan !== undefined) {
    const plan = await loadPlan(values.plan);
    if (!plan.cost)
      throw argError(
        `${values.plan} has no cost: section`,
        'add one (docs/cost.md), or pass --prices, --instance and --peak',
      );
    cost = plan.cost;
    gates = plan.thresholds.filter((t) => t.cost !== undefined);
  } else cost = costFromFlags(values as Record<string, string | undefined>);
  const runs = positionals.map((d) => ({ dir: d, ...costOf(cost, d) }));
  const c = paint(useColor());
  let code: number = ExitCode.Passed;
  const out: string[] = [];
  const json: Record<string, unknown> = {};
  for (const r of runs) {
    out.push(c.bold(`${r.dir}: cost (${r.cost.currency})`), indent(table([COST_HEAD, ...costRows(r.summary)])));
    for (const f of costFacts(r.cost)) out.push(c.dim(`  ${f}`));
    for (const w of r.warnings) out.push(c.yellow(`  warning: ${w}`));
    if (gates.length > 0) {
      const results = evaluateThresholds(gates, r.summary);
      for (const t of results)
        out.push(
          `  ${t.ok ? c.green('✓') : c.red('✗')} ${t.expression}  ${t.value === null ? (t.note ?? 'no data') : fmtNum(t.value)}`,
        );
      if (results.some((t) => !t.ok)) code = ExitCode.ThresholdsFailed;
      json[r.dir] = { cost: r.cost, thresholds: results };
    } else json[r.dir] = { cost: r.cost };
    out.push('');
  }
  if (runs.length === 2) {
    const [a, b] = runs;
    const cmp = compareCosts(a.cost, b.cost, [a.dir, b.dir]);
    const ratio = (x: number) => `${fmtNum(x)}×`;
    const rows = [
      ['', a.dir, b.dir, `${b.dir} / ${a.dir}`],
      [
        'capacity per replica',
        fmtRate(a.cost.capacity_per_replica),
        fmtRate(b.cost.capacity_per_replica),
        ratio(b.cost.capacity_per_replica / a.cost.capacity_per_replica),
      ],
      ['replicas at the peak', String(a.cost.replicas), String(b.cost.replicas), ''],
      ['monthly (on-demand)', fmtNum(cmp.monthly.a), fmtNum(cmp.monthly.b), ratio(cmp.monthly.ratio)],
      ['per 1k inferences', fmtNum(cmp.per_1k.a), fmtNum(cmp.per_1k.b), ratio(cmp.per_1k.ratio)],
    ];
    if (cmp.per_1k_correct)
      rows.push([
        'per 1k correct inferences',
        fmtNum(cmp.per_1k_correct.a),
        fmtNum(cmp.per_1k_correct.b),
        ratio(cmp.per_1k_correct.ratio),
      ]);
    out.push(c.bold('side by side (on-demand, actual use)'), indent(table(rows)), `  ${cmp.text}`, '');
    json['comparison'] = cmp;
  }
  process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${out.join('\n')}\n`);
  return code;
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
