// End-to-end: exports and comparing maps (www/export.js), in Chromium on the CPU, one page for
// every subtest. A held-out 8 is explained; then its maps' downloaded .npy and CSV equal, float
// for float, the same maps computed again with the wasm API (pkg/cpu) in the page; the tables'
// CSVs hold the numbers the tables show; a panel's PNG is 4× its CSS size and shows its maps
// nearest-neighbour; the readout's value and rank agree with the .npy, by pointer and by keys;
// and "one colour scale" colours each group as the wasm's mapToRgba at the group's largest
// magnitude, with the legends saying it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { open, checkClean, chromiumOnly } from './browser.mjs';

/** Parses an .npy file as numpy's format 1.0 defines it, strictly: '<f4', C order. */
function parseNpy(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, ...Buffer.from('NUMPY'), 1, 0], 'magic and version 1.0');
  const length = bytes.readUInt16LE(8);
  assert.equal((10 + length) % 64, 0, 'the data starts at a multiple of 64 bytes');
  const header = bytes.subarray(10, 10 + length).toString('latin1');
  const m = header.match(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+(?:, \d+)*),?\), \} *\n$/);
  assert.ok(m, `header ${JSON.stringify(header)}`);
  const shape = m[1].split(', ').map(Number);
  const data = bytes.subarray(10 + length);
  assert.equal(data.length, 4 * shape.reduce((a, b) => a * b, 1));
  return { shape, values: Array.from({ length: data.length / 4 }, (_, i) => data.readFloatLE(4 * i)) };
}

const parseCsv = (text) => text.trimEnd().split('\n').map((line) => line.split(','));
/** The readout's number format. */
const fmt = (v) => String(Number(v.toPrecision(4)));
const rankOf = (values, v) => 1 + values.filter((u) => u > v).length;

/** Downloads `label` from the export menu of the panel titled `title` (an h2 id). */
async function exported(page, title, label) {
  const menu = page.locator(`section[aria-labelledby="${title}"] details.export`);
  if (!await menu.evaluate((d) => d.open)) await menu.locator('summary').click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    menu.getByRole('button', { name: label, exact: true }).click(),
  ]);
  return { bytes: readFileSync(await download.path()), name: download.suggestedFilename() };
}

test('exports, pixel readout and one colour scale (CPU)', chromiumOnly('playwright downloads'), async (t) => {
  const { page, record, close } = await open('/', { webgpu: false });
  try {
    await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
    // Idle first (the opening analysis and its slower panels done), then a held-out 8.
    const idle = () => page.waitForFunction(() => Number(document.body.dataset.updates ?? 0) > 0
      && !document.querySelector('.panel.pending'), null, { timeout: 120000 });
    await idle();
    const button = page.locator('#gallery button[aria-label$="labelled 8"]').first();
    const index = Number((await button.getAttribute('aria-label')).match(/ (\d+),/)[1]);
    const n = await page.evaluate(() => Number(document.body.dataset.updates));
    await button.click();
    await page.waitForFunction((k) => Number(document.body.dataset.updates) > k, n);
    await idle();
    assert.match(await page.textContent('#input-message'), new RegExp(`#${index},`));

    // The same maps again, from the wasm API in the page, on the same input.
    const ref = await page.evaluate(async (i) => {
      const w = await import('/pkg/cpu/deep_inside.js');
      await w.default();
      const { pixels: bytes } = w.heldoutDigits('mnist');
      const pixels = Float32Array.from(bytes.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
      const di = await w.DeepInside.create('cpu', 'mnist');
      const e = await di.explain(pixels, -1);
      const ig = await di.integratedGradients(pixels, e.class, { steps: 32, baseline: 'black' });
      const r = await di.relevance(pixels, e.class, 'recommended', 'max');
      window.ref = { w, gradient: e.gradient.map(Math.abs), guided: e.guided.map(Math.abs) };
      return { cls: e.class, gradient: Array.from(window.ref.gradient), ig: Array.from(ig.map),
               fc2: Array.from(r.layers.at(-1).perChannel), pixels: Array.from(pixels) };
    }, index);
    assert.equal(String(ref.cls), await page.textContent('#prediction'));
    let gradient;

    await t.test('a map\'s .npy and CSV equal the map the wasm API computes', async () => {
      const file = await exported(page, 'saliency-title', 'Gradient saliency: .npy');
      assert.equal(file.name, `mnist-gradient-class${ref.cls}.npy`);
      gradient = parseNpy(file.bytes);
      assert.deepEqual(gradient.shape, [28, 28]);
      assert.deepEqual(gradient.values, ref.gradient, 'float for float');
      const csv = parseCsv((await exported(page, 'saliency-title', 'Gradient saliency: CSV')).bytes.toString());
      assert.equal(csv.length, 28);
      assert.ok(csv.every((row) => row.length === 28));
      assert.deepEqual(csv.flat().map((s) => Math.fround(Number(s))), ref.gradient);

      const ig = parseNpy((await exported(page, 'attributions-title', 'Integrated Gradients: .npy')).bytes);
      assert.deepEqual(ig.values, ref.ig);
      const fc2 = parseNpy((await exported(page, 'lrp-title', 'LRP entering fc2: .npy')).bytes);
      assert.deepEqual(fc2.shape, [128], 'a dense layer on a vector: one value per unit');
      assert.deepEqual(fc2.values, ref.fc2);
      const stages = await page.$$eval('#sanity-grid thead th', (ths) => ths.length - 1);
      const sanity = parseNpy((await exported(page, 'sanity-title', 'gradient, every stage: .npy')).bytes);
      assert.deepEqual(sanity.shape, [stages, 28, 28]);
    });

    await t.test('the faithfulness and sanity tables as CSV: the numbers they show', async () => {
      const shown = await page.$$eval('#faith-table tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
      const faith = parseCsv((await exported(page, 'faithfulness-title', 'AUC table: CSV')).bytes.toString());
      assert.deepEqual(faith[0], ['method', 'deletion AUC', 'insertion AUC']);
      assert.deepEqual(faith.slice(1).map(([m, d, i]) => [m, Number(d).toFixed(3), Number(i).toFixed(3)]), shown);
      const head = await page.$$eval('#sanity-grid thead th', (ths) => ths.map((th) => th.textContent));
      const rhos = await page.$$eval('#sanity-grid tbody tr', (rows) => rows.map((r) => [r.cells[0].textContent,
        ...[...r.querySelectorAll('output')].map((o) => o.textContent)]));
      const sanity = parseCsv((await exported(page, 'sanity-title', 'Spearman ρ table: CSV')).bytes.toString());
      assert.deepEqual(sanity[0], head);
      assert.deepEqual(sanity.slice(1).map(([m, ...r]) => [m, ...r.map((v) => `ρ ${Number(v).toFixed(2)}`)]), rhos);
    });

    await t.test('a panel\'s PNG: 4× its CSS size, its maps nearest-neighbour, its text', async () => {
      const file = await exported(page, 'saliency-title', 'PNG of this panel (4×)');
      assert.match(file.name, /^mnist-saliency\.png$/);
      assert.deepEqual([...file.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const got = await page.evaluate(async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const image = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const c = new OffscreenCanvas(image.width, image.height);
        const g = c.getContext('2d');
        g.drawImage(image, 0, 0);
        const panel = document.querySelector('section[aria-labelledby="saliency-title"]').getBoundingClientRect();
        const map = document.getElementById('map-gradient');
        const r = map.getBoundingClientRect();
        // The centre of map pixel (14, 10) in the PNG, and that pixel on the page's canvas.
        const at = [4 * (r.left - panel.left + (14.5 * r.width) / 28), 4 * (r.top - panel.top + (10.5 * r.height) / 28)].map(Math.floor);
        const title = document.getElementById('saliency-title').getBoundingClientRect();
        const t = g.getImageData(4 * (title.left - panel.left), 4 * (title.top - panel.top), 4 * title.width, 4 * title.height).data;
        let ink = 0;
        for (let i = 0; i < t.length; i += 4) ink += t[i] < 128;
        return {
          size: [image.width, image.height], panel: [panel.width, panel.height],
          png: [...g.getImageData(...at, 1, 1).data], page: [...map.getContext('2d').getImageData(14, 10, 1, 1).data], ink,
        };
      }, file.bytes.toString('base64'));
      assert.equal(file.bytes.readUInt32BE(16), got.size[0], 'IHDR width');
      assert.equal(file.bytes.readUInt32BE(20), got.size[1], 'IHDR height');
      assert.deepEqual(got.size, got.panel.map((v) => Math.round(4 * v)));
      assert.deepEqual(got.png, got.page, 'the map pixel, unblurred');
      assert.ok(got.ink > 200, `the title is drawn (${got.ink} dark pixels)`);
    });

    await t.test('the menus work from the keyboard', async () => {
      const menu = page.locator('section[aria-labelledby="saliency-title"] details.export');
      await menu.evaluate((d) => { d.open = false; });
      await menu.locator('summary').focus();
      await page.keyboard.press('Enter');
      assert.equal(await menu.evaluate((d) => d.open), true);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'PNG of this panel (4×)');
      await page.keyboard.press('Escape');
      assert.equal(await menu.evaluate((d) => d.open), false);
      assert.equal(await page.evaluate(() => document.activeElement.tagName), 'SUMMARY');
    });

    await t.test('the readout: pixel, value, rank and input pixel, by pointer and by keys', async () => {
      const map = page.locator('#map-gradient');
      await map.scrollIntoViewIfNeeded();
      const box = await map.boundingBox();
      await page.mouse.move(box.x + (14.5 * box.width) / 28, box.y + (10.5 * box.height) / 28);
      const line = page.locator('section[aria-labelledby="saliency-title"] .readout');
      const expect = (x, y) => {
        const v = gradient.values[y * 28 + x];
        return `Gradient saliency (x ${x}, y ${y}): ${fmt(v)} · rank ${rankOf(gradient.values, v)} of 784, largest first · input ${fmt(ref.pixels[y * 28 + x])}`;
      };
      assert.equal(await line.textContent(), expect(14, 10));
      assert.equal(await line.getAttribute('aria-live'), 'polite');
      // Focused: Home goes to rank 1, the arrow keys move the cursor pixel.
      await map.focus();
      await page.keyboard.press('Home');
      const best = gradient.values.indexOf(Math.max(...gradient.values));
      const [bx, by] = [best % 28, Math.floor(best / 28)];
      assert.equal(await line.textContent(), expect(bx, by));
      assert.match(await line.textContent(), / · rank 1 of 784,/);
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowLeft');
      assert.equal(await line.textContent(), expect(bx - 1, by + 1));
      assert.equal(await page.locator('#map-gradient ~ .map-cursor').isVisible(), true, 'the cursor square shows');
      // A signed map ranks the most positive first.
      await page.locator('#map-signed').focus();
      assert.match(await line.textContent(), /^Signed gradient \(x \d+, y \d+\): -?[\d.e-]+ · rank 1 of 784, most positive first · input /);
    });

    await t.test('one colour scale: each group at its largest magnitude, as mapToRgba colours it', async () => {
      const GRADIENT = ['map-gradient', 'map-deconvnet', 'map-guided', 'map-signed', 'map-smoothgrad'];
      const ATTRIBUTION = ['map-gradient-input', 'map-ig', 'lrp-conv1'];
      const state = () => page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
        const c = document.getElementById(id);
        return [id, { max: Number(c.dataset.max), limit: Number(c.dataset.limit), rgba: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) }];
      })), [...GRADIENT, ...ATTRIBUTION]);
      /** The wasm's colours of the reference gradient and guided maps at `limit` (default: their own). */
      const colours = (limit) => page.evaluate((l) => ({
        gradient: Array.from(window.ref.w.mapToRgba(window.ref.gradient, 'sequential', l)),
        guided: Array.from(window.ref.w.mapToRgba(window.ref.guided, 'sequential', l)),
        top: Array.from(window.ref.w.mapToRgba([1], 'sequential', 1)),
      }), limit);
      const pixel = (rgba, i) => rgba.slice(4 * i, 4 * i + 4);
      const argmax = (rgba, values) => pixel(rgba, values.indexOf(Math.max(...values)));

      let s = await state();
      for (const id of [...GRADIENT, ...ATTRIBUTION]) assert.equal(s[id].limit, s[id].max || 1, `${id}: its own scale`);
      const own = await colours(null);
      const guided = await page.evaluate(() => Array.from(window.ref.guided));
      assert.notEqual(s['map-gradient'].max, s['map-guided'].max, 'two maps with different maxima');
      assert.deepEqual(s['map-gradient'].rgba, own.gradient);
      assert.deepEqual(argmax(s['map-gradient'].rgba, ref.gradient), own.top);
      assert.deepEqual(argmax(s['map-guided'].rgba, guided), own.top, 'own scales: both maxima are the top colour');

      await page.check('#one-scale');
      const shared = (ids) => page.waitForFunction((list) => {
        const limits = list.map((id) => document.getElementById(id).dataset.limit);
        const maxima = list.map((id) => Number(document.getElementById(id).dataset.max));
        return limits.every((l) => Number(l) === Math.max(...maxima));
      }, ids);
      await shared(GRADIENT);
      await shared(ATTRIBUTION);
      s = await state();
      const limit = s['map-gradient'].limit;
      const at = await colours(limit);
      assert.deepEqual(s['map-gradient'].rgba, at.gradient, 'colours of the shared limit, from the wasm');
      assert.deepEqual(s['map-guided'].rgba, at.guided);
      const [small, big] = s['map-gradient'].max < s['map-guided'].max ? [ref.gradient, guided] : [guided, ref.gradient];
      const [smallMap, bigMap] = small === guided ? ['map-guided', 'map-gradient'] : ['map-gradient', 'map-guided'];
      assert.deepEqual(argmax(s[bigMap].rgba, big), at.top);
      assert.notDeepEqual(argmax(s[smallMap].rgba, small), at.top, 'the smaller maximum is darker on the shared scale');
      const legend = await page.$$eval('#legend-sequential + figcaption span, #legend-signed + figcaption span', (spans) => spans.map((x) => x.textContent));
      const text = String(Number(limit.toPrecision(3)));
      assert.deepEqual(legend, ['0', 'magnitude', text, `−${text}`, '0', `+${text}`]);
      assert.match(await page.textContent('#lrp-scale'), /shares the attributions' scale \(±[\d.e-]+\)/);

      // A new input while it is on: its maps come painted at their group's new limit.
      const n = await page.evaluate(() => Number(document.body.dataset.updates));
      await page.locator('#gallery button[aria-label$="labelled 3"]').first().click();
      await page.waitForFunction((k) => Number(document.body.dataset.updates) > k, n);
      await idle();
      await shared(GRADIENT);
      await shared(ATTRIBUTION);
      const next = Number(await page.getAttribute('#map-gradient', 'data-limit'));
      assert.notEqual(next, limit);
      await page.waitForFunction((l) => document.querySelector('#legend-sequential + figcaption span:last-child').textContent === l,
        String(Number(next.toPrecision(3))));

      await page.uncheck('#one-scale');
      s = await state();
      for (const id of [...GRADIENT, ...ATTRIBUTION]) assert.equal(s[id].limit, s[id].max || 1, `${id}: its own scale again`);
      // The new input's map, from its .npy, coloured by the wasm at its own scale: as painted.
      const three = parseNpy((await exported(page, 'saliency-title', 'Gradient saliency: .npy')).bytes).values;
      assert.deepEqual(s['map-gradient'].rgba, await page.evaluate((v) => Array.from(window.ref.w.mapToRgba(v, 'sequential')), three));
      assert.deepEqual(await page.$$eval('#legend-signed + figcaption span', (spans) => spans.map((x) => x.textContent)), ['−max', '0', '+max']);
    });

    await checkClean(page, record);
  } finally {
    await close();
  }
});
