/**
 * The HTML report in a real browser: `--variant 51cdc8bc --html FILE` on the built-in scenario,
 * opened in Debian's headless Chromium (installed by this file's setup when absent; a failed
 * install fails the test) through playwright-core. It checks the rendered DOM: the 4-class cycle's
 * nodes and edges in the lock-order graph, the deadlock's wait-for graph, the timeline, lock_stat
 * and coverage; that the page asked for nothing over the network; and takes a screenshot.
 *
 * Set LOCKSTRESS_REPORT_PNG=path to also write the README's screenshot there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kChromiumArgs, ensureChromium, kInstallTimeoutMs } from '../helpers/chromium.js';
import { compiledPath } from '../helpers/compiled.js';
import { runNode } from '../helpers/run-node.js';

const cli = compiledPath('src/cli/stress.js');
const dir = mkdtempSync(join(tmpdir(), 'lockstress-html-'));
const htmlFile = join(dir, 'report.html');

/** The 4-class cycle of 51cdc8bc (the splat in the commit message of 2b48f52f2bff), as edges. */
const kCycle = ['group_lock', 'dev_set->lock', 'guests_lock', 'kvm->lock'];
const kCycleEdges = kCycle.map((from, i) => [from, kCycle[(i + 1) % kCycle.length] ?? '']);

let context: BrowserContext | undefined;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  const executablePath = await ensureChromium();
  // Stop as soon as the deadlock and the cycle were both seen; the budget only bounds a slow machine.
  const run = await runNode(cli, ['--variant', '51cdc8bc', '--until-expected', '--duration-ms', '20000', '--seed', '11', '--html', htmlFile], {}, { killAfterMs: 120_000 });
  expect(run.stderr).not.toContain('internal error');
  expect(run.code).toBe(0);
  context = await chromium.launchPersistentContext(mkdtempSync(join(dir, 'profile-')), {
    executablePath,
    headless: true,
    args: kChromiumArgs,
    viewport: { width: 1200, height: 1400 },
    timeout: 60_000,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load', timeout: 30_000 });
}, kInstallTimeoutMs + 180_000);

afterAll(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A CSS attribute selector value, quoted (class names hold `->`). */
const q = (value: string): string => JSON.stringify(value);

describe('the HTML report in headless Chromium', { timeout: 60_000 }, () => {
  it('shows the verdict table with 51cdc8bc passing', async () => {
    const row = page.locator(`table.verdicts tr[data-variant="51cdc8bc"]`);
    await expect(row.count()).resolves.toBe(1);
    expect(await row.getAttribute('data-status')).toBe('pass');
    expect(await row.innerText()).toContain('deadlock + lock-order-cycle');
  });

  it('draws the lock-order graph with the 4-class cycle: its nodes and edges highlighted, laid out on screen', async () => {
    const graph = page.locator('article[data-kind="lock-order-cycle"] svg[data-graph="lock-order"]').first();
    await expect(graph.count()).resolves.toBe(1);
    for (const cls of kCycle) {
      const node = graph.locator(`g.node[data-class=${q(cls)}]`);
      expect(await node.getAttribute('data-cycle'), cls).toBe('1');
      const box = await node.boundingBox();
      expect(box?.width ?? 0, cls).toBeGreaterThan(20);
      expect(await node.textContent()).toContain(cls);
    }
    for (const [from, to] of kCycleEdges) {
      const edge = graph.locator(`g.edge[data-from=${q(from ?? '')}][data-to=${q(to ?? '')}]`);
      expect(await edge.getAttribute('data-cycle'), `${from} -> ${to}`).toBe('1');
      expect((await edge.locator('path').getAttribute('d'))?.length ?? 0).toBeGreaterThan(5);
    }
    // Exactly the cycle is highlighted; the variant's other edges are drawn plain.
    expect(await graph.locator('g.node[data-cycle="1"]').count()).toBe(4);
    expect(await graph.locator('g.edge[data-cycle="1"]').count()).toBe(4);
    expect(await graph.locator('g.edge[data-cycle="0"]').count()).toBeGreaterThan(0);
  });

  it('draws the deadlock wait-for graph: each thread of the cycle waits for a lock the next one holds', async () => {
    const graph = page.locator('article[data-kind="deadlock"] svg[data-graph="wait-for"]').first();
    await expect(graph.count()).resolves.toBe(1);
    const waits = await graph.locator('g.edge[data-kind="waits"][data-cycle="1"]').evaluateAll((els) =>
      els.map((e) => ({ thread: e.getAttribute('data-thread'), lock: e.getAttribute('data-lock') })),
    );
    const holds = await graph.locator('g.edge[data-kind="holds"][data-cycle="1"]').evaluateAll((els) =>
      els.map((e) => ({ thread: e.getAttribute('data-thread'), lock: e.getAttribute('data-lock') })),
    );
    expect(waits.length).toBe(2); // an ABBA: two threads, two locks
    for (const w of waits) {
      // The lock a cycle thread waits for is held by another thread of the cycle.
      const holder = holds.find((x) => x.lock === w.lock);
      expect(holder, `who holds ${w.lock}`).toBeDefined();
      expect(holder?.thread).not.toBe(w.thread);
      expect(waits.map((x) => x.thread)).toContain(holder?.thread);
    }
    expect(new Set(waits.map((w) => w.lock))).toEqual(new Set(['kvm->lock', 'group->group_lock']));
    for (const w of waits) {
      const box = await graph.locator(`g.node[data-thread=${q(w.thread ?? '')}]`).boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(20);
    }
  });

  it('draws the deadlock timeline with one lane per thread, ending in the waits of the cycle', async () => {
    const timeline = page.locator('article[data-kind="deadlock"] svg[data-graph="timeline"]').first();
    expect(await timeline.locator('g.lane').count()).toBe(4);
    expect(await timeline.locator('g.wait.open').count()).toBeGreaterThanOrEqual(2);
    expect(await timeline.locator('g.hold').count()).toBeGreaterThan(0);
  });

  it('has lock_stat with bars and the overlap-coverage matrix', async () => {
    const stats = page.locator('section[data-variant="51cdc8bc"] table.lockstat tr[data-lock]');
    expect(await stats.count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('table.lockstat tr[data-lock="group_lock"] td.bar span').count()).toBe(4);
    expect(await page.locator('table.coverage td.on').count()).toBeGreaterThan(0);
  });

  it('loaded nothing over the network, logged no error, and makes a screenshot', async () => {
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    const png = await page.screenshot({ fullPage: true, timeout: 30_000 });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    writeFileSync(join(dir, 'report.png'), png);
    const readme = process.env.LOCKSTRESS_REPORT_PNG;
    if (readme !== undefined && readme !== '') {
      await page.screenshot({ path: readme, clip: { x: 0, y: 0, width: 1200, height: 1400 } });
    }
    expect(readFileSync(htmlFile, 'utf8')).not.toMatch(/<script|<link|src="http/);
  });
});
