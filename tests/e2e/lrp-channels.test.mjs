// End-to-end: the LRP panel's per-channel view. A layer's map (a click, or Enter) shows the
// relevance entering that layer per channel; a channel, activated, is visualised in the Units
// panel as the unit of the layer whose output it is (entering conv2: pool1's). On the CPU.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { open, passed, counter, unpainted, checkClean, SHOTS } from './browser.mjs';

/** The per-channel view: its title, its canvases' ids, captions and text alternatives. */
const view = (page) => page.evaluate(() => {
  const canvases = [...document.querySelectorAll('#lrp-channels canvas')];
  return {
    hidden: document.getElementById('lrp-channels').hidden,
    title: document.getElementById('lrp-channels-title').textContent,
    ids: canvases.map((c) => c.id),
    captions: canvases.map((c) => c.nextElementSibling.textContent),
    labels: canvases.map((c) => c.getAttribute('aria-label')),
  };
});
const channelIds = (n) => Array.from({ length: n }, (_, k) => `lrp-channels-${k}`);

test('LRP per channel: a layer\'s map opens its channels, a channel its unit (CPU)', async () => {
  const { page, record, close } = await open('/', { webgpu: false });
  try {
    await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
    await passed(page, 'updates', 0);
    assert.equal((await view(page)).hidden, true, 'closed until a map is opened');
    assert.match(await page.getAttribute('#lrp-conv2', 'aria-label'), /^LRP relevance entering conv2 .*; activate to show it per channel$/);

    // conv2's input: pool1's 16 channels, each painted, captioned with its index and ΣR/S_c.
    await page.click('#lrp-conv2');
    let v = await view(page);
    assert.equal(v.hidden, false);
    assert.match(v.title, /^conv2 in, per channel .*pool1/);
    assert.deepEqual(v.ids, channelIds(16));
    assert.deepEqual(await unpainted(page, v.ids), []);
    v.captions.forEach((c, k) => assert.match(c, new RegExp(`^${k}: -?\\d+\\.\\d{3}$`)));
    assert.match(v.labels[5], /^LRP relevance entering conv2, channel 5, for class \w+ \(ΣR\/S_c = -?[\d.]+\): .*; activate to visualise pool1 unit 5$/);

    // axe-core on the open view (evaluated through the DevTools protocol, which the CSP allows).
    await page.evaluate(readFileSync('node_modules/axe-core/axe.min.js', 'utf8'));
    const violations = await page.evaluate(async () => (await window.axe.run(document.querySelector('[aria-labelledby="lrp-title"]'))).violations
      .filter((x) => ['serious', 'critical'].includes(x.impact)).map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(' '))}`));
    assert.deepEqual(violations, []);

    // Channel 5 opens pool1's unit 5 in the Units panel.
    await page.evaluate(() => {
      const s = document.getElementById('cm-steps');
      s.value = '20';
      s.dispatchEvent(new Event('input'));
    });
    const steps = await page.inputValue('#cm-steps');
    await page.click('#lrp-channels-5');
    await page.waitForFunction((n) => document.getElementById('unit-image').dataset.done === n, steps, { timeout: 120000 });
    assert.equal(await page.inputValue('#unit-layer'), 'pool1');
    assert.equal(await page.inputValue('#unit-index'), '5');
    assert.deepEqual(await unpainted(page, ['unit-image']), []);
    assert.match(await page.textContent('#unit-caption'), /^pool1 unit 5 after 20 steps/);

    // The keyboard: Enter on fc1's map opens its input's channels (pool2's 32, at 4×4).
    await page.focus('#lrp-fc1');
    await page.keyboard.press('Enter');
    v = await view(page);
    assert.match(v.title, /^fc1 in, per channel .*pool2/);
    assert.deepEqual(v.ids, channelIds(32));
    assert.deepEqual(await unpainted(page, v.ids), []);

    // Another input refreshes the open view.
    const n = await counter(page, 'updates');
    await page.click('#gallery button[aria-label$="labelled 1"] >> nth=0');
    await passed(page, 'updates', n);
    const cls = await page.textContent('#prediction');
    v = await view(page);
    assert.match(v.title, /^fc1 in/);
    assert.deepEqual(v.ids, channelIds(32));
    assert.match(v.labels[0], new RegExp(`, for class ${cls} `));
    await page.screenshot({ path: path.join(SHOTS, 'lrp-channels.png'), fullPage: true });
    await checkClean(page, record);
  } finally {
    await close();
  }
});
