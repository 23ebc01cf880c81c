// End-to-end: keyboard and screen readers. axe-core (node_modules/axe-core, a devDependency) on
// the page after the first analysis, on a desktop and a phone viewport: no serious or critical
// violation. The pad draws from the keyboard (arrow keys move a visible pen, Space puts it down
// or lifts it) and that drawing is explained like a mouse stroke. Every map canvas is an image
// whose text alternative says what it shows and where it is strongest, and follows each repaint.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { eight, counter, passed, open, stroke, checkClean, chromiumOnly, ENGINE } from './browser.mjs';

// Chromium through playwright-core (axe's script is put into the page through the DevTools
// protocol, which the page's CSP would refuse as an inline script: the context bypasses it).
const playwright = chromiumOnly('playwright-core: bypassCSP, keyboard, viewport changes');

/** The page in a fresh Chromium (on the CPU), 1280 × 1000, after its first analysis (of the
 * held-out digit it opens on), slower panels included. */
async function openPage() {
  const opened = await open('/', { webgpu: false, context: { bypassCSP: true } });
  await opened.page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
  await passed(opened.page, 'updates', 0);
  // The opening held-out digit's slower panels, so that the counters read next are the next input's.
  await passed(opened.page, 'sanity', 0, 120000);
  return opened;
}

/** An 8 drawn with the mouse; resolves once it is explained and every slower panel painted. */
async function drawEight(page) {
  const [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
  await stroke(page, '#draw', eight());
  await passed(page, 'updates', n);
  await passed(page, 'sanity', s, 120000);
}

/** axe-core's violations on the page as it is, by impact. */
async function axe(page) {
  if (!await page.evaluate(() => 'axe' in window)) await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
  const violations = await page.evaluate(async () => (await window.axe.run(document)).violations
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })));
  return violations;
}

const severe = (violations) => violations.filter((v) => ['serious', 'critical'].includes(v.impact));
const summary = (violations) => violations.map((v) => `${v.impact} ${v.id} ×${v.nodes.length}`).join(', ') || 'none';

// In Firefox and WebKitGTK (E2E_ENGINE): the same axe-core run through WebDriver, whose
// scripts the page's CSP does not govern. In Chromium the test above covers it.
test('axe-core in this engine: no serious or critical violations after the first analysis', {
  skip: ENGINE === 'chromium' ? 'Chromium: the test above' : false,
}, async () => {
  const { page, record, close } = await open('/', { webgpu: false });
  try {
    await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
    await drawEight(page);
    await page.driver.executeScript(`${readFileSync('node_modules/axe-core/axe.min.js', 'utf8')}\nreturn true;`);
    const violations = await page.evaluate(async () => (await window.axe.run(document)).violations
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((x) => x.target.join(' ')) })));
    console.log(`axe in ${ENGINE}: ${summary(violations)}`);
    assert.deepEqual(severe(violations), [], JSON.stringify(severe(violations), null, 1));
    await checkClean(page, record);
  } finally {
    await close();
  }
});

test('axe-core: no serious or critical violations after the first analysis (desktop and phone width)', playwright, async () => {
  const { page, record, close } = await openPage();
  try {
    await drawEight(page);
    const desktop = await axe(page);
    console.log(`axe at 1280 × 1000: ${summary(desktop)}`);
    assert.deepEqual(severe(desktop), [], JSON.stringify(severe(desktop), null, 1));
    await page.setViewportSize({ width: 375, height: 667 });
    await page.waitForTimeout(200);
    const phone = await axe(page);
    console.log(`axe at 375 × 667: ${summary(phone)}`);
    assert.deepEqual(severe(phone), [], JSON.stringify(severe(phone), null, 1));
    assert.deepEqual(record.errors, []);
    assert.deepEqual(record.foreign, []);
  } finally {
    await close();
  }
});

test('keyboard: Tab reaches the pad; the arrow keys and Space draw a 7 with a visible pen; it is explained', playwright, async () => {
  const { page, record, close } = await openPage();
  try {
    // The pad is reached with Tab, named, and described with its keys.
    let tabs = 0;
    while (tabs < 10 && await page.evaluate(() => document.activeElement?.id) !== 'draw') {
      await page.keyboard.press('Tab');
      tabs++;
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'draw', 'Tab reaches the pad');
    const pad = await page.evaluate(() => {
      const c = document.getElementById('draw');
      return { role: c.getAttribute('role'), name: c.getAttribute('aria-label'),
               hint: document.getElementById(c.getAttribute('aria-describedby'))?.textContent };
    });
    assert.equal(pad.role, 'application');
    assert.match(pad.name, /draw a digit/);
    assert.match(pad.hint, /arrow keys move the pen/);
    assert.match(pad.hint, /Space puts the pen down or lifts it/);

    // The pen: visible on focus, over the pad, hollow while up. Where it is: its centre in the
    // pad's pixels (280 × 280), from the boxes on screen.
    const penBox = async () => page.evaluate(() => {
      const c = document.getElementById('pen-cursor');
      const b = c.getBoundingClientRect();
      const p = document.getElementById('draw').getBoundingClientRect();
      return { hidden: c.hidden, down: c.classList.contains('down'), size: b.width,
               x: Math.round(((b.x + b.width / 2 - p.x) / p.width) * 280), y: Math.round(((b.y + b.height / 2 - p.y) / p.height) * 280) };
    });
    let pen = await penBox();
    assert.equal(pen.hidden, false, 'the pen is shown when the pad has keyboard focus');
    assert.equal(pen.down, false);
    assert.deepEqual([pen.x, pen.y], [140, 140], 'it starts at the centre');
    assert.ok(pen.size >= 16, `the pen is big enough to see (${pen.size} px)`);

    const press = async (key, times = 1) => { for (let i = 0; i < times; i++) await page.keyboard.press(key); };
    const inked = () => page.evaluate(() => {
      const c = document.getElementById('draw');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) n += d[i] > 0;
      return n;
    });
    // Moving with the pen up draws nothing (and does not scroll the page): the pad keeps the
    // held-out digit the page opens on, until the pen goes down.
    const scroll = await page.evaluate(() => scrollY);
    const opening = await inked();
    await press('ArrowUp', 10);
    await press('ArrowLeft', 7);
    assert.equal(await inked(), opening);
    assert.equal(await page.evaluate(() => scrollY), scroll, 'the arrow keys do not scroll the page');
    pen = await penBox();
    assert.deepEqual([pen.x, pen.y], [140 - 7 * 8, 140 - 10 * 8], 'the pen moved 8 px a key');

    // A 7: the bar, then the stem down and to the left.
    const [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
    await press('Space');
    assert.equal((await penBox()).down, true);
    assert.match(await page.textContent('#pen-status'), /^pen down at row \d+, column \d+/);
    await press('ArrowRight', 14);
    for (let i = 0; i < 11; i++) {
      await press('ArrowDown', 2);
      await press('ArrowLeft');
    }
    await press('Space');
    assert.equal((await penBox()).down, false);
    assert.match(await page.textContent('#pen-status'), /^pen up at row \d+, column \d+$/);
    assert.ok(await inked() > 2000, 'the pen drew');
    await passed(page, 'updates', n);
    const prediction = await page.textContent('#prediction');
    console.log(`the keyboard-drawn 7 is predicted ${prediction}`);
    assert.equal(prediction, '7');
    // Like a mouse stroke, it is followed by the slower panels once the pen is up.
    await passed(page, 'sanity', s, 120000);

    // Escape lifts the pen; leaving the pad hides the pen and lifts it.
    await press('Space');
    assert.equal((await penBox()).down, true);
    await press('Escape');
    assert.equal((await penBox()).down, false);
    await press('Space');
    await page.keyboard.press('Tab');
    pen = await penBox();
    assert.equal(pen.hidden, true);
    assert.equal(pen.down, false);
    assert.notEqual(await page.evaluate(() => document.activeElement?.id), 'draw');

    assert.deepEqual(record.errors, []);
    assert.deepEqual(record.foreign, []);
  } finally {
    await close();
  }
});

/** Every map canvas (and the input the network sees, the class model's curves and the
 * faithfulness plots) with its role and text alternative. */
const mapLabels = (page) => page.evaluate(() => Object.fromEntries(
  [...document.querySelectorAll('canvas.map, canvas#seen, canvas#cm-curves, canvas.plot')]
    .map((c) => [c.id, { role: c.getAttribute('role'), label: c.getAttribute('aria-label') }])));

/** [lo, hi] of "rows 10–14" / "row 12" (word "row") in `text`, or null. */
function span(text, word) {
  const m = text.match(new RegExp(`${word}s? (\\d+)(?:–(\\d+))?`));
  return m && [Number(m[1]), Number(m[2] ?? m[1])];
}

test('text alternatives: every map says what it shows and where it is strongest, after each repaint', playwright, async () => {
  const { page, record, close } = await openPage();
  try {
    await drawEight(page);
    let labels = await mapLabels(page);
    const ids = Object.keys(labels);
    assert.ok(ids.length >= 50, `the maps were found (${ids.length})`);
    for (const [id, { role, label }] of Object.entries(labels)) {
      assert.equal(role, 'img', `${id} is an image`);
      assert.ok(label && label.length > 10, `${id} has a text alternative`);
    }
    assert.equal(await page.textContent('#prediction'), '8');
    for (const id of ['map-guided', 'map-signed', 'map-box', 'lrp-fc2']) console.log(`${id}: ${labels[id].label}`);
    const where = /[:;] (positive |for the class )?strongest at rows? \d+(–\d+)?, columns? \d+(–\d+)?/;
    assert.match(labels['map-guided'].label, /^Guided backprop saliency for class 8: strongest at rows? \d+(–\d+)?, columns? \d+(–\d+)?$/);
    assert.match(labels['map-gradient'].label, /^Gradient saliency for class 8: /);
    assert.match(labels['map-deconvnet'].label, /^DeconvNet map for class 8: /);
    assert.match(labels['map-signed'].label, /^Signed gradient for class 8: positive strongest at .*; negative strongest at /);
    assert.match(labels['map-box'].label, /^Localisation for class 8: (the region .*, boxed at rows? \d+(–\d+)?, columns? \d+(–\d+)?|no pixel above .*)$/);
    assert.match(labels['map-gradient-input'].label, /^Gradient × input for class 8: /);
    assert.match(labels['map-smoothgrad'].label, /^SmoothGrad magnitude for class 8: strongest at /);
    assert.match(labels['map-ig'].label, /^Integrated Gradients for class 8: /);
    assert.match(labels['lrp-conv1'].label, /^LRP relevance at the pixels for class 8: for the class strongest at .*; against it strongest at /);
    assert.match(labels['lrp-conv2'].label, /^LRP relevance entering conv2 \(12×12\) for class 8: /);
    assert.match(labels['lrp-fc2'].label, /^LRP relevance entering fc2 \(128 units, one bar each\) for class 8: for the class strongest at units? \d+/);
    assert.match(labels['seen'].label, /^The 28×28 image the network sees: ink at rows \d+–\d+, columns \d+–\d+$/);
    const sanity = ids.filter((id) => id.startsWith('sanity-'));
    assert.ok(sanity.length >= 25);
    for (const id of sanity) assert.match(labels[id].label, /, for class 8: Spearman ρ -?\d\.\d\d; /);
    for (const id of ['map-gradient', 'map-deconvnet', 'map-guided', 'map-signed', 'map-gradient-input', 'map-smoothgrad', 'map-ig', 'lrp-conv1', ...sanity]) {
      assert.match(labels[id].label, where, id);
      const [rows, cols] = [span(labels[id].label, 'row'), span(labels[id].label, 'column')];
      for (const [lo, hi] of [rows, cols]) assert.ok(lo >= 1 && hi === lo + 4 && hi <= 28, `${id}: ${labels[id].label}`);
    }
    // The guided backprop map is strongest on the digit: the rows and columns of its strongest
    // 5 × 5 window overlap the ink the network sees.
    const ink = [span(labels.seen.label, 'row'), span(labels.seen.label, 'column')];
    const guided = [span(labels['map-guided'].label, 'row'), span(labels['map-guided'].label, 'column')];
    guided.forEach(([lo, hi], k) => assert.ok(lo <= ink[k][1] && hi >= ink[k][0], `${labels['map-guided'].label} vs ${labels.seen.label}`));

    // A repaint: a held-out 1 from the gallery. The labels follow it.
    const [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
    await page.click('#gallery button[aria-label$="labelled 1"] >> nth=0');
    await passed(page, 'updates', n);
    await passed(page, 'sanity', s, 120000);
    assert.equal(await page.textContent('#prediction'), '1');
    const after = await mapLabels(page);
    for (const id of ['map-guided', 'map-signed', 'map-box', 'map-gradient-input', 'map-smoothgrad', 'map-ig', 'lrp-conv1', ...sanity]) {
      assert.match(after[id].label, /for class 1[:,]/, id);
    }
    assert.notEqual(after.seen.label, labels.seen.label);

    // The class model image: its class, its steps and where it is brightest.
    await page.evaluate(() => {
      const steps = document.getElementById('cm-steps');
      steps.value = '20';
      steps.dispatchEvent(new Event('input'));
    });
    await page.click('#cm-run');
    await page.waitForFunction(() => document.getElementById('cm-image').dataset.done === '20', null, { timeout: 60000 });
    labels = await mapLabels(page);
    assert.match(labels['cm-image'].label, /^Class model of 8 after 20 steps, p\(c\) [01]\.\d{3}: brightest at rows? \d+(–\d+)?, columns? \d+(–\d+)?$/);
    assert.match(labels['cm-curves'].label, /^S_c and p\(c\) of class 8 over 20 steps: S_c from -?[\d.]+ to -?[\d.]+, p\(c\) from [\d.]+ to [\d.]+$/);

    assert.deepEqual(record.errors, []);
    assert.deepEqual(record.foreign, []);
  } finally {
    await close();
  }
});
