/**
 * The file primitives of a results folder, in the lowest layer so that every writer (run, profiles,
 * reports, comparison) and every reader share them: atomic writes (tmp + rename) and the tolerant
 * parse of intervals.ndjson (a last line cut off by a crash or an interrupt is skipped and counted).
 * Whole-folder reading is report/load.ts; the live writer of a run is run/results-writer.ts.
 */
import fs from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IntervalRecord } from './results.js';

/** The text of a JSON results file: two-space indented, one trailing newline. */
export function jsonFileText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Cleaning up after a failed write must not replace the write's error with its own. */
function removeQuietly(remove: () => void): void {
  try {
    remove();
  } catch {
    /* the tmp file stays; a later write replaces it */
  }
}

/** tmp + rename: a failed write (a full disk) leaves the previous file, if any, whole. */
export function writeFileAtomicSync(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (err) {
    removeQuietly(() => fs.rmSync(tmp, { force: true }));
    throw err;
  }
}

/** writeFileAtomicSync without blocking the event loop. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined); // the write's error is the one to report
    throw err;
  }
}

/** DIR/summary.json exists and says it is a Preflight summary (any version). */
export function holdsPreflightSummary(dir: string): boolean {
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { format?: unknown };
    return typeof s?.format === 'string' && s.format.startsWith('preflight-summary/');
  } catch {
    return false;
  }
}

/** How many skipped line numbers a warning lists. */
const LINES_LISTED = 10;

export interface ParsedIntervals {
  intervals: IntervalRecord[];
  skipped: number;
  /** 1-based numbers of the first skipped lines (at most 10). */
  skippedLines: number[];
  /** The only skipped line is the last one, without its newline: cut off by a crash or an interrupt. */
  cutLast: boolean;
}

/** Parse intervals.ndjson text; unparsable lines (and JSON that is not an interval record) are skipped and counted. */
export function parseIntervals(text: string): ParsedIntervals {
  const intervals: IntervalRecord[] = [];
  const skippedLines: number[] = [];
  let skipped = 0;
  let lastBad = -1;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i].trim();
    if (!s) continue;
    let ok = false;
    try {
      const rec = JSON.parse(s) as IntervalRecord;
      ok = Boolean(rec && typeof rec === 'object' && typeof rec.scenario === 'string' && typeof rec.t === 'number');
      if (ok) intervals.push(rec);
    } catch {
      /* counted below */
    }
    if (!ok) {
      skipped++;
      lastBad = i;
      if (skippedLines.length < LINES_LISTED) skippedLines.push(i + 1);
    }
  }
  const cutLast = skipped === 1 && lastBad === lines.length - 1 && !text.endsWith('\n');
  return { intervals, skipped, skippedLines, cutLast };
}

/** The warning for skipped intervals lines (empty when none). */
export function intervalsWarning(
  p: Pick<ParsedIntervals, 'skipped' | 'skippedLines' | 'cutLast'>,
  file = 'intervals.ndjson',
): string[] {
  if (p.skipped === 0) return [];
  if (p.cutLast)
    return [
      `${file}: the last line (line ${p.skippedLines[0]}) is cut off, as after a crash or a kill while writing; it was skipped`,
    ];
  const more = p.skipped > p.skippedLines.length ? `, … (${p.skipped} in all)` : '';
  return [
    `${file}: ${p.skipped} line(s) are not interval records and were skipped: line ${p.skippedLines.join(', ')}${more}`,
  ];
}

/** DIR/intervals.ndjson, parsed tolerantly; a missing or unreadable file reads as no records. */
export function readIntervalsSync(dir: string): ParsedIntervals {
  let text = '';
  try {
    text = fs.readFileSync(path.join(dir, 'intervals.ndjson'), 'utf8');
  } catch {
    /* no file: no records */
  }
  return parseIntervals(text);
}
