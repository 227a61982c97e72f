/**
 * The digits data set (UCI Optical Recognition of Handwritten Digits, CC BY 4.0): CSV parsing,
 * the reproducible stratified split, and the held-out test split the load tests send.
 */
import { readFileSync } from 'node:fs';

import { DataError } from '../core/errors.js';
import { DIGITS_TEST_CSV } from './paths.js';
import { Rng, shuffleInPlace } from '../core/random.js';

export const FEATURES = 64;
export const CLASSES = 10;
/** Pixels are integers 0–16; models scale them by 1/16 inside the graph. */
export const PIXEL_MAX = 16;

export interface DigitsData {
  /** rows × 64 raw pixel values (0–16), row-major. */
  features: Float32Array;
  /** rows labels, 0–9. */
  labels: Int32Array;
  rows: number;
}

export const DIGITS_HEADER = [...Array.from({ length: FEATURES }, (_, i) => `p${i}`), 'label'].join(',');

/** Parses `p0,…,p63,label` CSV text. Throws a DataError naming the file and line on bad input. */
export function parseDigitsCsv(text: string, file = '<digits csv>'): DigitsData {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim();
  if (header !== DIGITS_HEADER) {
    throw new DataError([{ file, line: 1, message: 'unexpected header', hint: 'expected p0,…,p63,label' }]);
  }
  const body = lines.slice(1).filter((l) => l.trim() !== '');
  const rows = body.length;
  const features = new Float32Array(rows * FEATURES);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const cells = body[r].split(',');
    if (cells.length !== FEATURES + 1) {
      throw new DataError([{ file, line: r + 2, message: `expected ${FEATURES + 1} columns, got ${cells.length}` }]);
    }
    for (let c = 0; c < FEATURES; c++) {
      const v = Number(cells[c]);
      if (!Number.isFinite(v) || v < 0 || v > PIXEL_MAX) {
        throw new DataError([
          {
            file,
            line: r + 2,
            column: c + 1,
            message: `pixel p${c} must be 0–${PIXEL_MAX}, got ${JSON.stringify(cells[c])}`,
          },
        ]);
      }
      features[r * FEATURES + c] = v;
    }
    const label = Number(cells[FEATURES]);
    if (!Number.isInteger(label) || label < 0 || label >= CLASSES) {
      throw new DataError([
        {
          file,
          line: r + 2,
          column: FEATURES + 1,
          message: `label must be 0–9, got ${JSON.stringify(cells[FEATURES])}`,
        },
      ]);
    }
    labels[r] = label;
  }
  return { features, labels, rows };
}

export function formatDigitsCsv(data: DigitsData): string {
  const out: string[] = [DIGITS_HEADER];
  for (let r = 0; r < data.rows; r++) {
    const px = Array.from(data.features.subarray(r * FEATURES, (r + 1) * FEATURES));
    out.push(`${px.join(',')},${data.labels[r]}`);
  }
  return `${out.join('\n')}\n`;
}

export function readDigitsCsv(path: string): DigitsData {
  return parseDigitsCsv(readFileSync(path, 'utf8'), path);
}

/** Rows `indices` of `data`, in that order. */
export function selectRows(data: DigitsData, indices: ArrayLike<number>): DigitsData {
  const rows = indices.length;
  const features = new Float32Array(rows * FEATURES);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const src = indices[i];
    features.set(data.features.subarray(src * FEATURES, (src + 1) * FEATURES), i * FEATURES);
    labels[i] = data.labels[src];
  }
  return { features, labels, rows };
}

/**
 * Stratified split: per class, shuffle that class's row indices with a seeded PRNG and take
 * round(n × testFraction) of them for the test set. Both halves keep the original row order.
 */
export function stratifiedSplit(
  labels: Int32Array,
  testFraction: number,
  seed: number,
): { train: number[]; test: number[] } {
  const rng = new Rng(seed);
  const byClass: number[][] = Array.from({ length: CLASSES }, () => []);
  labels.forEach((label, i) => byClass[label].push(i));
  const train: number[] = [];
  const test: number[] = [];
  for (const members of byClass) {
    shuffleInPlace(members, rng);
    const nTest = Math.round(members.length * testFraction);
    test.push(...members.slice(0, nTest));
    train.push(...members.slice(nTest));
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train, test };
}

/** The held-out test split (examples/data/digits-test.csv): raw pixels 0–16 and true labels. */
export function loadDigitsTestSplit(): DigitsData {
  return readDigitsCsv(DIGITS_TEST_CSV);
}
