// End-to-end: the real page in headless Chromium, once with WebGPU available and once without.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { open, stroke, eight, SHOTS } from './browser.mjs';

for (const webgpu of [false, true]) {
  const label = webgpu ? 'with WebGPU' : 'without WebGPU';

  test(`drawing gives a prediction and names the backend (${label})`, async () => {
    const { page, record, close } = await open('/', { webgpu });
    try {
      await page.waitForFunction(() => /CPU|WebGPU/.test(document.getElementById('backend-status').textContent));
      await stroke(page, '#draw', eight());
      await page.waitForFunction(() => document.getElementById('prediction-meta').textContent.includes('ms'));
      const predicted = await page.textContent('#prediction');
      assert.match(predicted, /^[0-9]$/);
      const status = await page.textContent('#backend-status');
      assert.match(status, webgpu ? /CPU|WebGPU/ : /CPU/);
      if (!webgpu) assert.match(status, /no WebGPU|unavailable|software/i);
      await page.screenshot({ path: path.join(SHOTS, `page-${webgpu ? 'webgpu' : 'cpu'}.png`) });
      assert.deepEqual(record.errors, [], 'no console errors');
      assert.deepEqual(record.foreign, [], 'no request to another origin');
    } finally {
      await close();
    }
  });
}
