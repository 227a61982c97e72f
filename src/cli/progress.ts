/**
 * Live progress. On a TTY: a block redrawn in place each window (elapsed / planned with a bar,
 * achieved vs target rate, last-window p50/p99, errors, in flight). Elsewhere (CI logs): one plain
 * line per scenario every few seconds.
 */
import type { ProgressUpdate } from '../run/index.js';
import { terminal } from '../report/index.js';
import { paint, useColor } from './format.js';

export class ProgressView {
  private lines = 0;
  private lastPlain = -Infinity;
  private readonly tty: boolean;
  private readonly c: ReturnType<typeof paint>;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly plainEveryS = 5,
  ) {
    this.tty = Boolean(out.isTTY) && process.env.TERM !== 'dumb';
    this.c = paint(useColor(out));
  }

  update(p: ProgressUpdate): void {
    if (this.tty) this.redraw(p);
    else if (p.elapsedS - this.lastPlain >= this.plainEveryS) {
      this.lastPlain = p.elapsedS;
      for (const s of p.scenarios) if (s.state === 'running') this.out.write(plainLine(p, s) + '\n');
    }
  }

  /** Leaves the last frame on screen. */
  end(): void {
    this.lines = 0;
  }

  private redraw(p: ProgressUpdate): void {
    const c = this.c;
    const rows: string[] = [];
    const total = p.plannedS;
    rows.push(
      `${c.bold('preflight')} ${terminal.duration(p.elapsedS)}${total ? ` / ${terminal.duration(total)}` : ''} ${total ? bar(p.elapsedS / total, 24) : ''}`,
    );
    for (const s of p.scenarios) {
      const state = s.state === 'running' ? c.cyan('▶') : s.state === 'done' ? c.green('✓') : c.dim('…');
      const rate =
        s.state === 'done'
          ? `done, ${terminal.num(s.requests)} requests`
          : s.state === 'waiting'
            ? 'waiting'
            : s.targetRate !== undefined
              ? `${terminal.num(s.throughput)}/s of ${terminal.num(s.targetRate)}/s`
              : `${terminal.num(s.throughput)}/s${s.vus !== undefined ? ` ${s.vus} vus` : ''}`;
      const lat = s.p50 !== undefined ? `p50 ${terminal.ms(s.p50)} p99 ${terminal.ms(s.p99)}` : '';
      const errs = s.errors > 0 ? c.red(`${terminal.num(s.errors)} err`) : '0 err';
      const stage = s.stage
        ? ` stage ${s.stage.index}/${s.stage.count} (${terminal.duration(s.stage.remainingS)} left)`
        : '';
      const remaining =
        s.plannedS !== null && s.state === 'running'
          ? ` ${bar(s.elapsedS / s.plannedS, 12)} ${terminal.duration(Math.max(0, s.plannedS - s.elapsedS))} left${stage}`
          : '';
      rows.push(
        `  ${state} ${s.name.padEnd(14)} ${rate.padEnd(22)} ${lat.padEnd(26)} ${errs.padEnd(8)} ${s.inFlight} in flight${remaining}`,
      );
    }
    let text = '';
    if (this.lines > 0) text += `\x1b[${this.lines}A`;
    for (const r of rows) text += `\x1b[2K${r}\n`;
    this.lines = rows.length;
    this.out.write(text);
  }
}

function plainLine(p: ProgressUpdate, s: ProgressUpdate['scenarios'][number]): string {
  const parts = [
    `[${terminal.duration(p.elapsedS)}${p.plannedS ? `/${terminal.duration(p.plannedS)}` : ''}]`,
    s.name,
    `${terminal.num(s.throughput)}/s`,
  ];
  if (s.targetRate !== undefined) parts.push(`(target ${terminal.num(s.targetRate)}/s)`);
  if (s.vus !== undefined) parts.push(`vus=${s.vus}`);
  if (s.p50 !== undefined) parts.push(`p50=${terminal.ms(s.p50)} p99=${terminal.ms(s.p99)}`);
  parts.push(`errors=${s.errors}`, `in_flight=${s.inFlight}`);
  if (s.plannedS !== null) parts.push(`remaining=${terminal.duration(Math.max(0, s.plannedS - s.elapsedS))}`);
  if (s.stage)
    parts.push(`stage=${s.stage.index}/${s.stage.count} stage_remaining=${terminal.duration(s.stage.remainingS)}`);
  return parts.join(' ');
}

function bar(frac: number, width: number): string {
  const f = Math.max(0, Math.min(1, frac));
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}
