// End-to-end: the real page in headless Chromium, once with WebGPU available (SwiftShader) and
// once without. Screenshots go to .e2e/ (git-ignored) so that a failure can be looked at.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import {
  open, stroke, eight, SHOTS, counter, passed, unpainted, pixelsOf, checkExtras, checkArchitecture, firstMaps, runClassModel, checkClean, HAS_WEBGPU,
} from './browser.mjs';

const updates = (page) => page.evaluate(() => Number(document.body.dataset.updates ?? 0));

async function settled(page, before) {
  await page.waitForFunction((n) => Number(document.body.dataset.updates ?? 0) > n, before, { timeout: 60000 });
  // Let a queued newer input finish too.
  await page.waitForTimeout(300);
}

/** A PNG of a dark "7" on white paper, made by the browser itself. */
async function sevenPng(page) {
  const b64 = await page.evaluate(async () => {
    const c = new OffscreenCanvas(300, 200);
    const g = c.getContext('2d');
    g.fillStyle = '#f4f1ea';
    g.fillRect(0, 0, 300, 200);
    g.strokeStyle = '#222';
    g.lineWidth = 16;
    g.beginPath();
    g.moveTo(100, 40); g.lineTo(200, 40); g.lineTo(140, 170);
    g.stroke();
    const bytes = new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  });
  return Buffer.from(b64, 'base64');
}

// Without WebGPU in the engine (WebKitGTK), the first test's `auto` shows the fallback.
for (const webgpu of HAS_WEBGPU ? [false, true] : [false]) {
  const label = webgpu ? 'with WebGPU' : 'without WebGPU';

  test(`draw, pick, upload: prediction and every panel painted, no long task (${label})`, async () => {
    const { page, record, close } = await open('/', { webgpu });
    try {
      await page.waitForFunction(() => /CPU|WebGPU/.test(document.getElementById('backend-status').textContent));
      await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100);
      const status = await page.textContent('#backend-status');
      if (!webgpu) assert.match(status, /CPU/);
      if (!HAS_WEBGPU) assert.match(status, /^CPU — this browser has no WebGPU/);
      // The panels that follow the architecture come from the model's catalogue.
      await checkArchitecture(page, 'mnist');
      const MAPS = await firstMaps(page);
      assert.deepEqual(MAPS.slice(6), ['lrp-conv1', 'lrp-conv2', 'lrp-fc1', 'lrp-fc2']);

      // Draw an 8 while watching for long main-thread tasks (once start-up is over: the page
      // opens on a held-out digit, every panel of it painted).
      await passed(page, 'sanity', 0, 180000);
      await page.waitForTimeout(500);
      await page.evaluate(() => {
        window.longTasks = [];
        new PerformanceObserver((l) => window.longTasks.push(...l.getEntries().map((e) => e.duration)))
          .observe({ type: 'longtask' });
      });
      let n = await updates(page);
      const sanityBefore = await counter(page, 'sanity');
      await stroke(page, '#draw', eight());
      await settled(page, n);
      let longTasks = await page.evaluate(() => window.longTasks);
      assert.ok(longTasks.every((d) => d <= 50), `long tasks while drawing: ${longTasks}`);
      assert.match(await page.textContent('#prediction'), /^[0-9]$/);
      assert.deepEqual(await unpainted(page, MAPS), []);

      // Then, once the input has settled: more attributions, faithfulness, the sanity check.
      await passed(page, 'sanity', sanityBefore, 180000);
      const extras = await checkExtras(page);
      console.log(`${label}: ${extras.metas.join(' | ')}`);
      longTasks = await page.evaluate(() => window.longTasks);
      assert.ok(longTasks.every((d) => d <= 50), `long tasks while painting the slower panels: ${longTasks}`);
      await page.screenshot({ path: path.join(SHOTS, `drawn-${webgpu ? 'webgpu' : 'cpu'}.png`), fullPage: true });

      // The faithfulness step size and the SmoothGrad settings recompute only their panels.
      const faith = await counter(page, 'faithfulness');
      const attributions = await counter(page, 'attributions');
      n = await updates(page);
      await page.selectOption('#faith-k', '32');
      await passed(page, 'faithfulness', faith, 120000);
      assert.equal(await page.getAttribute('#faith-plots', 'data-k'), '32');
      await page.selectOption('#ig-steps', '16');
      await passed(page, 'attributions', attributions, 120000);
      await page.waitForFunction(() => /^m 16, black/.test(document.getElementById('ig-meta').textContent), null, { timeout: 60000 });
      assert.equal(await updates(page), n, 'the first panels were not recomputed');

      // A gallery digit: its label is predicted.
      n = await updates(page);
      await page.click('#gallery button:nth-of-type(35)');
      await settled(page, n);
      const picked = await page.getAttribute('#gallery button:nth-of-type(35)', 'aria-label');
      assert.equal(await page.textContent('#prediction'), picked.at(-1));
      assert.deepEqual(await unpainted(page, MAPS), []);

      // An uploaded PNG.
      n = await updates(page);
      await page.setInputFiles('#upload', { name: 'seven.png', mimeType: 'image/png', buffer: await sevenPng(page) });
      await settled(page, n);
      assert.match(await page.textContent('#input-message'), /uploaded: seven\.png/);
      assert.equal(await page.textContent('#prediction'), '7');
      assert.deepEqual(await unpainted(page, MAPS), []);

      await checkClean(page, record);
    } finally {
      await close();
    }
  });

  test(`the explained class and the threshold change the maps; the class model completes (${label})`, async () => {
    const { page, record, close } = await open('/', { webgpu });
    try {
      await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100);
      if (webgpu) {
        // Force WebGPU (SwiftShader here) and check the page says so.
        await page.selectOption('#backend-select', 'webgpu');
        await page.waitForFunction(() => /^WebGPU/.test(document.getElementById('backend-status').textContent), null, { timeout: 60000 });
      }
      let n = await updates(page);
      await page.click('#gallery button:nth-of-type(81)');
      await settled(page, n);
      const before = await pixelsOf(page, 'map-gradient');
      n = await updates(page);
      await page.click('#class-buttons button:nth-child(4)');   // explain class 3
      await settled(page, n);
      assert.equal(await page.getAttribute('#class-buttons button:nth-child(4)', 'aria-pressed'), 'true');
      assert.notDeepEqual(await pixelsOf(page, 'map-gradient'), before, 'class 3 changes the map');

      const box = await page.getAttribute('#map-box', 'data-box');
      await page.evaluate(() => {
        const q = document.getElementById('quantile');
        q.value = '0.7';
        q.dispatchEvent(new Event('input'));
      });
      await page.waitForFunction((b) => document.getElementById('map-box').dataset.box !== b, box);

      await runClassModel(page, 50);
      const p = Number(await page.textContent('#cm-prob'));
      assert.ok(p > 0 && p <= 1, `final p(c) shown: ${p}`);
      assert.deepEqual(await unpainted(page, ['cm-image', 'cm-curves']), []);
      // The preset sets the regularisers' controls, from the wasm's catalogue.
      const regularisers = () => page.evaluate(() => ['cm-clip', 'cm-adam', 'cm-fourier', 'cm-scale', 'cm-step']
        .map((id) => { const c = document.getElementById(id); return c.type === 'checkbox' ? c.checked : Number(c.value); }));
      assert.deepEqual(await regularisers(), [true, false, 0, 0, 0.1], 'readable');
      await page.evaluate(() => {
        const p = document.getElementById('cm-preset');
        p.value = 'lucid';
        p.dispatchEvent(new Event('change'));
      });
      assert.deepEqual(await regularisers(), [true, true, 1, 0.1, 0.05], 'lucid');
      assert.match(await page.textContent('#cm-objective-value'), /^-?\d+\.\d\d$/, 'the objective shown is still a number');

      // Units: the network table's button opens relu1's atlas (16 channels, one batch); a
      // channel of it, activated, is visualised alone.
      await page.evaluate(() => document.querySelector('#layers button[aria-label^="the atlas of relu1"]').click());
      await page.waitForFunction(() => document.getElementById('unit-atlas-grid').dataset.done === '16', null, { timeout: 120000 });
      const atlas = Array.from({ length: 16 }, (_, i) => `unit-atlas-grid-${i}`);
      assert.deepEqual(await unpainted(page, atlas), []);
      await page.evaluate(() => document.getElementById('unit-atlas-grid-3').click());
      await page.waitForFunction(() => document.getElementById('unit-image').dataset.done === '50', null, { timeout: 120000 });
      assert.equal(await page.evaluate(() => document.getElementById('unit-index').value), '3');
      assert.deepEqual(await unpainted(page, ['unit-image']), []);
      assert.match(await page.textContent('#unit-caption'), /^relu1 unit 3 after 50 steps: activation \d/);
      await page.screenshot({ path: path.join(SHOTS, `class-${webgpu ? 'webgpu' : 'cpu'}.png`), fullPage: true });
      await checkClean(page, record);
    } finally {
      await close();
    }
  });
}
