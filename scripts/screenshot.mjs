// Regenerates the README's screenshots from a headless Chromium run of the real page (after
// scripts/build.sh):
//   node scripts/screenshot.mjs                docs/screenshot.png: draws an 8, runs the class
//                                              model for 8, and photographs the whole page
//   node scripts/screenshot.mjs --your-model   docs/your-model.png: loads a user's model
//                                              (tests/fixtures/user-models/rgb_stride.safetensors,
//                                              a colour CNN), uploads one of its fixture pictures,
//                                              runs the class model, and photographs the page
//   node scripts/screenshot.mjs --phone        docs/phone.png: the page on a phone (Chromium
//   node scripts/screenshot.mjs --tablet       emulating 375 × 667 with touch) after an 8 drawn
//                                              with a finger, four screens side by side;
//                                              docs/tablet.png: the same on a 768 × 1024 tablet,
//                                              two screens
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open, stroke, eight } from '../tests/e2e/browser.mjs';
import { launchChromium } from './chromium.mjs';
import { startServer } from './serve.mjs';

const yourModel = process.argv.includes('--your-model');
const device = ['phone', 'tablet'].find((d) => process.argv.includes(`--${d}`));
const counter = (page, name) => page.evaluate((n) => Number(document.body.dataset[n] ?? 0), name);
const passed = (page, name, before) => page.waitForFunction(([n, b]) => Number(document.body.dataset[n] ?? 0) > b,
  [name, before], { timeout: 120000 });

/** A PNG of one fixture input (3 × 32 × 32 values in [0, 1], channel-major), made by the browser. */
async function fixturePng(page, pixels, [h, w]) {
  const b64 = await page.evaluate(async ({ pixels, h, w }) => {
    const img = new ImageData(w, h);
    for (let i = 0; i < h * w; i++) img.data.set([0, 1, 2].map((c) => Math.round(255 * pixels[c * h * w + i])).concat(255), 4 * i);
    const canvas = new OffscreenCanvas(w, h);
    canvas.getContext('2d').putImageData(img, 0, 0);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }, { pixels, h, w });
  return Buffer.from(b64, 'base64');
}

// The phone and the tablet: the device, and the parts of the page each screen starts at.
const DEVICES = {
  phone: { context: { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
           screens: [null, '#prediction-title', '#saliency-title', '#lrp-title'] },
  tablet: { context: { viewport: { width: 768, height: 1024 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
            screens: [null, '#prediction-title'] },
};

/** Screens of the page on an emulated phone or tablet, after an 8 drawn with touch events, side
 * by side in one PNG (at CSS pixels). Each is what the screen shows, scrolled to a panel: a
 * full-page capture would leave the touch emulation (and its 44 px targets) for the time. */
async function shootDevice(name) {
  const { context: options, screens } = DEVICES[name];
  const { server, url } = await startServer({ port: 0, csp: true });
  const browser = await launchChromium({ webgpu: false });
  try {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100);
    await passed(page, 'updates', 0);
    const [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
    await page.locator('#draw').scrollIntoViewIfNeeded();
    const box = await page.locator('#draw').boundingBox();
    const cdp = await context.newCDPSession(page);
    const at = ([fx, fy]) => ({ x: box.x + fx * box.width, y: box.y + fy * box.height });
    const points = eight();
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(points[0])] });
    for (const p of points.slice(1)) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at(p)] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await passed(page, 'updates', n);
    await passed(page, 'sanity', s);
    await page.waitForTimeout(500);
    const shots = [];
    for (const selector of screens) {
      await page.evaluate((sel) => window.scrollTo(0, sel ? document.querySelector(sel).closest('section').getBoundingClientRect().top + scrollY - 8 : 0), selector);
      await page.waitForTimeout(200);
      shots.push((await page.screenshot({ scale: 'css' })).toString('base64'));
    }
    // Side by side, 16 px apart, on a blank page (the page's CSP allows no data: fetch).
    const blank = await context.newPage();
    const png = await blank.evaluate(async (shots) => {
      const images = await Promise.all(shots.map(async (b64) => createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob())));
      const gap = 16;
      const canvas = new OffscreenCanvas(images.reduce((w, i) => w + i.width, gap * (images.length - 1)), images[0].height);
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#bbb';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      images.reduce((x, i) => { ctx.drawImage(i, x, 0); return x + i.width + gap; }, 0);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    }, shots);
    const out = `docs/${name}.png`;
    mkdirSync('docs', { recursive: true });
    writeFileSync(out, Buffer.from(png, 'base64'));
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
    server.close();
  }
}

if (device) await shootDevice(device);
else await shootDesktop();

async function shootDesktop() {
  const { page, close } = await open(yourModel ? '/?backend=cpu' : '/', { webgpu: false });
  try {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100);
    await passed(page, 'updates', 0);
    let out;
    if (yourModel) {
      const dir = 'tests/fixtures/user-models';
      await page.selectOption('#model-select', 'user');
      await page.setInputFiles('#model-file', `${dir}/rgb_stride.safetensors`);
      await page.waitForFunction(() => document.getElementById('user-model').dataset.state === 'loaded', null, { timeout: 60000 });
      const fixture = JSON.parse(readFileSync(`${dir}/rgb_stride.json`, 'utf8'));
      const [n, s] = [await counter(page, 'updates'), await counter(page, 'sanity')];
      await page.setInputFiles('#upload', { name: 'eight.png', mimeType: 'image/png', buffer: await fixturePng(page, fixture.inputs[1], [32, 32]) });
      await passed(page, 'updates', n);
      await passed(page, 'sanity', s);
      await page.selectOption('#cm-class', String(fixture.classes[1]));
      out = 'docs/your-model.png';
    } else {
      const before = await counter(page, 'updates');
      await stroke(page, '#draw', eight());
      await passed(page, 'updates', before);
      out = 'docs/screenshot.png';
    }
    await page.click('#cm-run');
    await page.waitForFunction(() => document.getElementById('cm-image').dataset.done === '200', null, { timeout: 120000 });
    await page.waitForTimeout(500);
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    await close();
  }
}
