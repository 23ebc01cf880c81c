// Shared set-up for the end-to-end tests: the static server (with the strict CSP), Debian's
// Chromium through playwright-core, and a record of console errors and requests.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launchChromium } from '../../scripts/chromium.mjs';
import { startServer } from '../../scripts/serve.mjs';

export const SHOTS = path.resolve('.e2e');
mkdirSync(SHOTS, { recursive: true });

/** Opens `page` (a path on the server) in a fresh Chromium, with or without WebGPU. */
export async function open(pagePath, { webgpu, route }) {
  const { server, url } = await startServer({ port: 0, csp: true });
  const origin = new URL(url).origin;
  const browser = await launchChromium({ webgpu });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const record = { errors: [], foreign: [], requests: 0 };
  page.on('console', (m) => { if (m.type() === 'error') record.errors.push(m.text()); });
  page.on('pageerror', (e) => record.errors.push(`page error: ${e.message}`));
  const onRequest = (r) => {
    record.requests++;
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) record.foreign.push(r.url());
  };
  browser.contexts()[0].on('request', onRequest);
  page.on('request', onRequest);
  if (route) await page.route(...route);
  await page.goto(new URL(pagePath, url).href);
  const close = async () => {
    await browser.close();
    server.close();
  };
  return { page, record, close };
}

/** Draws a stroke through `points` (fractions of the element's box) with mouse events. */
export async function stroke(page, selector, points) {
  const box = await page.locator(selector).boundingBox();
  const at = ([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

/** An 8: two loops meeting at the middle, drawn as one stroke. */
export function eight() {
  const pts = [];
  for (let i = 0; i <= 40; i++) {
    const t = (i / 40) * 2 * Math.PI;
    pts.push([0.5 + 0.16 * Math.sin(t), 0.32 + 0.15 * Math.cos(t)]);
  }
  for (let i = 0; i <= 40; i++) {
    const t = (i / 40) * 2 * Math.PI;
    pts.push([0.5 - 0.2 * Math.sin(t), 0.65 - 0.18 * Math.cos(t)]);
  }
  return pts;
}

/** A counter the page keeps on <body> (data-updates, data-attributions, ...). */
export const counter = (page, name) => page.evaluate((n) => Number(document.body.dataset[n] ?? 0), name);

/** Waits until counter `name` passes `before`. */
export async function passed(page, name, before, timeout = 60000) {
  await page.waitForFunction(([n, b]) => Number(document.body.dataset[n] ?? 0) > b, [name, before], { timeout });
}

/** Of the canvases `ids`, those that are blank or a single colour. */
export async function unpainted(page, ids) {
  return page.evaluate((ids) => ids.filter((id) => {
    const c = document.getElementById(id);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]},${d[i + 3]}`);
    return seen.size < 2;
  }), ids);
}

/** The RGBA bytes of canvas `id`. */
export const pixelsOf = (page, id) => page.evaluate((id) => {
  const c = document.getElementById(id);
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
}, id);

/** The slower panels: more attributions, faithfulness plots, the sanity grid. */
export const FAITHFULNESS_PLOTS = ['gradient', 'deconvnet', 'guided', 'gradientInput', 'smoothGrad', 'integratedGradients', 'lrp']
  .map((m) => `faith-${m}`);
export const SANITY_CELLS = ['gradient', 'gradientInput', 'deconvnet', 'guided', 'lrp']
  .flatMap((m) => ['trained', 'fc2', 'fc1', 'conv2', 'conv1'].map((s) => `sanity-${m}-${s}`));
export const EXTRA_CANVASES = ['map-smoothgrad', 'map-ig', ...FAITHFULNESS_PLOTS, ...SANITY_CELLS];

/** The slower panels of the input last explained: painted, with their numbers. */
export async function checkExtras(page) {
  assert.deepEqual(await unpainted(page, EXTRA_CANVASES), []);
  assert.equal(SANITY_CELLS.length, 25);
  const text = await page.evaluate(() => ({
    completeness: document.getElementById('ig-completeness').textContent,
    aucs: [...document.querySelectorAll('#faith-plots output')].map((o) => o.textContent),
    rows: [...document.querySelectorAll('#faith-table tbody tr')].map((r) => r.textContent),
    rhos: [...document.querySelectorAll('#sanity-grid output')].map((o) => o.textContent),
    metas: ['attributions-meta', 'faithfulness-meta', 'sanity-meta'].map((id) => document.getElementById(id).textContent),
  }));
  assert.match(text.completeness, /^Σ attribution = -?[\d.]+ vs Sc\(x\) − Sc\(baseline\) = -?[\d.]+, error = [\d.]+ %$/);
  assert.equal(text.aucs.length, 7);
  for (const a of text.aucs) assert.match(a, /^deletion [01]\.\d{3} · insertion [01]\.\d{3}$/);
  assert.equal(text.rows.length, 8, 'seven methods and the random order');
  assert.match(text.rows[7], /^random order/);
  assert.equal(text.rhos.length, 25);
  for (const r of text.rhos) assert.match(r, /^ρ -?[01]\.\d\d$/);
  assert.ok(text.rhos.filter((r) => r === 'ρ 1.00').length >= 5, `the trained column correlates with itself: ${text.rhos}`);
  for (const m of text.metas) assert.match(m, /(cpu|webgpu) · .*[\d.]+ ms/);
  return text;
}

