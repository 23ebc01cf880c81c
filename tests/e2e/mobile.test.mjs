// End-to-end: the page on a phone (375 × 667) and a tablet (768 × 1024, and on its side), emulated by Chromium
// with touch: an 8 drawn with touch events gives a prediction, nothing is wider than the screen,
// every tap target is at least 44 × 44 CSS px (WCAG 2.5.5) and, on the phone, every map of the
// input's size is at least 112 CSS px wide. Screenshots: .e2e/phone.png, .e2e/tablet.png, .e2e/tablet-landscape.png.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { SHOTS, eight, counter, passed, open, chromiumOnly } from './browser.mjs';

const DEVICES = {
  phone: { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  tablet: { viewport: { width: 768, height: 1024 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  // The same tablet on its side: the desktop's two columns, with 44 px targets.
  'tablet-landscape': { viewport: { width: 1024, height: 768 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

/** The page in a fresh Chromium emulating `device`, under the strict CSP, on the CPU. */
const openOn = (device) => open('/', { webgpu: false, context: DEVICES[device] });

/** Draws a stroke through `points` (fractions of the element's box) with touch events (CDP). */
async function touchStroke(page, context, selector, points) {
  await page.locator(selector).scrollIntoViewIfNeeded();
  const box = await page.locator(selector).boundingBox();
  const at = ([fx, fy]) => ({ x: box.x + fx * box.width, y: box.y + fy * box.height });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(points[0])] });
  for (let i = 1; i < points.length; i++) {
    // Four steps between points, as the mouse strokes of the other tests.
    const [a, b] = [points[i - 1], points[i]];
    for (let s = 1; s <= 4; s++) {
      const t = s / 4;
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])] });
    }
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/** What sticks out on the right, the tap targets under 44 × 44 px and the maps' widths. */
function measure(page) {
  return page.evaluate(() => {
    const visible = (el) => {
      const b = el.getBoundingClientRect();
      return (b.width > 0 || b.height > 0) && getComputedStyle(el).visibility !== 'hidden' && el.closest('[hidden]') === null;
    };
    const width = innerWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => visible(el) && el.getBoundingClientRect().right > width + 0.5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} ${Math.round(el.getBoundingClientRect().right)}`);
    // Tap targets: buttons, inputs, selects, summaries, links and labels wrapping an input (the
    // label is the target then). A file input hidden behind its label counts as the label.
    const targets = new Set();
    for (const el of document.querySelectorAll('button, input, select, summary, a[href], label')) {
      if (el.tagName === 'LABEL') {
        if (el.querySelector('input, select') || (el.htmlFor && document.getElementById(el.htmlFor)?.type === 'file')) targets.add(el);
      } else if (el.tagName === 'INPUT' && el.type === 'file') {
        continue;
      } else {
        targets.add(el.tagName === 'INPUT' && el.closest('label') ? el.closest('label') : el);
      }
    }
    const shown = [...targets].filter(visible);
    const small = shown.filter((el) => {
      const b = el.getBoundingClientRect();
      return b.width < 44 || b.height < 44;
    }).map((el) => {
      const b = el.getBoundingClientRect();
      return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.getAttribute('aria-label') ?? el.textContent).trim().slice(0, 30)}" ${b.width.toFixed(0)}×${b.height.toFixed(0)}`;
    });
    const maps = [...document.querySelectorAll('canvas.map')]
      .filter((c) => visible(c) && c.width === 28 && c.height === 28)
      .map((c) => ({ id: c.id, width: c.getBoundingClientRect().width, height: c.getBoundingClientRect().height }));
    return { width, scrollWidth: document.documentElement.scrollWidth, wide, targets: shown.length, small, maps };
  });
}

// Device emulation and touch events come from Chromium's DevTools protocol.
const emulated = chromiumOnly('device emulation and CDP touch events');

for (const device of Object.keys(DEVICES)) {
  test(`${device} (${DEVICES[device].viewport.width}×${DEVICES[device].viewport.height}, touch): an 8 drawn by touch is predicted; nothing overflows; tap targets ≥ 44 px`, emulated, async () => {
    const { page, context, record, close } = await openOn(device);
    try {
      await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
      await passed(page, 'updates', 0);
      // The held-out digit the page opens on, slower panels included: the counters read next are the drawing's.
      await passed(page, 'sanity', 0, 120000);
      assert.ok(await page.evaluate(() => matchMedia('(pointer: coarse)').matches), 'the emulated device has a coarse pointer');

      // An 8 drawn with a finger: the pad reacts (touch-action: none, pointer events) and the
      // page does not scroll under the finger.
      const before = await counter(page, 'updates');
      const sanity = await counter(page, 'sanity');
      const scrollBefore = await page.evaluate(() => scrollY);
      await touchStroke(page, context, '#draw', eight());
      await passed(page, 'updates', before);
      const ink = await page.evaluate(() => {
        const c = document.getElementById('draw');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) n += d[i] > 0;
        return n;
      });
      assert.ok(ink > 2000, `the finger drew (${ink} inked pixels)`);
      assert.equal(await page.evaluate(() => scrollY), scrollBefore, 'drawing does not scroll the page');
      const prediction = await page.textContent('#prediction');
      assert.match(prediction, /^[0-9]$/);
      console.log(`${device}: the touch-drawn 8 is predicted ${prediction}`);
      // Every panel painted, so that the layout is measured with all its content.
      await passed(page, 'sanity', sanity, 120000);

      const m = await measure(page);
      console.log(`${device}: layout ${m.scrollWidth} px wide in ${m.width}; ${m.small.length} of ${m.targets} tap targets under 44 px; `
        + `28×28 maps ${Math.min(...m.maps.map((x) => x.width)).toFixed(0)}–${Math.max(...m.maps.map((x) => x.width)).toFixed(0)} px`);
      // A phone lays the page out wider than its screen when the content is wider (then zooms
      // out, or scrolls sideways): innerWidth is that width, so compare with the screen's.
      const screen = DEVICES[device].viewport.width;
      assert.equal(m.width, screen, `laid out at the screen's width (${screen} px), not ${m.width}`);
      assert.ok(m.scrollWidth <= screen, `no sideways scrolling: ${m.scrollWidth} > ${screen}`);
      assert.deepEqual(m.wide, [], 'no element past the right edge');
      assert.ok(m.targets >= 120, `the controls were found (${m.targets})`);
      assert.deepEqual(m.small, [], 'tap targets under 44 × 44 px');
      if (device === 'phone') {
        assert.ok(m.maps.length >= 30, `the maps were found (${m.maps.length})`);
        const tiny = m.maps.filter((x) => x.width < 112 || x.height < 112);
        assert.deepEqual(tiny, [], 'maps under 112 px on a phone');
      }
      // The upload label is a whole, reachable target (it was cut off at 516 px).
      const upload = await page.locator('label[for="upload"]').boundingBox();
      assert.ok(upload.x >= 0 && upload.x + upload.width <= m.width);

      assert.deepEqual(record.errors, []);
      assert.deepEqual(record.foreign, []);
      // The whole page, as the screen's viewport made as tall as the page: a full-page capture
      // would drop the touch emulation (and its 44 px targets) while it captures.
      await page.setViewportSize({ width: m.width, height: await page.evaluate(() => document.documentElement.scrollHeight) });
      await page.screenshot({ path: path.join(SHOTS, `${device}.png`) });
    } finally {
      await close();
    }
  });
}
