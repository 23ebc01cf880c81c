// End-to-end: www/embed.html, a documentation page with two <deep-inside-demo> elements
// (saliency and LRP) sharing one worker, under the strict CSP. Screenshot: .e2e/embed.png.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { open, eight, SHOTS, architecture, checkClean } from './browser.mjs';

const counters = (page) => page.evaluate(() => [...document.querySelectorAll('deep-inside-demo')]
  .map((d) => Number(d.dataset.updates ?? 0)));

/** Per element: the canvases of its shadow root that are blank or a single colour. */
const unpainted = (page) => page.evaluate(() => [...document.querySelectorAll('deep-inside-demo')].map((d) =>
  [...d.shadowRoot.querySelectorAll('canvas')].filter((c) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < data.length; i += 4) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`);
    return seen.size < 2;
  }).map((c) => c.getAttribute('aria-label'))));

test('embed.html: two demos render under the strict CSP, and drawing updates one', async () => {
  const { page, record, close } = await open('/www/embed.html', { webgpu: false });
  try {
    await page.waitForFunction(() => {
      const demos = [...document.querySelectorAll('deep-inside-demo')];
      return demos.length === 2 && demos.every((d) => d.dataset.ready === '1');
    }, null, { timeout: 60000 });
    // The legends come from the worker too: give them a moment after the first maps.
    await page.waitForTimeout(300);

    const info = await page.evaluate(() => [...document.querySelectorAll('deep-inside-demo')].map((d) => ({
      method: d.getAttribute('method'),
      canvases: d.shadowRoot.querySelectorAll('canvas').length,
      styled: getComputedStyle(d.shadowRoot.querySelector('canvas.pad')).backgroundColor,
      status: d.shadowRoot.querySelector('.status').textContent,
      meta: d.shadowRoot.querySelector('.caption .meta').textContent,
      seen: d.shadowRoot.querySelector('.seen').textContent,
      unlabelled: [...d.shadowRoot.querySelectorAll('canvas:not([aria-hidden])')]
        .filter((c) => !c.getAttribute('role') || !c.getAttribute('aria-label')).length,
      unnamedButtons: [...d.shadowRoot.querySelectorAll('button')].filter((b) => !b.textContent.trim()).length,
    })));
    assert.deepEqual(info.map((i) => i.method), ['saliency', 'lrp']);
    // The list of workers comes from Chromium's DevTools protocol; other engines skip this check.
    if (page.workers) assert.equal(page.workers().length, 1, 'one worker serves both elements');
    // pad + 3 maps + legend; pad + 4 layers + legend
    assert.deepEqual(info.map((i) => i.canvases), [5, 6]);
    for (const i of info) {
      assert.equal(i.styled, 'rgb(0, 0, 0)', 'the stylesheet reached the shadow root');
      assert.equal(i.status, '', 'no error or hint in the status line');
      assert.match(i.meta, /^Class \d.*(CPU|WebGPU) · [\d.]+ ms$/, `caption names class, backend, time: ${i.meta}`);
      assert.equal(i.unlabelled, 0, 'every canvas has a role and a label');
      assert.equal(i.unnamedButtons, 0);
    }
    // The held-out digits shown first are an 8 and a 3, and the network reads them so.
    assert.match(info[0].seen, /label 8 · predicted 8/);
    assert.match(info[1].seen, /label 3 · predicted 3/);
    assert.deepEqual(await unpainted(page), [[], []]);

    // Draw an 8 over the first element's pad: only that element updates, from the drawing.
    const before = await counters(page);
    const pad = page.locator('deep-inside-demo >> nth=0').locator('canvas.pad');
    const box = await pad.boundingBox();
    const pts = eight().map(([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height]);
    await page.mouse.move(...pts[0]);
    await page.mouse.down();
    for (const p of pts.slice(1)) await page.mouse.move(...p, { steps: 2 });
    await page.mouse.up();
    await page.waitForFunction((n) => Number(document.querySelector('deep-inside-demo').dataset.updates) > n,
      before[0], { timeout: 60000 });
    await page.waitForTimeout(500);   // a queued newer input finishes too
    const after = await counters(page);
    assert.ok(after[0] > before[0], `the drawn-on element repainted: ${before} → ${after}`);
    assert.equal(after[1], before[1], 'the other element did not');
    const seen = await page.locator('deep-inside-demo >> nth=0').locator('.seen').textContent();
    assert.match(seen, /^your drawing · predicted \d/);
    assert.deepEqual(await unpainted(page), [[], []]);

    // Keyboard: "next digit" is a button reachable by Tab and pressed with Enter.
    const n = (await counters(page))[1];
    await page.locator('deep-inside-demo >> nth=1').locator('button', { hasText: 'next digit' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => Number(document.querySelectorAll('deep-inside-demo')[1].dataset.updates) > n,
      n, { timeout: 60000 });

    await page.screenshot({ path: path.join(SHOTS, 'embed.png'), fullPage: true });
    await checkClean(page, record);
  } finally {
    await close();
  }
});

test('embed: model="fashion" switches an element to Fashion-MNIST and back', async () => {
  const { page, record, close } = await open('/www/embed.html', { webgpu: false });
  try {
    await page.waitForFunction(() => [...document.querySelectorAll('deep-inside-demo')].every((d) => d.dataset.ready === '1'),
      null, { timeout: 60000 });
    const seen = (i) => page.locator(`deep-inside-demo >> nth=${i}`).locator('.seen').textContent();
    const n = (await counters(page))[0];
    // digit="8": the first held-out item of class 8, a bag.
    await page.evaluate(() => document.querySelector('deep-inside-demo').setAttribute('model', 'fashion'));
    await page.waitForFunction((n) => Number(document.querySelector('deep-inside-demo').dataset.updates) > n
      && /label bag · predicted/.test(document.querySelector('deep-inside-demo').shadowRoot.querySelector('.seen').textContent),
    n, { timeout: 60000 });
    assert.match(await seen(0), /^held-out #\d+, label bag · predicted bag \(p [\d.]+\)$/);
    assert.match(await seen(1), /label 3 · predicted 3/, 'the other element keeps its model');
    assert.equal(await page.locator('deep-inside-demo >> nth=0').locator('button >> nth=1').textContent(), 'next item');
    assert.deepEqual(await unpainted(page), [[], []]);
    await page.screenshot({ path: path.join(SHOTS, 'embed-fashion.png'), fullPage: true });

    await page.evaluate(() => document.querySelector('deep-inside-demo').removeAttribute('model'));
    await page.waitForFunction(() => /label 8 · predicted 8/.test(document.querySelector('deep-inside-demo').shadowRoot.querySelector('.seen').textContent),
      null, { timeout: 60000 });
    await checkClean(page, record);
  } finally {
    await close();
  }
});

test('embed: model="mnist-deep" gives the LRP element one map per layer of the deeper net', async () => {
  const { page, record, close } = await open('/www/embed.html', { webgpu: false });
  try {
    await page.waitForFunction(() => [...document.querySelectorAll('deep-inside-demo')].every((d) => d.dataset.ready === '1'),
      null, { timeout: 60000 });
    const canvases = (i) => page.evaluate((i) => document.querySelectorAll('deep-inside-demo')[i].shadowRoot.querySelectorAll('canvas').length, i);
    assert.equal(await canvases(1), 2 + architecture('mnist').weighted, 'pad, legend and the small net\'s layers');
    const { weighted } = architecture('mnist-deep');
    const n = (await counters(page))[1];
    await page.evaluate(() => document.querySelectorAll('deep-inside-demo')[1].setAttribute('model', 'mnist-deep'));
    await page.waitForFunction(([n, count]) => {
      const d = document.querySelectorAll('deep-inside-demo')[1];
      return Number(d.dataset.updates) > n && d.shadowRoot.querySelectorAll('canvas').length === count;
    }, [n, 2 + weighted], { timeout: 60000 });
    const labels = await page.evaluate(() => [...document.querySelectorAll('deep-inside-demo')[1].shadowRoot.querySelectorAll('.maps figcaption > span:first-child')]
      .map((s) => s.textContent));
    assert.equal(labels.length, weighted);
    assert.equal(labels[0], 'conv1 in (pixels)');
    assert.match(labels.at(-1), /^fc1 in \((\d+ units|\d+×\d+)\)$/);
    assert.match(await page.locator('deep-inside-demo >> nth=1').locator('.seen').textContent(), /^held-out #\d+, label 3 · predicted \d/);
    assert.deepEqual(await unpainted(page), [[], []]);
    await page.screenshot({ path: path.join(SHOTS, 'embed-mnist-deep.png'), fullPage: true });
    await checkClean(page, record);
  } finally {
    await close();
  }
});
