// The JS API under hostile input (issue: reliability): 10,000 calls of every exported function
// with one bad argument each, on the CPU build, in headless Chromium.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from './browser.mjs';

test('10,000 hostile calls per exported function: no trap, named errors, same results after', async () => {
  const { page, record, close } = await open('/tests/e2e/fuzz.html', { webgpu: false });
  try {
    const r = await page.evaluate(() => window.fuzz);
    console.log(JSON.stringify({ ...r, snapshot: undefined, failures: r.failures.length }, null, 1));
    assert.equal(r.traps, 0, 'no wasm trap');
    assert.deepEqual(r.failures, [], 'every bad call rejected with an Error naming the argument');
    assert.ok(Object.values(r.perFunction).every((n) => n >= 10000));
    assert.ok(r.sameAfter, 'valid calls give the same results after the fuzz');
    assert.deepEqual(record.errors, []);
  } finally {
    await close();
  }
});

test('10,000 explanations, all methods: wasm memory grows by at most 1 MB after warm-up (CPU)', async () => {
  const { page, close } = await open('/tests/e2e/fuzz.html?calls=10', { webgpu: false });
  try {
    const r = await page.evaluate(() => window.memory(10000));
    console.log(`memory: ${r.n} explanations in ${(r.ms / 1000).toFixed(1)} s, wasm memory ${r.bytes} bytes, growth ${r.growth} bytes`);
    assert.ok(r.growth <= 1 << 20, `grew by ${r.growth} bytes`);
  } finally {
    await close();
  }
});

test('determinism: the same input gives bit-identical outputs on the CPU across page loads', async () => {
  const snapshots = [];
  for (let run = 0; run < 2; run++) {
    const { page, close } = await open('/tests/e2e/fuzz.html?calls=1', { webgpu: false });
    try {
      snapshots.push((await page.evaluate(() => window.fuzz)).snapshot);
    } finally {
      await close();
    }
  }
  assert.ok(snapshots[0].length > 1000);
  assert.equal(snapshots[0], snapshots[1]);
});

test('10,000 mutated model files through loadModel: load or a named error, no trap, memory flat, still working', async () => {
  const { page, record, close } = await open('/tests/e2e/fuzz.html?calls=1', { webgpu: false });
  try {
    const t0 = Date.now();
    const r = await page.evaluate(() => window.fuzzModels(10000));
    console.log(`model fuzz: ${JSON.stringify(r)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(r.traps, 0, 'no wasm trap');
    assert.deepEqual(r.unnamed, [], 'every refusal is a FileError, ArchitectureError or ArgumentError with a message');
    assert.equal(r.loaded + r.refused, 10000);
    assert.ok(r.refused > 1000, 'the mutations reach the parser');
    assert.ok(r.growth <= 1 << 20, `wasm memory grew by ${r.growth} bytes`);
    assert.ok(r.logitsError < 1e-4, `a valid file still loads and predicts (${r.logitsError})`);
    assert.deepEqual(record.errors, []);
  } finally {
    await close();
  }
});
