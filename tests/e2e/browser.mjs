// Shared set-up for the end-to-end tests: the static server (with the strict CSP), the browser,
// and a record of console errors and requests. The browser is Debian's Chromium through
// playwright-core, or with E2E_ENGINE=firefox|webkit that engine through WebDriver
// (scripts/webdriver.mjs): one suite for every engine. Tests that need what only Chromium's DevTools
// protocol gives (request interception, the list of workers) say so with `chromiumOnly`.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { launchChromium } from '../../scripts/chromium.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { ENGINES, launch } from '../../scripts/webdriver.mjs';

/** The engine under test: "chromium" (default), "firefox" or "webkit". */
export const ENGINE = process.env.E2E_ENGINE ?? 'chromium';
if (ENGINE !== 'chromium' && !ENGINES[ENGINE]) throw new Error(`E2E_ENGINE: unknown engine ${ENGINE}`);
/** Whether the engine under test has WebGPU here (WebKitGTK has none). */
export const HAS_WEBGPU = ENGINE === 'chromium' || ENGINES[ENGINE].webgpu;
/** `test` options for a test that needs Chromium's DevTools protocol, with the reason. */
export const chromiumOnly = (why) => ({ skip: ENGINE === 'chromium' ? false : `Chromium only: ${why}` });

export const SHOTS = path.resolve('.e2e');
mkdirSync(SHOTS, { recursive: true });

/** Opens `page` (a path on the server) in a fresh browser, with or without WebGPU. In Chromium,
 * `route` intercepts requests, `init` runs before the page's scripts, and `context` adds to
 * playwright's context options (a device to emulate, bypassCSP). `root` is the folder served
 * (default: the repository). */
export async function open(pagePath, { webgpu, route, init, context: options, root }) {
  const { server, url } = await startServer({ root, port: 0, csp: true });
  const origin = new URL(url).origin;
  const record = { errors: [], foreign: [], requests: 0, paths: new Set() };
  // The paths asked of the server, from any engine, page or worker.
  server.on('request', (req) => record.paths.add(new URL(req.url, url).pathname));
  if (ENGINE !== 'chromium') {
    const { page, close: quit } = await launch(ENGINE, { webgpu });
    await page.goto(new URL(pagePath, url).href);
    const close = async () => {
      await quit();
      server.close();
    };
    return { page, record, close };
  }
  const browser = await launchChromium({ webgpu });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, ...options });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') record.errors.push(m.text()); });
  page.on('pageerror', (e) => record.errors.push(`page error: ${e.message}`));
  const onRequest = (r) => {
    record.requests++;
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) record.foreign.push(r.url());
  };
  context.on('request', onRequest);
  page.on('request', onRequest);
  if (route) await page.route(...route);
  if (init) await page.addInitScript(init);
  await page.goto(new URL(pagePath, url).href);
  const close = async () => {
    await browser.close();
    server.close();
  };
  return { page, context, record, close };
}

/** No console error (but those `allowed` matches) and no request to another origin so far. In
 * WebDriver engines the page itself records them (errors and CSP violations). */
export async function checkClean(page, record, allowed) {
  if (page.recorded) {
    const seen = await page.recorded();
    record.errors.push(...seen.errors);
    record.foreign.push(...seen.foreign);
  }
  assert.deepEqual(record.errors.filter((e) => !allowed?.test(e)), [], 'no console errors');
  assert.deepEqual(record.foreign, [], 'no request to another origin');
}

/** Runs a class model of `steps` steps from the page's controls and waits for it to finish. */
export async function runClassModel(page, steps) {
  await page.evaluate((n) => {
    const s = document.getElementById('cm-steps');
    s.value = String(n);
    s.dispatchEvent(new Event('input'));
  }, steps);
  await page.click('#cm-run');
  await page.waitForFunction((n) => document.getElementById('cm-image').dataset.done === String(n), steps, { timeout: 120000 });
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

/** The conv and linear layers of a shipped model, read from its architecture file (what the
 * wasm's catalogue is made from): one LRP map, one custom rule and one sanity stage each. */
export function architecture(model) {
  const config = JSON.parse(readFileSync(`assets/${model}/config.json`, 'utf8'));
  const weighted = config.layers.filter((l) => typeof l === 'object' && ('Conv' in l || 'Linear' in l)).length;
  return { layers: config.layers.length, weighted };
}

/** The first panels' canvases: the saliency maps, gradient × input, and one LRP map per layer. */
export const firstMaps = async (page) => ['map-gradient', 'map-deconvnet', 'map-guided', 'map-signed', 'map-box',
  'map-gradient-input', ...await page.evaluate(() => [...document.querySelectorAll('#lrp-maps canvas')].map((c) => c.id))];

/** The slower panels: more attributions, faithfulness plots, the sanity grid. */
export const FAITHFULNESS_PLOTS = ['gradient', 'deconvnet', 'guided', 'gradientInput', 'smoothGrad', 'integratedGradients', 'lrp']
  .map((m) => `faith-${m}`);
export const sanityCells = (page) => page.evaluate(() => [...document.querySelectorAll('#sanity-grid canvas')].map((c) => c.id));
export const extraCanvases = async (page) => ['map-smoothgrad', 'map-ig', ...FAITHFULNESS_PLOTS, ...await sanityCells(page)];
/** Every canvas that shows a result. */
export const allMaps = async (page) => [...await firstMaps(page), ...await extraCanvases(page)];

/** The panels that follow the architecture, against the model's architecture file: one LRP map
 * and one custom rule per conv/linear layer, a row per layer in the layer table (with a rule
 * for those), and a sanity column per stage ("trained", then "<top> random", "+ <next>", …). */
export async function checkArchitecture(page, model) {
  const { layers, weighted } = architecture(model);
  const info = await page.evaluate(() => ({
    lrp: [...document.querySelectorAll('#lrp-maps canvas')].map((c) => c.id),
    rows: [...document.querySelectorAll('#layers tbody th')].map((th) => th.textContent),
    rules: [...document.querySelectorAll('#layers td.rule')].map((td) => td.textContent).filter(Boolean),
    custom: [...document.querySelectorAll('#custom-rules select')].map((s) => s.id),
    stages: [...document.querySelectorAll('#sanity-grid thead th')].slice(1).map((th) => th.textContent),
    meta: document.getElementById('layers-meta').textContent,
  }));
  assert.equal(info.rows.length, layers, `one table row per layer: ${info.rows}`);
  assert.equal(info.lrp.length, weighted, `one LRP map per conv/linear layer: ${info.lrp}`);
  assert.equal(info.rules.length, weighted);
  assert.equal(info.custom.length, weighted);
  const names = info.lrp.map((id) => id.replace(/^lrp-/, ''));
  assert.deepEqual(info.custom, names.map((n) => `rule-${n}`));
  assert.ok(names.every((n) => info.rows.includes(n)));
  assert.equal(info.stages.length, weighted + 1);
  const top = [...names].reverse();
  assert.deepEqual(info.stages, ['trained', `${top[0]} random`, ...top.slice(1).map((n) => `+ ${n}`)]);
  assert.match(info.meta, new RegExp(`^input 1×28×28 · ${layers} layers, ${weighted} with weights · [\\d,]+ parameters$`));
  return info;
}

/** The slower panels of the input last explained: painted, with their numbers. */
export async function checkExtras(page) {
  const cells = await sanityCells(page);
  assert.deepEqual(await unpainted(page, await extraCanvases(page)), []);
  const text = await page.evaluate(() => ({
    completeness: document.getElementById('ig-completeness').textContent,
    aucs: [...document.querySelectorAll('#faith-plots output')].map((o) => o.textContent),
    rows: [...document.querySelectorAll('#faith-table tbody tr')].map((r) => r.textContent),
    rhos: [...document.querySelectorAll('#sanity-grid output')].map((o) => o.textContent),
    stages: document.querySelectorAll('#sanity-grid thead th').length - 1,
    metas: ['attributions-meta', 'faithfulness-meta', 'sanity-meta'].map((id) => document.getElementById(id).textContent),
  }));
  assert.match(text.completeness, /^Σ attribution = -?[\d.]+ vs Sc\(x\) − Sc\(baseline\) = -?[\d.]+, error = [\d.]+ %$/);
  assert.equal(text.aucs.length, 7);
  for (const a of text.aucs) assert.match(a, /^deletion [01]\.\d{3} · insertion [01]\.\d{3}$/);
  assert.equal(text.rows.length, 8, 'seven methods and the random order');
  assert.match(text.rows[7], /^random order/);
  assert.equal(cells.length, 5 * text.stages, 'five methods at every stage');
  assert.equal(text.rhos.length, cells.length);
  for (const r of text.rhos) assert.match(r, /^ρ -?[01]\.\d\d$/);
  assert.ok(text.rhos.filter((r) => r === 'ρ 1.00').length >= 5, `the trained column correlates with itself: ${text.rhos}`);
  for (const m of text.metas) assert.match(m, /(cpu|webgpu) · .*[\d.]+ ms/);
  return text;
}
