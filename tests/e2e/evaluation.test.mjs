// End-to-end: the evaluation panel (www/evaluation.js), in Chromium on the CPU, one page for
// every subtest. Scrolled to, the panel measures the digit the page opens on: its live table
// has a column per method and a row per cheap metric, named, grouped and explained by the
// wasm's catalogue, the best of each row marked; its values are those DeepInside.evaluate gives
// in the page for the same input and class. The costly toggle adds the costly rows. A run over
// 3 held-out images spread over the set (chunks of 1) shows its progress, is cancelled and goes on; its
// CSV holds every value, equal to an uninterrupted run's, and to one `evaluate` call on the 3
// images up to float rounding (a call batches the maps of each class); the means, box plots and
// ranks are drawn, and on a phone's width nothing sticks out. On the WebGPU page (SwiftShader)
// a held-out image is measured as the CPU build measures it: the metrics run on a CPU copy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { open, checkClean, counter, passed, unpainted, chromiumOnly } from './browser.mjs';

const IMAGES = 3;

/** The live table, or another metrics table: its method columns and metric rows with their
 * cells ({value, best, text}). */
const readTable = (page, id) => page.evaluate((id) => {
  const table = document.getElementById(id);
  return {
    methods: [...table.querySelectorAll('thead th')].slice(1).map((th) => th.textContent),
    groups: [...table.querySelectorAll('tbody')].map((b) => b.dataset.group),
    rows: [...table.querySelectorAll('tr[data-metric]')].map((tr) => ({
      metric: tr.dataset.metric,
      header: tr.querySelector('th').textContent,
      cells: [...tr.querySelectorAll('td')].map((td) => ({ value: td.dataset.value, best: td.classList.contains('best'), text: td.textContent })),
    })),
  };
}, id);

/** The wasm's catalogue and `evaluate`, called in the page, of held-out images `picks` (their
 * indices, or a count n: the page's n images spread evenly over the set), for their labels or
 * for `cls`. */
const direct = (page, picks, cls = null, metrics = undefined) => page.evaluate(async ([picks, cls, metrics]) => {
  const w = await import('/pkg/cpu/deep_inside.js');
  await w.default();
  const { labels, pixels } = w.heldoutDigits('mnist');
  const di = await w.DeepInside.create('cpu', 'mnist');
  const at = Array.isArray(picks) ? picks : Array.from({ length: picks }, (_, k) => Math.floor(k * labels.length / picks));
  const x = new Float32Array(at.length * 784);
  at.forEach((i, k) => x.set(Float32Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255), k * 784));
  const classes = cls === null ? at.map((i) => labels[i]) : [cls];
  const r = await di.evaluate(x, classes, { metrics });
  di.free();
  return { catalogue: w.evaluationCatalogue(), methods: r.methods, metrics: r.metrics, values: Array.from(r.values, String) };
}, [picks, cls, metrics]);

async function downloaded(page, id) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${id}`)]);
  return { text: readFileSync(await download.path(), 'utf8'), name: download.suggestedFilename() };
}

const evaluations = (page) => counter(page, 'evaluations');

/** Scrolls to the panel (it measures while on screen) and waits for its live table. */
async function liveTable(page, timeout) {
  await page.locator('#evaluation-title').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => /^This input/.test(document.getElementById('metrics-meta').textContent), null, { timeout });
}

test('evaluation panel: live table, costly metrics, the held-out set (CPU)', chromiumOnly('playwright downloads'), async (t) => {
  const { page, record, close } = await open('/', { webgpu: false });
  try {
    await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
    await liveTable(page, 120000);
    const index = Number((await page.textContent('#input-message')).match(/#(\d+)/)[1]);
    const cls = Number(await page.textContent('#prediction'));
    const ref = await direct(page, [index], cls);
    const cheap = ref.catalogue.metrics.filter((m) => !m.costly);

    await t.test('live: a column per method, a row per cheap metric, the best marked, DeepInside.evaluate\'s values', async () => {
      const live = await readTable(page, 'eval-live');
      assert.deepEqual(live.methods, ref.catalogue.methods.map((m) => m.title));
      assert.equal(live.methods.length, 8);
      assert.deepEqual(live.rows.map((r) => r.metric), cheap.map((m) => m.name));
      assert.deepEqual(live.groups, [...new Set(cheap.map((m) => m.group))]);
      live.rows.forEach((row, k) => {
        const m = cheap[k];
        // The header: Quantus's name, the arrow, and the catalogue's one line.
        assert.ok(row.header.startsWith(`${m.quantus} ${m.better === 'higher' ? '↑' : '↓'} (${m.better} is better)`), row.header);
        assert.ok(row.header.endsWith(m.meaning), row.header);
        const values = row.cells.map((c) => Number(c.value));
        assert.deepEqual(row.cells.map((c) => c.value), ref.methods.map((_, j) => ref.values[j * cheap.length + k]), `${m.name}: the wasm's values`);
        const finite = values.filter(Number.isFinite);
        assert.ok(finite.length > 0, `${m.name} has values`);
        const best = m.better === 'higher' ? Math.max(...finite) : Math.min(...finite);
        assert.deepEqual(row.cells.map((c) => c.best), values.map((v) => v === best), `${m.name}: the best marked`);
        for (const c of row.cells) if (c.best) assert.match(c.text, /\(best\)$/);
      });
      assert.match(await page.textContent('#metrics-meta'), new RegExp(`^This input: class ${cls} · 8 methods × ${cheap.length} metrics · cpu · [\\d.]+ s$`));
      assert.equal(await page.textContent('#costly-meta'), 'off');
    });

    await t.test('the costly toggle adds the sensitivities, Lipschitz and MPRT rows for this input', async () => {
      const costly = ref.catalogue.metrics.filter((m) => m.costly);
      const n = await counter(page, 'costly');
      await page.check('#eval-costly');
      await passed(page, 'costly', n, 120000);
      const live = await readTable(page, 'eval-live');
      assert.deepEqual(live.rows.map((r) => r.metric), ref.catalogue.metrics.map((m) => m.name), 'every metric, in the catalogue\'s order');
      for (const row of live.rows.filter((r) => costly.some((m) => m.name === r.metric))) {
        assert.ok(row.cells.every((c) => c.value !== undefined && !Number.isNaN(Number(c.value))), `${row.metric}: numbers`);
      }
      assert.match(await page.textContent('#costly-meta'), new RegExp(`^Costly metrics: class ${cls} · 8 methods × ${costly.length} metrics`));
      await page.uncheck('#eval-costly');
      assert.equal((await readTable(page, 'eval-live')).rows.length, cheap.length);
    });

    await t.test(`${IMAGES} held-out images: progress, cancel, go on; CSV, means, box plots, ranks`, async () => {
      await page.fill('#eval-count', String(IMAGES));
      await page.waitForFunction((n) => document.getElementById('eval-run').textContent === `Evaluate on ${n} held-out images, spread over the set`, IMAGES);
      let runs = await evaluations(page);
      await page.click('#eval-run');
      await page.waitForFunction(() => document.getElementById('eval-progress').value >= 1, null, { timeout: 120000 });
      assert.match(await page.textContent('#eval-status'), new RegExp(`^[12] / ${IMAGES} images · [\\d.]+ s · about [\\d.]+ s left`));
      await page.click('#eval-cancel');
      await passed(page, 'evaluations', runs++, 120000);
      assert.match(await page.textContent('#eval-status'), /cancelled: click again to go on from here/);
      const done = Number(await page.evaluate(() => document.getElementById('eval-progress').value));
      assert.ok(done > 0 && done < IMAGES, `stopped between chunks (${done})`);
      assert.equal(await page.textContent('#eval-run'), `Go on: ${done} of ${IMAGES} images done`);
      assert.match(await page.textContent('#eval-means caption'), new RegExp(`the first ${done} of ${IMAGES}\\)`), 'the partial results are shown');

      await page.click('#eval-run');
      await passed(page, 'evaluations', runs++, 120000);
      assert.match(await page.textContent('#eval-status'), new RegExp(`^${IMAGES} / ${IMAGES} images · [\\d.]+ s · done$`));
      const resumed = await downloaded(page, 'eval-csv-values');
      const rows = resumed.text.trimEnd().split('\n');
      assert.equal(resumed.name, `mnist-evaluation-values-${IMAGES}.csv`);
      assert.deepEqual(rows[0], 'image,method,metric,value');
      assert.equal(rows.length, 1 + IMAGES * 8 * cheap.length, 'one row per image, method and metric');
      const summary = await downloaded(page, 'eval-csv-summary');
      assert.equal(summary.text.trimEnd().split('\n').length, 1 + 8 * cheap.length);

      // An uninterrupted run, and one `evaluate` call on the same images: the same values.
      assert.equal(await page.textContent('#eval-run'), `Evaluate on ${IMAGES} held-out images, spread over the set`);
      await page.click('#eval-run');
      await passed(page, 'evaluations', runs++, 120000);
      assert.equal((await downloaded(page, 'eval-csv-values')).text, resumed.text, 'cancelled and resumed = uninterrupted');
      const once = await direct(page, IMAGES);
      const apart = rows.slice(1).map((r, i) => [Number(r.split(',').at(-1)), Number(once.values[i])])
        .filter(([a, b]) => !(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)) || (Number.isNaN(a) && Number.isNaN(b))));
      assert.deepEqual(apart, [], 'chunks = one call, up to float rounding');
      const times = await page.$$eval('#eval-times li', (items) => items.map((li) => Number(li.dataset.ms)));
      assert.equal(times.length, 2, 'both complete runs timed');
      assert.ok(times.every((ms) => ms > 0));

      const means = await readTable(page, 'eval-means');
      assert.deepEqual(means.rows.map((r) => r.metric), cheap.map((m) => m.name));
      for (const row of means.rows) {
        assert.equal(row.cells.length, 8);
        assert.ok(row.cells.some((c) => c.best), `${row.metric}: a best mean`);
        for (const c of row.cells) assert.match(c.text, /^-?[\d.e-]+\[-?[\d.e-]+, -?[\d.e-]+\]/, `${row.metric}: mean [low, high]`);
      }
      const boxes = await page.$$eval('#eval-boxes canvas', (cs) => cs.map((c, i) => (c.id = `eval-box-${i}`)));
      assert.equal(boxes.length, cheap.length, 'a box plot per metric');
      assert.deepEqual(await unpainted(page, boxes), []);
      const ranks = await readTable(page, 'eval-ranks');
      assert.equal(ranks.rows.length, cheap.length);
      const meanRanks = await page.$$eval('#eval-ranks tfoot td', (tds) => tds.map((td) => Number(td.textContent.replace(' (best)', ''))));
      assert.equal(meanRanks.length, 8);
      assert.deepEqual(meanRanks, [...meanRanks].sort((a, b) => a - b), 'the methods from the best mean rank');
      await checkClean(page, record);
    });

    await t.test('on a phone\'s width the tables wrap: nothing sticks out', async () => {
      await page.setViewportSize({ width: 375, height: 667 });
      const wide = await page.evaluate(() => [...document.querySelectorAll('section[aria-labelledby="evaluation-title"] *')]
        .filter((el) => el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().right > innerWidth + 0.5)
        .map((el) => `${el.tagName} ${el.id} ${Math.round(el.getBoundingClientRect().right)}`));
      assert.deepEqual(wide, []);
    });
  } finally {
    await close();
  }
});

test('evaluation on the WebGPU page: a held-out image, as the CPU build measures it', chromiumOnly('playwright downloads'), async () => {
  const { page, record, close } = await open('/?backend=webgpu', { webgpu: true });
  try {
    await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
    assert.match(await page.textContent('#backend-status'), /^WebGPU/);
    await page.fill('#eval-count', '1');
    await page.waitForFunction(() => document.getElementById('eval-run').textContent === 'Evaluate on one held-out image');
    await page.click('#eval-run');
    await passed(page, 'evaluations', 0, 120000);
    assert.match(await page.textContent('#eval-status'), /^1 \/ 1 images · [\d.]+ s · done$/);
    const { text } = await downloaded(page, 'eval-csv-values');
    const ref = await direct(page, 1);
    const values = text.trimEnd().split('\n').slice(1).map((r) => Number(r.split(',').at(-1)));
    assert.equal(values.length, ref.values.length);
    values.forEach((v, i) => {
      const r = Number(ref.values[i]);
      assert.ok(Math.abs(v - r) <= 1e-5 * Math.max(1, Math.abs(r)) || (Number.isNaN(v) && Number.isNaN(r)), `value ${i}: ${v} vs ${r}`);
    });
    await checkClean(page, record);
  } finally {
    await close();
  }
});
