// coi.html?bench=1: the threads package in a worker of the SW-isolated page.
try {
  const m = await import('../pkg/cpu-threads/deep_inside.js');
  await m.default();
  await m.initThreadPool(2);
  const api = await m.DeepInside.create('cpu', 'mnist');
  const d = m.heldoutDigits('mnist');
  const x = Float32Array.from(d.pixels.subarray(700 * 784, 701 * 784), (v) => v / 255);
  const c = d.labels[700];
  for (let i = 0; i < 3; i++) await api.smoothGrad(x, c, { samples: 32 });
  const t = [];
  for (let i = 0; i < 10; i++) { const t0 = performance.now(); await api.smoothGrad(x, c, { samples: 32 }); t.push(performance.now() - t0); }
  t.sort((a, b) => a - b);
  postMessage({ isolated: self.crossOriginIsolated, smoothGradMedian: (t[4] + t[5]) / 2 });
} catch (e) {
  postMessage({ error: String(e?.stack ?? e) });
}
