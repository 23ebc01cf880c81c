// WebGPU faults (issue: reliability), simulated inside the worker by prefixing www/worker.js
// with a patch of the WebGPU API: each time the page must switch to the CPU, say so, and keep
// working, with no unhandled rejection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { open, stroke, eight, chromiumOnly } from './browser.mjs';

const WORKER = readFileSync('www/worker.js', 'utf8');

const FAULTS = {
  'no adapter': `GPU.prototype.requestAdapter = async () => null;`,
  'requestDevice rejects': `
    const original = GPU.prototype.requestAdapter;
    GPU.prototype.requestAdapter = async function (o) {
      const a = await original.call(this, o);
      if (a) a.requestDevice = async () => { throw new Error('simulated: requestDevice rejected'); };
      return a;
    };`,
  'device lost mid-session': `
    self.devices = [];
    const original = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (d) {
      const device = await original.call(this, d);
      self.devices.push(device);
      return device;
    };`,
};

for (const [fault, patch] of Object.entries(FAULTS)) {
  test(`WebGPU fault: ${fault} → the CPU takes over and the page keeps working`, chromiumOnly('request interception patches the worker'), async () => {
    const { page, record, close } = await open('/', {
      webgpu: true,
      route: ['**/www/worker.js', (route) => route.fulfill({
        contentType: 'text/javascript', body: `${patch}\n${WORKER}`,
      })],
    });
    try {
      await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100);
      await page.selectOption('#backend-select', 'webgpu');
      if (fault === 'device lost mid-session') {
        await page.waitForFunction(() => /^WebGPU/.test(document.getElementById('backend-status').textContent), null, { timeout: 60000 });
        const worker = page.workers()[0];
        await worker.evaluate(() => self.devices.forEach((d) => d.destroy()));
      }
      let n = await page.evaluate(() => Number(document.body.dataset.updates ?? 0));
      await stroke(page, '#draw', eight());
      await page.waitForFunction((k) => Number(document.body.dataset.updates ?? 0) > k, n, { timeout: 60000 });
      await page.waitForFunction(() => /^CPU/.test(document.getElementById('backend-status').textContent), null, { timeout: 60000 });
      const status = await page.textContent('#backend-status');
      assert.match(status, /WebGPU/, `the page says why: ${status}`);
      // Still working on the CPU: a gallery pick repaints.
      n = await page.evaluate(() => Number(document.body.dataset.updates ?? 0));
      await page.click('#gallery button:nth-of-type(15)');
      await page.waitForFunction((k) => Number(document.body.dataset.updates ?? 0) > k, n, { timeout: 60000 });
      assert.equal(await page.textContent('#prediction'), '1');
      const unhandled = record.errors.filter((e) => /page error|Uncaught|unhandled/i.test(e));
      assert.deepEqual(unhandled, [], 'no unhandled rejection');
      console.log(`${fault}: ${status}`);
    } finally {
      await close();
    }
  });
}

// An old browser: what the page needs and lacks is said, the page does not hang on "starting",
// and nothing throws unhandled. Simulated by taking each feature away before the page runs.
const MISSING = {
  'WebAssembly SIMD': 'WebAssembly.validate = () => false;',
  OffscreenCanvas: 'delete globalThis.OffscreenCanvas;',
  'module workers': `{
    const W = Worker;
    // As before module workers: the options' type is never read, the script starts classic.
    globalThis.Worker = function (url) { return new W(url); };
    globalThis.Worker.prototype = W.prototype;
  }`,
};
for (const [feature, init] of Object.entries(MISSING)) {
  test(`a browser without ${feature}: the page says what it lacks and which browsers have it`, chromiumOnly('init scripts'), async () => {
    const { page, record, close } = await open('/', { webgpu: false, init });
    try {
      await page.waitForFunction(() => /^Cannot start/.test(document.getElementById('backend-status').textContent));
      assert.equal(await page.textContent('#backend-status'),
        `Cannot start: this browser has no ${feature}, which the page needs (Chrome or Edge 91, Firefox 114, Safari 16.4 or newer).`);
      assert.deepEqual(record.errors.filter((e) => /page error|Uncaught|unhandled/i.test(e)), []);
    } finally {
      await close();
    }
  });
}
