// Regenerates the README's screenshots from a headless Chromium run of the real page (after
// scripts/build.sh):
//   node scripts/screenshot.mjs                docs/screenshot.png: draws an 8, runs the class
//                                              model for 8, and photographs the whole page
//   node scripts/screenshot.mjs --your-model   docs/your-model.png: loads a user's model
//                                              (tests/fixtures/user-models/rgb_stride.safetensors,
//                                              a colour CNN), uploads one of its fixture pictures,
//                                              runs the class model, and photographs the page
import { mkdirSync, readFileSync } from 'node:fs';
import { open, stroke, eight } from '../tests/e2e/browser.mjs';

const yourModel = process.argv.includes('--your-model');
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
