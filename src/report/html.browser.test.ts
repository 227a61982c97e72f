/**
 * The HTML report in a real browser (Debian's chromium through playwright-core): opens offline via
 * file://, no console or page errors, no network requests, every chart drawn (a canvas with a size
 * and non-blank pixels), and a full-page screenshot that is not blank, saved to
 * .preflight-tmp/report/report-<name>.png for people to look at.
 *
 * Skipped (with a message) only when /usr/bin/chromium is missing and CI is not set.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { FaultsSummary, Summary } from '../core/results.js';
import { writeHtmlReport } from './html.js';
import { BASELINE_DIR, CANDIDATE_DIR, REPO_ROOT, copyFixture } from './test-support.js';

const CHROMIUM = process.env.PREFLIGHT_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const skip =
  !available && !process.env.CI
    ? `browser test skipped: ${CHROMIUM} not found (apt-get install -y chromium; required when CI is set)`
    : false;
const SHOTS = join(REPO_ROOT, '.preflight-tmp', 'report');

let browser: Browser | null = null;

before(async () => {
  if (skip) return;
  assert.ok(available, `${CHROMIUM} is required in CI (apt-get install -y chromium)`);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    timeout: 60_000,
  });
});

after(async () => {
  await browser?.close();
});

interface CanvasCheck {
  chart: string;
  width: number;
  height: number;
  distinctColours: number;
  inkFraction: number;
}

async function checkReport(name: string, srcDir: string, width: number): Promise<void> {
  assert.ok(browser);
  const dir = await copyFixture(srcDir);
  const file = await writeHtmlReport(dir);
  const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('file:') && !u.startsWith('data:')) problems.push(`network request: ${u}`);
  });
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForFunction(
      () => document.querySelectorAll('.chart').length === document.querySelectorAll('.chart canvas').length,
      null,
      { timeout: 10_000 },
    );
    const checks = (await page.evaluate(() => {
      const out: CanvasCheck[] = [];
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('.chart'))) {
        const c = el.querySelector('canvas');
        if (!c) {
          out.push({ chart: el.dataset.chart ?? el.id, width: 0, height: 0, distinctColours: 0, inkFraction: 0 });
          continue;
        }
        const ctx = c.getContext('2d');
        const img = ctx ? ctx.getImageData(0, 0, c.width, c.height).data : new Uint8ClampedArray(0);
        const colours = new Set<number>();
        let ink = 0;
        for (let i = 0; i < img.length; i += 4) {
          if (img[i + 3] > 0) {
            ink++;
            if (colours.size < 64) colours.add((img[i] << 16) | (img[i + 1] << 8) | img[i + 2]);
          }
        }
        out.push({
          chart: el.dataset.chart ?? el.id,
          width: c.width,
          height: c.height,
          distinctColours: colours.size,
          inkFraction: ink / Math.max(1, img.length / 4),
        });
      }
      return out;
    })) as CanvasCheck[];
    assert.ok(checks.length >= 8, `${name}: expected charts, found ${checks.length}`);
    for (const c of checks) {
      assert.ok(c.width > 100 && c.height > 100, `${name}: chart "${c.chart}" canvas ${c.width}×${c.height}`);
      assert.ok(c.distinctColours >= 3, `${name}: chart "${c.chart}" looks blank (${c.distinctColours} colours)`);
      assert.ok(c.inkFraction > 0.005, `${name}: chart "${c.chart}" has almost no drawn pixels (${c.inkFraction})`);
    }
    // Legends are live: hovering a chart fills in values.
    const first = page.locator('.chart .u-over').first();
    await first.hover({ position: { x: 120, y: 60 } });
    const legend = await page.locator('.chart .u-legend').first().innerText();
    assert.match(legend, /\d/, 'legend shows values on hover');

    await mkdir(SHOTS, { recursive: true });
    const shot = join(SHOTS, `report-${name}.png`);
    const png = await page.screenshot({ path: shot, fullPage: true });
    assert.ok(png.length > 60_000, `${name}: screenshot only ${png.length} bytes`);
    // Pixel variance of the screenshot, measured by decoding it in the page.
    const stats = (await page.evaluate(async (b64: string) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = Math.min(img.height, 4000);
      const ctx = c.getContext('2d') as CanvasRenderingContext2D;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      let sq = 0;
      let n = 0;
      for (let i = 0; i < d.length; i += 4 * 7) {
        const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        sum += l;
        sq += l * l;
        n++;
      }
      const mean = sum / n;
      return { width: img.width, height: img.height, variance: sq / n - mean * mean };
    }, png.toString('base64'))) as { width: number; height: number; variance: number };
    assert.ok(stats.height > 2000, `${name}: page height ${stats.height}`);
    assert.ok(stats.variance > 100, `${name}: screenshot luminance variance ${stats.variance} (blank?)`);
    await writeFile(
      join(SHOTS, `report-${name}.json`),
      JSON.stringify({ file, shot, charts: checks.length, ...stats }, null, 2),
    );
    assert.deepEqual(problems, [], `${name}: ${problems.join('\n')}`);
  } finally {
    await page.close();
  }
}

test('report with a comparison renders in Chromium without errors', { skip, timeout: 120_000 }, async () => {
  await checkReport('candidate', CANDIDATE_DIR, 1280);
});

test('report of a passing run renders in Chromium, also on a narrow screen', { skip, timeout: 120_000 }, async () => {
  await checkReport('baseline', BASELINE_DIR, 1280);
  await checkReport('baseline-narrow', BASELINE_DIR, 420);
});

test('a fault timeline is drawn: fault windows shaded on the time charts, actions marked', {
  skip,
  timeout: 120_000,
}, async () => {
  assert.ok(browser);
  const dir = await copyFixture(BASELINE_DIR);
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary;
  const faults: FaultsSummary = {
    target: 'http://127.0.0.1:8000',
    windows: [
      { name: 'slow network', kind: 'fault', type: 'latency', at_s: 8, end_s: 14, started_s: 8, ended_s: 14 },
      { name: 'never', kind: 'fault', type: 'down', at_s: 40, end_s: 41, started_s: null, ended_s: null },
    ],
    events: [
      { t_s: 8, event: 'fault_on', name: 'slow network', type: 'latency' },
      { t_s: 14, event: 'fault_off', name: 'slow network', type: 'latency' },
      { t_s: 20, event: 'action_start', name: 'kill replica 2', type: 'signal' },
      {
        t_s: 20,
        event: 'action_end',
        name: 'kill replica 2',
        type: 'signal',
        ok: true,
        detail: 'SIGKILL sent to process 4242.',
        duration_ms: 1,
      },
    ],
  };
  summary.faults = faults;
  await writeFile(join(dir, 'summary.json'), JSON.stringify(summary));
  const file = await writeHtmlReport(dir);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForFunction(
      () => document.querySelectorAll('.chart').length === document.querySelectorAll('.chart canvas').length,
      null,
      { timeout: 10_000 },
    );
    const found = (await page.evaluate(() => {
      const out: Array<{ chart: string; bands: string; inside: number[]; outside: number[] }> = [];
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('.chart[data-bands]'))) {
        const c = el.querySelector('canvas')!;
        const ctx = c.getContext('2d')!;
        const [x0, x1] = (el.dataset.bands ?? '').split(',')[0].split('-').map(Number);
        // A pixel row near the top of the plot (above most lines): inside the band, and left of it.
        const y = Number(el.dataset.bandTop);
        const px = (x: number) => Array.from(ctx.getImageData(x, y, 1, 1).data);
        out.push({
          chart: el.dataset.chart ?? el.id,
          bands: el.dataset.bands ?? '',
          inside: px(Math.round((x0 + x1) / 2)),
          outside: px(Math.max(0, x0 - 12)),
        });
      }
      return out;
    })) as Array<{ chart: string; bands: string; inside: number[]; outside: number[] }>;
    assert.ok(found.length >= 3, `time charts with bands: ${found.length}`);
    for (const f of found) {
      assert.match(f.bands, /^\d+-\d+$/, `${f.chart}: one band drawn (the window that never started is not)`);
      const [r, g, b, a] = f.inside;
      assert.ok(a > 0 && r > g + 10 && r > b + 10, `${f.chart}: the band is red-tinted inside (${f.inside})`);
      assert.ok(!(f.outside[3] > 0 && f.outside[0] > f.outside[1] + 10), `${f.chart}: no tint outside (${f.outside})`);
    }
    const table = await page.locator('#fault-timeline').innerText();
    assert.match(table, /slow network/);
    assert.match(table, /kill replica 2/);
    assert.match(table, /SIGKILL sent to process 4242/);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
