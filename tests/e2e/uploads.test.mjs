// Uploads that are not digits: each gives a clear message, and the page neither freezes nor
// stops working (issue: reliability).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { open, checkClean } from './browser.mjs';

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A PNG (colour type 0 grey or 6 RGBA) from a per-row function. */
function png(width, height, colourType, row) {
  const channels = colourType === 6 ? 4 : 1;
  const raw = Buffer.alloc((width * channels + 1) * height);
  for (let y = 0; y < height; y++) row(y, raw.subarray(y * (width * channels + 1) + 1, (y + 1) * (width * channels + 1)));
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, colourType, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

test('bad uploads give clear messages; a 10,000×10,000 picture does not freeze the page', async () => {
  const { page, record, close } = await open('/', { webgpu: false });
  try {
    await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100);
    await page.evaluate(() => {
      window.longTasks = [];
      new PerformanceObserver((l) => window.longTasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
    });
    const upload = async (name, mimeType, buffer, expected) => {
      await page.setInputFiles('#upload', { name, mimeType, buffer });
      await page.waitForFunction((n) => !document.getElementById('input-message').textContent.startsWith('reading')
        && document.getElementById('input-message').textContent.includes(n), name, { timeout: 60000 });
      const message = await page.textContent('#input-message');
      assert.match(message, expected, name);
    };
    await upload('notes.txt', 'text/plain', Buffer.from('not a picture'), /could not use notes\.txt: .*not an image/);
    await upload('dot.png', 'image/png', png(1, 1, 0, (y, r) => r.fill(255)), /could not use dot\.png: .*blank/);
    await upload('clear.png', 'image/png', png(64, 64, 6, (y, r) => r.fill(0)), /could not use clear\.png: .*transparent/);
    // 10,000 × 10,000 grey: white paper with a dark vertical bar, like a "1".
    const huge = png(10000, 10000, 0, (y, r) => {
      r.fill(255);
      if (y > 2000 && y < 8000) r.fill(0, 4600, 5400);
    });
    await upload('huge.png', 'image/png', huge, /uploaded: huge\.png/);
    await page.waitForFunction(() => document.getElementById('prediction').textContent === '1', null, { timeout: 60000 });
    const longTasks = await page.evaluate(() => window.longTasks);
    // A freeze is the 10,000 × 10,000 decode on the main thread: seconds. Under the whole e2e
    // suite on 2 cores the main thread sometimes shows one 70–80 ms task here (72 and 76 ms seen
    // in 2 of about 10 full runs; never when this file runs alone), so the bound is 100 ms.
    assert.ok(longTasks.every((d) => d <= 100), `long tasks: ${longTasks}`);
    await checkClean(page, record);
  } finally {
    await close();
  }
});
