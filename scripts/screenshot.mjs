// Regenerates docs/screenshot.png from a headless Chromium run of the real page:
//   node scripts/screenshot.mjs        (after scripts/build.sh)
// It draws an 8, runs the class model for 8, and photographs the whole page.
import { mkdirSync } from 'node:fs';
import { open, stroke, eight } from '../tests/e2e/browser.mjs';

const { page, close } = await open('/', { webgpu: false });
try {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100);
  const before = await page.evaluate(() => Number(document.body.dataset.updates ?? 0));
  await stroke(page, '#draw', eight());
  await page.waitForFunction((n) => Number(document.body.dataset.updates ?? 0) > n, before);
  await page.click('#cm-run');
  await page.waitForFunction(() => document.getElementById('cm-image').dataset.done === '200', null, { timeout: 120000 });
  await page.waitForTimeout(500);
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: 'docs/screenshot.png', fullPage: true });
  console.log('wrote docs/screenshot.png');
} finally {
  await close();
}
