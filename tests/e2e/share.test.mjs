// End-to-end: share links (www/state.js) and the page's first view, on the CPU; (a) and (d) in
// Chromium only, (b) and (c) in any engine of the suite.
// (a) A drawing, a pinned class, other settings and both class-model views go into the hash; the
//     copied link, opened in a fresh page, paints every map and number bit for bit the same.
// (b) A bad or hostile hash (wrong length, bad base64, unknown model, a class out of range,
//     1 MB) opens the default view with a notice saying what was wrong, and the page works.
// (c) Without a hash the page opens on a held-out digit, every panel explaining it; the first
//     stroke replaces it.
// (d) A user's own model never goes into a link.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  open, stroke, allMaps, unpainted, passed, counter, checkClean, chromiumOnly,
} from './browser.mjs';

const chromium = chromiumOnly('the clipboard permission and a second page in the same context');

let opened;
before(async () => {
  opened = await open('/', { webgpu: false, context: { permissions: ['clipboard-read', 'clipboard-write'] } });
});
after(() => opened?.close());

/** Waits until the first panels show an analysis and no slower panel is still to come. */
async function settled(page) {
  await passed(page, 'updates', 0);
  await page.waitForFunction(() => document.querySelectorAll('.panel.pending').length === 0
    && ['attributions', 'faithfulness', 'sanity'].every((p) => / ms$/.test(document.getElementById(`${p}-meta`).textContent)),
  null, { timeout: 120000 });
}

/** Every map's pixels (as a digest) and every number the panels print. */
async function view(page) {
  const ids = [...await allMaps(page), 'seen', 'cm-image', 'cm-curves', ...Array.from({ length: 10 }, (_, c) => `cm-row-${c}`)];
  const pixels = await page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const c = document.getElementById(id);
    return [id, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data).join(',')];
  })), ids);
  const digests = Object.fromEntries(Object.entries(pixels).map(([id, p]) => [id, createHash('sha256').update(p).digest('hex')]));
  const text = await page.evaluate(() => [...document.querySelectorAll(
    '#prediction, #probabilities .value, [id^="lrp-"][id$="-sum"], #gradient-input-meta, #ig-completeness, #faith-plots output, #faith-table td, #sanity-grid output, #cm-stepcount, #cm-score, #cm-prob, #cm-range, #cm-row figcaption',
  )].map((e) => `${e.id}: ${e.textContent}`));
  return { digests, text };
}

test('(c) the page opens on a held-out digit, every panel explaining it; the first stroke replaces it', async () => {
  const { page, record } = opened;
  await settled(page);
  assert.match(await page.textContent('#input-message'), /^held-out digit #\d+, labelled 0 \(draw to replace it\)$/);
  assert.equal(await page.textContent('#prediction'), '0');
  assert.deepEqual(await unpainted(page, await allMaps(page)), []);
  assert.equal(await page.evaluate(() => document.body.textContent.includes('draw or pick an image first')), false);
  assert.match(await page.evaluate(() => location.hash), /^#v=1&model=mnist&g=\d+&/);

  // Ink outside the top-left corner of the pad: the digit's, until a stroke in the corner replaces it.
  const inkOutsideCorner = () => page.evaluate(() => {
    const c = document.getElementById('draw');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) n += (x > 0.3 * c.width || y > 0.3 * c.height) && d[4 * (y * c.width + x) + 3] > 0;
    return n;
  });
  assert.ok(await inkOutsideCorner() > 1000, 'the digit is on the pad');
  const n = await counter(page, 'updates');
  await stroke(page, '#draw', [[0.05, 0.08], [0.15, 0.08]]);
  await passed(page, 'updates', n);
  assert.equal(await inkOutsideCorner(), 0, 'the stroke replaced the digit');
  assert.equal(await page.textContent('#input-message'), '');
  await checkClean(page, record);
});

test('(a) a link restores the same maps, bit for bit, on the CPU', chromium, async () => {
  const { page, context, record } = opened;
  await page.click('#clear');
  // Settings and class first, then the input: every panel is computed once, with all of them.
  await page.selectOption('#composite', 'custom');
  const rule = await page.evaluate(() => document.querySelector('#custom-rules select').id);
  await page.selectOption(`#${rule}`, 'epsilon');
  await page.selectOption('#pool', 'proportional');
  await page.check('#one-scale');
  await page.selectOption('#ig-steps', '16');
  await page.selectOption('#ig-baseline', 'mean');
  await page.selectOption('#faith-k', '32');
  // The preset first: choosing one sets the regularisers' controls, then λ is changed by hand.
  await page.selectOption('#cm-preset', 'paper');
  await page.evaluate(() => {
    for (const [id, v] of [['quantile', '0.9'], ['sg-samples', '8'], ['sg-sigma', '0.2'], ['cm-steps', '20'], ['cm-lambda', '0.1']]) {
      const e = document.getElementById(id);
      e.value = v;
      e.dispatchEvent(new Event('input', { bubbles: true }));
    }
  });
  await page.selectOption('#cm-class', '3');
  await page.selectOption('#cm-start', 'mean');
  await page.click('#class-buttons button:nth-child(4)');   // explain class 3
  const n = await counter(page, 'updates');
  await stroke(page, '#draw', [[0.3, 0.25], [0.7, 0.25], [0.6, 0.45], [0.45, 0.8]]);   // a 7, in few moves
  await passed(page, 'updates', n);
  await settled(page);
  await page.click('#cm-run');   // the class model panel, run: for class 3, then for every class
  await page.waitForFunction(() => document.getElementById('cm-image').dataset.done === '20', null, { timeout: 60000 });
  await page.click('#cm-all');
  await page.waitForFunction(() => document.getElementById('cm-row').dataset.done === '10', null, { timeout: 60000 });

  await page.click('#copy-link');
  await page.waitForFunction(() => document.getElementById('share-status').textContent === 'link copied');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(link, page.url());
  const hash = new URL(link).hash;
  assert.match(hash, /^#v=1&model=mnist&x=[A-Za-z0-9_-]{1046}&class=3&one-scale=on&quantile=0.9&sg-samples=8&sg-sigma=0.2&ig-steps=16&ig-baseline=mean&faith-k=32&composite=custom&pool=proportional&cm-preset=paper&cm-class=3&cm-start=mean&cm-objective=score&cm-lambda=0.1&cm-step=0.1&cm-steps=20&cm-clip=off&cm-sigmoid=off&cm-adam=off&cm-jitter=0&cm-scale=0&cm-rotate=0&cm-tv=0&cm-blur=0&cm-fourier=0&cm-restarts=1&cm-images=1&cm-diversity=0&rules=epsilon(\.\w+)+&run=class-model\.all-classes$/);
  console.log(`a drawn 7 with its settings: a hash of ${hash.length} characters`);
  const original = await view(page);
  await checkClean(page, record);

  // The link in a fresh page (its own worker and wasm instance).
  const t0 = Date.now();
  const fresh = await context.newPage();
  fresh.on('pageerror', (e) => record.errors.push(`page error: ${e.message}`));
  fresh.on('console', (m) => { if (m.type() === 'error') record.errors.push(m.text()); });
  try {
    await fresh.goto(link);
    await settled(fresh);
    await fresh.waitForFunction(() => document.getElementById('cm-image').dataset.done === '20'
      && document.getElementById('cm-row').dataset.done === '10', null, { timeout: 60000 });
    console.log(`the link restored every panel and the class model in ${Date.now() - t0} ms`);
    assert.equal(await fresh.textContent('#share-notice'), '');
    assert.equal(await fresh.inputValue('#composite'), 'custom');
    assert.ok(await fresh.isChecked('#one-scale'));
    assert.equal(await fresh.inputValue(`#${rule}`), 'epsilon');
    assert.equal(await fresh.getAttribute('#class-buttons button:nth-child(4)', 'aria-pressed'), 'true');
    const restored = await view(fresh);
    assert.ok(Object.keys(original.digests).length > 40, `every map compared (${Object.keys(original.digests).length})`);
    assert.deepEqual(restored.digests, original.digests, 'the same pixels in every map');
    assert.deepEqual(restored.text, original.text, 'the same numbers');
    // The hash follows within 300 ms: the restored page holds the same state.
    await fresh.waitForFunction((h) => location.hash === h, hash, { timeout: 5000 });
    await checkClean(fresh, record);
  } finally {
    await fresh.close();
  }
});

test('(b) bad or hostile hashes open the default view with a notice; the page works', async () => {
  const { page, record } = opened;
  const b64 = (n) => Buffer.alloc(n, 7).toString('base64url');
  const cases = [
    [`v=1&model=mnist&x=${b64(700)}`, /the input has 700 values; mnist takes 1×28×28 = 784/],
    ['v=1&model=mnist&x=****', /the input \(x\) is not base64url/],
    ['v=1&model=user-1&g=0', /unknown model "user-1"/],
    ['v=1&model=mnist&g=0&class=10', /class 10 does not exist \(mnist has 10\)/],
    // 1 MB: Firefox refuses URLs of 1 MiB (network.standard-url.max-length) before any page sees them.
    [`v=1&model=mnist&x=${'A'.repeat(1e6)}`, /the link's state is 1,000,0\d\d characters long; at most 20,000 are read/],
  ];
  for (const [hash, why] of cases) {
    // A link pasted into the tab changes only the hash: the page opens it as any link (a reload).
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForFunction((w) => new RegExp(w).test(document.getElementById('share-notice')?.textContent), why.source, { timeout: 60000 });
    await passed(page, 'updates', 0);
    const notice = await page.textContent('#share-notice');
    assert.match(notice, /^This link could not be opened: .+\. The page opens as it does without one\.$/);
    assert.match(notice, why);
    assert.equal(await page.getAttribute('#share-notice', 'role'), 'status');
    // The default view: the digits, the opening held-out image, every first map painted.
    assert.equal(await page.inputValue('#model-select'), 'mnist');
    assert.match(await page.textContent('#input-message'), /^held-out digit #\d+, labelled 0 \(draw to replace it\)$/);
    assert.equal(await page.textContent('#prediction'), '0');
    assert.deepEqual(await unpainted(page, ['map-gradient', 'lrp-conv1']), []);
  }
  await checkClean(page, record);

  // The checks themselves, without a page load each: every field against the catalogues.
  const problems = await page.evaluate(async () => {
    const share = await import('/www/state.js');
    const catalogue = {
      input: [1, 28, 28], classes: 10, heldout: 1000, rules: ['zero', 'epsilon', 'gamma'], weighted: 4,
      controls: Object.fromEntries(share.SETTINGS.map((id) => [id, share.accepts(document.getElementById(id))])),
    };
    catalogue.controls.composite = ['recommended', 'custom'];
    const hashes = [
      'v=2&model=mnist', 'model=mnist', 'v=1', 'v=1&model=mn%20ist', 'v=1&model=mnist&v=1', 'v=1&model=mnist&bogus=1',
      'v=1&model=mnist&g=1&x=AAAA', 'v=1&model=mnist&g=-1', 'v=1&model=mnist&g=1e3', 'v=1&model=mnist&g=1000', 'v=1&model=mnist&x=AAAAA',
      'v=1&model=mnist&class=x', 'v=1&model=mnist&quantile=2', 'v=1&model=mnist&quantile=0.9001', 'v=1&model=mnist&sg-samples=5',
      'v=1&model=mnist&ig-steps=7', 'v=1&model=mnist&composite=nope', 'v=1&model=mnist&composite=custom',
      'v=1&model=mnist&rules=zero.zero.zero.zero', 'v=1&model=mnist&composite=custom&rules=zero.zero',
      'v=1&model=mnist&composite=custom&rules=zero.zero.zero.alpha', 'v=1&model=mnist&run=everything', 'v=1&model=mnist&run=class-model.class-model',
      'v=1&model=mnist&cm-class=10',
    ];
    const good = 'v=1&model=mnist&g=999&class=9&quantile=0.995&sg-sigma=0&composite=custom&rules=zero.epsilon.gamma.zero&run=all-classes.class-model';
    const problem = (h) => {
      const read = share.decode(`#${h}`);
      return read.error ?? share.check(read.state, catalogue);
    };
    return { bad: hashes.map((h) => [h, problem(h)]), good: problem(good), place: share.decode('#prediction-title', (id) => !!document.getElementById(id)) };
  });
  for (const [hash, problem] of problems.bad) assert.ok(problem, `refused: ${hash}`);
  assert.equal(problems.good, null);
  assert.equal(problems.place, null, 'a fragment naming a place in the page is not a link state');
});

test('(d) a user\'s own model stays out of links, and copy link says so', chromium, async () => {
  const { page, record } = opened;
  await page.goto(new URL("/", await page.url()).href);
  await passed(page, 'updates', 0);
  await page.selectOption('#model-select', 'user');
  await page.setInputFiles('#model-file', 'tests/fixtures/user-models/bn_avgpool.onnx');
  await page.waitForFunction(() => document.getElementById('user-model').dataset.state === 'loaded', null, { timeout: 60000 });
  await page.click('#copy-link');
  await page.waitForFunction(() => document.getElementById('share-status').textContent !== '');
  assert.equal(await page.textContent('#share-status'), 'link copied, without your own model (it stays in this page)');
  assert.equal(new URL(await page.url()).hash, '');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), page.url());
  await checkClean(page, record);
});
