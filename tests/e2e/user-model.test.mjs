// End-to-end: your own model (issue 14), on the CPU backend. The page reads an ONNX or
// safetensors file chosen or dropped by the user (tests/fixtures/user-models: real PyTorch
// exports), shows its layer table and notes, takes drawn, uploaded and noise inputs at its input
// shape, and paints every panel; a refused file says why and the model before keeps working.
// The custom element does the same from `model-src`. Screenshots go to .e2e/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  open, stroke, eight, SHOTS, counter, passed, unpainted, allMaps, checkExtras, runClassModel, checkClean,
} from './browser.mjs';

const FIXTURES = 'tests/fixtures/user-models';
const fixture = (name) => JSON.parse(readFileSync(`${FIXTURES}/${name}.json`, 'utf8'));
const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** The page on the CPU, with its first (MNIST) analysis on screen. */
async function openPage() {
  const opened = await open('/?backend=cpu', { webgpu: false });
  const { page } = opened;
  await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
  await passed(page, 'updates', 0);
  assert.match(await page.textContent('#backend-status'), /^CPU/);
  return opened;
}

/** Chooses "your model…" and hands over a file: through the file input, or dropped on the zone. */
async function loadModel(page, file, { drop = false, expect = 'loaded' } = {}) {
  await page.selectOption('#model-select', 'user');
  assert.equal(await page.isVisible('#model-drop'), true, 'the drop zone shows');
  assert.match(await page.textContent('#model-drop'), /Drop an \.onnx or \.safetensors file/);
  const before = await page.evaluate(() => document.getElementById('model-message').textContent);
  if (drop) {
    await page.evaluate(({ name, b64 }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
      document.getElementById('model-drop')
        .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, { name: file.name, b64: file.buffer.toString('base64') });
  } else {
    await page.setInputFiles('#model-file', file);
  }
  await page.waitForFunction((b) => {
    const box = document.getElementById('user-model');
    return box.dataset.state && box.dataset.state !== 'loading' && document.getElementById('model-message').textContent !== b;
  }, before, { timeout: 60000 });
  assert.equal(await page.getAttribute('#user-model', 'data-state'), expect, await page.textContent('#model-message'));
}

const fileOf = (name, buffer = readFileSync(`${FIXTURES}/${name}`)) => ({ name, mimeType: 'application/octet-stream', buffer });

/** A PNG of `pixels` (c·h·w values in [0, 1], channel-major), made by the browser itself. */
async function pngOf(page, pixels, [c, h, w]) {
  const b64 = await page.evaluate(async ({ pixels, c, h, w }) => {
    const img = new ImageData(w, h);
    const n = h * w;
    for (let i = 0; i < n; i++) {
      const v = (ch) => Math.round(255 * pixels[(c === 3 ? ch : 0) * n + i]);
      img.data.set([v(0), v(1), v(2), 255], 4 * i);
    }
    const canvas = new OffscreenCanvas(w, h);
    canvas.getContext('2d').putImageData(img, 0, 0);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }, { pixels, c, h, w });
  return Buffer.from(b64, 'base64');
}

/** Uploads `png` as the input and waits for the first panels and then the slower ones. */
async function uploadInput(page, name, png) {
  const [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
  await page.setInputFiles('#upload', { name, mimeType: 'image/png', buffer: png });
  await passed(page, 'updates', n);
  await passed(page, 'sanity', s, 180000);
  await page.waitForTimeout(300);
  assert.equal(await page.textContent('#input-message'), `uploaded: ${name}`);
}

const layerRows = (page) => page.evaluate(() => [...document.querySelectorAll('#layers tbody tr')]
  .map((tr) => [...tr.children].map((td) => td.textContent)));

/** Width and height of each canvas of `ids`. */
const sizes = (page, ids) => page.evaluate((ids) => ids.map((id) => {
  const c = document.getElementById(id);
  return [c.width, c.height];
}), ids);

test('your model: normalized.onnx through the file input, a drawn and uploaded digit, every panel', async () => {
  const { page, record, close } = await openPage();
  try {
    // The readers of model files are a module of their own, fetched when the first file comes.
    const reader = () => [...record.paths].filter((p) => p.startsWith('/pkg/reader/')).sort();
    assert.deepEqual(reader(), [], 'the first download leaves the reader out');
    await loadModel(page, fileOf('normalized.onnx'));
    assert.deepEqual(reader(), ['/pkg/reader/deep_inside.js', '/pkg/reader/deep_inside_bg.wasm']);
    // The layer table: the normalisation first, then the network, with the rules of LRP.
    const rows = await layerRows(page);
    assert.deepEqual(rows[0], ['normalize1', 'normalize', '1×28×28', '', '', '']);
    // Every layer with units offers its atlas; the input's normalisation and the flatten do not.
    assert.deepEqual(rows.map((r) => r[5]), ['', 'units', 'units', 'units', 'units', 'units', 'units', '', 'units', 'units', 'units']);
    assert.deepEqual(rows.map((r) => r[1]), ['normalize', 'conv', 'relu', 'max pool', 'conv', 'relu', 'max pool', 'flatten', 'linear', 'relu', 'linear']);
    assert.deepEqual(rows.map((r) => r[4]).filter(Boolean), ['zbox(0,1)', 'gamma(0.25)', 'epsilon(0.25)', 'zero']);
    assert.match(await page.textContent('#layers-meta'), /^input 1×28×28 · 11 layers, 4 with weights · 46,730 parameters$/);
    assert.match(await page.textContent('#model-message'), /^normalized\.onnx: ONNX, input 1×28×28, 10 classes, 11 layers/);
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('#model-notes li')].map((li) => li.textContent)),
      ['The final Softmax was dropped: explanations start from the logits.']);
    assert.equal(await page.textContent('#model-privacy'), "Your model stays in this page's memory: nothing is uploaded.");
    assert.equal(await page.isVisible('#model-privacy'), true);
    assert.match(await page.textContent('#model-select option:checked'), /^your model: normalized\.onnx$/);
    // No data set: no gallery, no mean image; "random" is noise.
    assert.equal(await page.isVisible('#gallery'), false);
    assert.equal(await page.isVisible('#gallery-title'), false);
    assert.equal(await page.textContent('#random'), 'random noise');
    assert.deepEqual(await page.evaluate(() => ['cm-start-mean', 'cm-start-dataset', 'ig-baseline-mean']
      .map((id) => document.getElementById(id).disabled)), [true, true, true]);
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('#lrp-maps canvas')].map((c) => c.id)),
      ['lrp-conv1', 'lrp-conv2', 'lrp-fc1', 'lrp-fc2']);

    // A drawn 8: a prediction and every panel, first and slower ones.
    let [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
    await stroke(page, '#draw', eight());
    await passed(page, 'updates', n);
    await passed(page, 'sanity', s, 180000);
    await page.waitForTimeout(300);
    assert.match(await page.textContent('#prediction'), /^[0-9]$/);
    const ALL = await allMaps(page);
    assert.deepEqual(await unpainted(page, ALL), []);
    await checkExtras(page);

    // The fixture's digits, uploaded as pictures: the page predicts their classes.
    const fx = fixture('normalized');
    for (let i = 0; i < fx.inputs.length; i++) {
      await uploadInput(page, `digit-${i}.png`, await pngOf(page, fx.inputs[i], [1, 28, 28]));
      assert.equal(await page.textContent('#prediction'), String(fx.classes[i]), `fixture input ${i}`);
    }
    assert.deepEqual(await unpainted(page, ALL), []);

    // Noise is an input too.
    n = await counter(page, 'updates');
    await page.click('#random');
    await passed(page, 'updates', n);
    assert.equal(await page.textContent('#input-message'), 'random noise');

    // A class model from noise.
    await runClassModel(page, 30);
    assert.deepEqual(await unpainted(page, ['cm-image', 'cm-curves']), []);
    assert.deepEqual(await sizes(page, ['cm-image']), [[28, 28]]);
    await page.screenshot({ path: path.join(SHOTS, 'user-normalized.png'), fullPage: true });
    await checkClean(page, record);
  } finally {
    await close();
  }
});

test('your model: rgb_stride.safetensors dropped on the page, colour pictures at 32×32, every panel', async () => {
  const { page, record, close } = await openPage();
  try {
    await loadModel(page, fileOf('rgb_stride.safetensors'), { drop: true });
    assert.match(await page.textContent('#model-message'), /^rgb_stride\.safetensors: safetensors, input 3×32×32, 10 classes, 10 layers/);
    const labels = await page.evaluate(() => ({
      bars: [...document.querySelectorAll('#probabilities .label')].map((e) => e.textContent),
      buttons: [...document.querySelectorAll('#class-buttons button')].map((e) => e.textContent),
      picker: [...document.querySelectorAll('#cm-class option')].map((e) => e.textContent),
    }));
    assert.deepEqual(labels, { bars: NAMES, buttons: NAMES, picker: NAMES });
    assert.match(await page.textContent('#layers-meta'), /^input 3×32×32 · 10 layers, 4 with weights · 14,666 parameters$/);
    assert.equal(await page.textContent('#seen-caption'), '32×32 in colour, as the network sees it (the picture resized)');

    // The fixture's colour digits, uploaded as PNGs: the page predicts their classes.
    const fx = fixture('rgb_stride');
    for (let i = 0; i < fx.inputs.length; i++) {
      await uploadInput(page, `colour-${i}.png`, await pngOf(page, fx.inputs[i], [3, 32, 32]));
      assert.equal(await page.textContent('#prediction'), NAMES[fx.classes[i]], `fixture input ${i}`);
    }
    // The input is shown in colour, and every map at 32×32.
    const colours = await page.evaluate(() => {
      const c = document.getElementById('seen');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let coloured = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) coloured++;
      return coloured;
    });
    assert.ok(colours > 100, `the input is drawn in colour (${colours} coloured pixels)`);
    const ALL = await allMaps(page);
    assert.deepEqual(await unpainted(page, ALL), []);
    const square = ALL.filter((id) => !id.startsWith('faith-') && !['map-box', 'lrp-conv2', 'lrp-conv3', 'lrp-fc1'].includes(id));
    assert.deepEqual(await sizes(page, ['seen', ...square]), Array(square.length + 1).fill([32, 32]));
    assert.deepEqual(await sizes(page, ['lrp-conv2', 'lrp-conv3', 'lrp-fc1']), [[16, 16], [8, 8], [32, 1]]);
    await checkExtras(page);

    // The pad draws grey ink: on a colour model it says so instead.
    const n = await counter(page, 'updates');
    await stroke(page, '#draw', eight());
    assert.match(await page.textContent('#input-message'), /colour model/);
    await page.waitForTimeout(500);
    assert.equal(await counter(page, 'updates'), n, 'no new input from the pad');

    // A class model from noise, in colour, at 32×32.
    await runClassModel(page, 30);
    assert.deepEqual(await unpainted(page, ['cm-image', 'cm-curves']), []);
    assert.deepEqual(await sizes(page, ['cm-image']), [[32, 32]]);
    await page.screenshot({ path: path.join(SHOTS, 'user-rgb.png'), fullPage: true });
    await checkClean(page, record);
  } finally {
    await close();
  }
});

test('your model: refused files say why, and the page keeps working with MNIST', async () => {
  const { page, record, close } = await openPage();
  try {
    const onnx = readFileSync(`${FIXTURES}/normalized.onnx`);
    await loadModel(page, fileOf('cut.onnx', onnx.subarray(0, 100)), { expect: 'error' });
    assert.match(await page.textContent('#model-message'), /^could not load cut\.onnx: model: not a valid ONNX file: /);
    assert.equal(await page.isVisible('#model-message'), true);
    await loadModel(page, fileOf('notes.txt', Buffer.from('these are notes, not a model\n')), { expect: 'error' });
    assert.match(await page.textContent('#model-message'), /^could not load notes\.txt: model: /);
    // A safetensors file whose input is too large for the page: the architecture is refused.
    const st = readFileSync(`${FIXTURES}/bn_avgpool.safetensors`);
    const n = Number(st.readBigUInt64LE(0));
    const header = JSON.parse(st.subarray(8, 8 + n).toString());
    header.__metadata__.input_shape = '[1, 96, 96]';
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    await loadModel(page, fileOf('big.safetensors', Buffer.concat([length, json, st.subarray(8 + n)])), { expect: 'error' });
    assert.equal(await page.textContent('#model-message'), 'could not load big.safetensors: architecture: the input must be at most 64×64, not 96×96');

    // Nothing changed: MNIST is still the model in use, and back on the switch it answers.
    assert.equal(await page.evaluate(() => document.body.dataset.model), 'mnist');
    assert.equal((await layerRows(page))[0][0], 'conv1');
    await page.selectOption('#model-select', 'mnist');
    assert.equal(await page.isVisible('#user-model'), false);
    const u = await counter(page, 'updates');
    await page.click('#gallery button:nth-of-type(35)');
    await passed(page, 'updates', u);
    const picked = await page.getAttribute('#gallery button:nth-of-type(35)', 'aria-label');
    assert.equal(await page.textContent('#prediction'), picked.at(-1));

    // A good file after the bad ones loads, and MNIST comes back after it with its gallery.
    await loadModel(page, fileOf('bn_avgpool.onnx'));
    assert.equal(await page.evaluate(() => document.body.dataset.model), 'user');
    const [u2, s2] = [await counter(page, 'updates'), await counter(page, 'sanity')];
    await page.selectOption('#model-select', 'mnist');
    await page.waitForFunction(() => document.getElementById('gallery').dataset.model === 'mnist'
      && document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
    await passed(page, 'updates', u2);
    await passed(page, 'sanity', s2, 180000);
    await page.waitForTimeout(300);
    assert.equal(await page.isVisible('#gallery'), true);
    assert.equal(await page.textContent('#prediction'), '0', 'the first held-out digit is a 0');
    assert.deepEqual(await unpainted(page, await allMaps(page)), []);
    // The file input is still there for the next model.
    assert.match(await page.textContent('#model-user'), /^your model: bn_avgpool\.onnx$/);
    await checkClean(page, record);
  } finally {
    await close();
  }
});

/** Per element (by id): the canvases of its shadow root that are blank or a single colour. */
const unpaintedIn = (page, ids) => page.evaluate((ids) => ids.map((id) =>
  [...document.getElementById(id).shadowRoot.querySelectorAll('canvas')].filter((c) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < data.length; i += 4) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`);
    return seen.size < 2;
  }).map((c) => c.getAttribute('aria-label'))), ids);

test('the element: model-src loads a user\'s model and renders its panels; a bad source shows an error', async () => {
  const { page, record, close } = await open('/tests/e2e/user-model.html', { webgpu: false });
  try {
    const GOOD = ['rgb', 'lrp', 'cm', 'predict'];
    await page.waitForFunction((good) => good.every((id) => document.getElementById(id).dataset.ready === '1')
      && ['missing', 'bad'].every((id) => document.getElementById(id).shadowRoot.querySelector('.status.error')),
    GOOD, { timeout: 120000 });
    await page.waitForFunction(() => Number(document.getElementById('cm').dataset.steps) === 150, null, { timeout: 120000 });
    await page.waitForTimeout(300);
    const info = await page.evaluate((ids) => ids.map((id) => {
      const d = document.getElementById(id);
      const r = d.shadowRoot;
      return {
        seen: r.querySelector('.seen').textContent,
        meta: r.querySelector('.caption .meta').textContent,
        status: r.querySelector('.status').textContent,
        maps: [...r.querySelectorAll('canvas.map')].map((c) => [c.width, c.height]),
        bars: [...r.querySelectorAll('.bar .label')].map((l) => l.textContent),
      };
    }), GOOD);
    const [rgb, lrp, cm, predict] = info;
    for (const i of info) assert.equal(i.status, '', 'no error or hint in the status line');
    assert.match(rgb.seen, /^sample: MNIST digit #\d+ · predicted (zero|one|two|three|four|five|six|seven|eight|nine) \(p [\d.]+\)$/);
    assert.deepEqual(rgb.maps, [[32, 32], [32, 32], [32, 32]], 'three saliency maps at the model\'s 32×32');
    assert.match(rgb.meta, /^Class \w+ · CPU · [\d.]+ ms$/);
    assert.deepEqual(lrp.maps.map(([w, h]) => `${w}×${h}`), ['28×28', '12×12', '4×4', '64×1'], 'one map per layer of normalized');
    assert.match(lrp.seen, /^sample: MNIST digit #\d+ · predicted \d/);
    assert.deepEqual(cm.maps, [[28, 28]]);
    assert.match(cm.meta, /CPU · [\d.]+ ms for 150 steps$/);
    assert.deepEqual(predict.bars, NAMES);
    assert.deepEqual(await unpaintedIn(page, GOOD), [[], [], [], []]);

    // The errors are visible, with the reason.
    const errors = await page.evaluate(() => ['missing', 'bad'].map((id) => {
      const s = document.getElementById(id).shadowRoot.querySelector('.status');
      return { text: s.textContent, visible: s.getBoundingClientRect().height > 0 && getComputedStyle(s).visibility !== 'hidden' };
    }));
    assert.match(errors[0].text, /^Error: could not fetch the model http:.*\/missing\.onnx \(HTTP 404\)$/);
    assert.match(errors[1].text, /^Error: model: this is neither an ONNX nor a safetensors file/);
    assert.ok(errors.every((e) => e.visible));

    // One worker for the page, and a file two elements use is fetched once.
    if (page.workers) assert.equal(page.workers().length, 1);
    const fetched = await page.evaluate(() => performance.getEntriesByType('resource')
      .filter((e) => e.name.endsWith('/rgb_stride.onnx')).length);
    assert.equal(fetched, 1);

    // The grey model's pad draws: a drawn 8 updates the LRP element.
    const before = Number(await page.getAttribute('#lrp', 'data-updates'));
    await stroke(page, '#lrp >> canvas.pad', eight());
    await page.waitForFunction((n) => Number(document.getElementById('lrp').dataset.updates) > n, before, { timeout: 60000 });
    await page.waitForTimeout(500);
    assert.match(await page.locator('#lrp').locator('.seen').textContent(), /^your drawing · predicted \d/);

    await page.screenshot({ path: path.join(SHOTS, 'user-model-element.png'), fullPage: true });
    // The one console error: the browser's own line for the missing file's 404.
    await checkClean(page, record, /404/);
  } finally {
    await close();
  }
});
