// End-to-end: the model switch, offered from the wasm's catalogue of shipped models. From MNIST
// to Fashion-MNIST every panel repaints with the other network (gallery, class names, maps, LRP,
// attributions, faithfulness, sanity), the URL remembers the choice, drawing still works, and
// switching back restores the digits. The deeper MNIST net rebuilds the panels that follow the
// architecture (LRP maps, custom rules, layer table, sanity columns) and paints them all.
// Once with WebGPU available (forced onto SwiftShader) and once without.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import {
  open, stroke, eight, SHOTS, counter, passed, unpainted, pixelsOf, checkExtras, checkArchitecture, allMaps, runClassModel, checkClean, HAS_WEBGPU,
} from './browser.mjs';

const FASHION = ['T-shirt/top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'];
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Every label that names a class: probability bars, class buttons, class-model picker, gallery rows. */
const labels = (page) => page.evaluate(() => ({
  bars: [...document.querySelectorAll('#probabilities .label')].map((e) => e.textContent),
  buttons: [...document.querySelectorAll('#class-buttons button')].map((e) => e.textContent),
  picker: [...document.querySelectorAll('#cm-class option')].map((e) => e.textContent),
  rows: [...document.querySelectorAll('#gallery .row-label')].map((e) => e.textContent),
}));

const snapshot = async (page, ids) => Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await pixelsOf(page, id)])));

const galleryImage = (page, n) => page.evaluate((n) => {
  const c = document.querySelectorAll('#gallery button canvas')[n];
  return Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data);
}, n);

/** Selects `model` and waits for its gallery, the first panels and then the slower ones. */
async function switchTo(page, model) {
  const [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
  await page.selectOption('#model-select', model);
  await page.waitForFunction((m) => document.getElementById('gallery').dataset.model === m
    && document.querySelectorAll('#gallery button').length >= 100, model, { timeout: 60000 });
  await passed(page, 'updates', n);
  await passed(page, 'sanity', s, 180000);
  await page.waitForTimeout(300);
}

/** The page with its gallery loaded, on WebGPU (asked for explicitly) or the CPU. */
async function openOn(webgpu) {
  const opened = await open('/', { webgpu });
  const { page } = opened;
  await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100);
  // The page opens on a held-out digit: its slower panels first, so that the counters the tests
  // read next belong to the inputs they give.
  await passed(page, 'sanity', 0, 180000);
  if (webgpu) {
    await page.selectOption('#backend-select', 'webgpu');
    await page.waitForFunction(() => /^WebGPU/.test(document.getElementById('backend-status').textContent), null, { timeout: 60000 });
  }
  return opened;
}

for (const webgpu of HAS_WEBGPU ? [false, true] : [false]) {
  const label = webgpu ? 'with WebGPU' : 'without WebGPU';

  test(`switching to Fashion-MNIST repaints every panel, and back (${label})`, async () => {
    const { page, record, close } = await openOn(webgpu);
    try {
      assert.deepEqual((await labels(page)).bars, DIGITS);
      const mnistGallery = await galleryImage(page, 0);

      // An MNIST digit, with every panel.
      let [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
      await page.click('#gallery button:nth-of-type(35)');
      await passed(page, 'updates', n);
      await passed(page, 'sanity', s, 180000);
      await page.waitForTimeout(300);
      const ALL = await allMaps(page);
      assert.deepEqual(await unpainted(page, ALL), []);
      const mnist = await snapshot(page, ALL);

      // Fashion-MNIST: the first held-out item, every panel repainted by the other network.
      await switchTo(page, 'fashion');
      // The query names the model; so does the share link's hash (www/state.js).
      assert.equal(new URL(await page.url()).search, '?model=fashion');
      assert.match(new URL(await page.url()).hash, /^#v=1&model=fashion&/);
      await checkArchitecture(page, 'fashion');
      assert.deepEqual(await allMaps(page), ALL, 'the same architecture: the same canvases');
      const l = await labels(page);
      assert.deepEqual(l.bars, FASHION);
      assert.deepEqual(l.buttons, FASHION);
      assert.deepEqual(l.picker, FASHION);
      assert.deepEqual(l.rows, FASHION);
      assert.ok(FASHION.includes(await page.textContent('#prediction')), 'the prediction is a class name');
      assert.match(await page.textContent('#input-message'), /^held-out item #\d+, labelled T-shirt\/top$/);
      assert.match(await page.textContent('#random'), /random item/);
      assert.notDeepEqual(await galleryImage(page, 0), mnistGallery, 'the gallery shows other images');
      assert.deepEqual(await unpainted(page, ALL), []);
      const fashion = await snapshot(page, ALL);
      const same = ALL.filter((id) => JSON.stringify(fashion[id]) === JSON.stringify(mnist[id]));
      assert.deepEqual(same, [], 'every canvas changed');
      const extras = await checkExtras(page);
      console.log(`Fashion-MNIST ${label}: ${extras.metas.join(' | ')}`);

      // A held-out sneaker (class 7): its label is a class name, and the page explains it.
      n = await counter(page, 'updates');
      await page.click('#gallery button:nth-of-type(75)');
      await passed(page, 'updates', n);
      const picked = await page.getAttribute('#gallery button:nth-of-type(75)', 'aria-label');
      assert.match(picked, /labelled sneaker$/);
      // The class buttons pin a class by its name.
      n = await counter(page, 'updates');
      await page.click('#class-buttons button:nth-child(10)');
      await passed(page, 'updates', n);
      assert.equal(await page.getAttribute('#class-buttons button:nth-child(10)', 'aria-pressed'), 'true');
      assert.equal(await page.getAttribute('#class-buttons button:nth-child(10)', 'aria-label'), 'explain class ankle boot');

      // Drawing is just another input.
      n = await counter(page, 'updates');
      await stroke(page, '#draw', eight());
      await passed(page, 'updates', n);
      assert.ok(FASHION.includes(await page.textContent('#prediction')));
      await page.screenshot({ path: path.join(SHOTS, `fashion-${webgpu ? 'webgpu' : 'cpu'}.png`), fullPage: true });

      // Back to the digits: a drawing stays, so clear it first to get the first held-out digit.
      n = await counter(page, 'updates');
      await page.click('#clear');
      await passed(page, 'updates', n);   // the blank input, after any slower panel in flight
      await switchTo(page, 'mnist');
      assert.equal(new URL(await page.url()).search, '');
      assert.match(new URL(await page.url()).hash, /^#v=1&model=mnist&/);
      const back = await labels(page);
      assert.deepEqual(back.bars, DIGITS);
      assert.deepEqual(back.rows, DIGITS);
      assert.deepEqual(await galleryImage(page, 0), mnistGallery);
      assert.equal(await page.textContent('#prediction'), '0', 'the first held-out digit is a 0');
      assert.match(await page.textContent('#input-message'), /^held-out digit #\d+, labelled 0$/);
      assert.deepEqual(await unpainted(page, ALL), []);
      await checkExtras(page);

      await checkClean(page, record);
    } finally {
      await close();
    }
  });

  test(`the deeper MNIST net is one switch away: every panel rebuilt from its catalogue and painted (${label})`, async () => {
    const { page, record, close } = await openOn(webgpu);
    try {
      const offered = await page.evaluate(() => [...document.querySelectorAll('#model-select option')].map((o) => o.value));
      assert.deepEqual(offered, ['mnist', 'mnist-deep', 'fashion', 'user'], 'the switch offers the shipped models, then your own');
      await checkArchitecture(page, 'mnist');

      await switchTo(page, 'mnist-deep');
      assert.equal(new URL(await page.url()).search, '?model=mnist-deep');
      await checkArchitecture(page, 'mnist-deep');
      assert.deepEqual((await labels(page)).bars, DIGITS);
      assert.match(await page.textContent('#prediction'), /^[0-9]$/);
      assert.match(await page.textContent('#input-message'), /^held-out digit #\d+, labelled 0$/);
      assert.deepEqual(await unpainted(page, await allMaps(page)), []);
      const extras = await checkExtras(page);
      console.log(`mnist-deep ${label}: ${extras.metas.join(' | ')}`);
      // Each LRP map is drawn at its own shape, which its caption names: the pixels, a map
      // (W×H), or a vector (one bar per unit).
      const shapes = await page.evaluate(() => [...document.querySelectorAll('#lrp-maps canvas')].map((c) => ({
        name: c.id.replace(/^lrp-/, ''), width: c.width, height: c.height,
        caption: document.getElementById(`${c.id}-shape`).textContent,
      })));
      shapes.forEach(({ name, width, height, caption }, i) => {
        const shape = i === 0 ? 'pixels' : height === 1 ? `${width} units` : `${width}×${height}`;
        assert.equal(caption, `${name} in (${shape})`);
      });
      assert.deepEqual([shapes[0].width, shapes[0].height], [28, 28]);

      // A custom composite: one rule picker per layer of this net; the table shows the rules.
      let n = await counter(page, 'updates');
      await page.selectOption('#composite', 'custom');
      await passed(page, 'updates', n);
      const before = await pixelsOf(page, 'lrp-conv1');
      n = await counter(page, 'updates');
      await page.selectOption('#rule-conv1', 'flat');
      await passed(page, 'updates', n);
      assert.equal(await page.textContent('#layer-rule-conv1'), 'flat');
      assert.notDeepEqual(await pixelsOf(page, 'lrp-conv1'), before, 'flat changes the pixel map');

      // The class model runs on this net too.
      await runClassModel(page, 20);
      assert.deepEqual(await unpainted(page, ['cm-image', 'cm-curves']), []);
      await page.screenshot({ path: path.join(SHOTS, `mnist-deep-${webgpu ? 'webgpu' : 'cpu'}.png`), fullPage: true });

      // And back: the small net's four layers.
      await switchTo(page, 'mnist');
      await checkArchitecture(page, 'mnist');
      assert.deepEqual(await unpainted(page, await allMaps(page)), []);

      await checkClean(page, record);
    } finally {
      await close();
    }
  });
}

test('?model=fashion opens on Fashion-MNIST', async () => {
  const { page, record, close } = await open('/?model=fashion', { webgpu: false });
  try {
    await page.waitForFunction(() => document.getElementById('gallery').dataset.model === 'fashion'
      && document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
    assert.equal(await page.inputValue('#model-select'), 'fashion');
    assert.deepEqual((await labels(page)).bars, FASHION);
    await passed(page, 'updates', 0);   // the opening held-out item's analysis comes first
    const n = await counter(page, 'updates');
    await page.click('#gallery button:nth-of-type(15)');   // a trouser
    await passed(page, 'updates', n);
    assert.equal(await page.textContent('#prediction'), 'trouser');
    await checkClean(page, record);
  } finally {
    await close();
  }
});
