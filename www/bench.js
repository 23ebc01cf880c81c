// Times the wasm API on each backend and each MNIST network (the small one and the deeper
// one), in this page's main thread (the page proper runs it in a worker; the work is the same).
// Driven by scripts/bench.mjs, which reads window.results: {cpu, webgpu}, each
// {importMs, reason, error?, mnist: {...}, 'mnist-deep': {...}}.
const params = new URLSearchParams(location.search);
const RUNS = Number(params.get('runs') ?? 100);
const WARMUP = 5;
// ?nets=mnist times one network only (scripts/levers.mjs).
const NETS = (params.get('nets') ?? 'mnist,mnist-deep').split(',');

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), runs: s.length };
}

// `mean` is the whole loop's time over its runs: one long interval, so it stays exact where
// the engine's timer is coarse (Firefox and WebKit round performance.now() to 1 ms here).
async function time(fn, runs = RUNS) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return { ...stats(times), mean: (performance.now() - start) / runs };
}

/** Hands a model the wasm does not embed its files (assets/<model>/), as the page's worker does. */
async function provide(m, model) {
  const entry = m.models().find((e) => e.name === model);
  if (entry.embedded) return;
  const files = {};
  for (const [key, file] of Object.entries(entry.files)) {
    const response = await fetch(new URL(`../assets/${model}/${file}`, import.meta.url));
    files[key] = new Uint8Array(await response.arrayBuffer());
  }
  m.provideModel(model, files);
}

async function bench(build, backend) {
  const t0 = performance.now();
  // ?pkg=pkg-levers/<variant> times another build of the same sources (scripts/levers.sh).
  const m = await import(`../${params.get('pkg') ?? `pkg/${build}`}/deep_inside.js`);
  await m.default();
  const out = { importMs: performance.now() - t0 };
  for (const model of NETS) {
    await provide(m, model);
    out[model] = await benchNet(m, backend, model);
    out.reason ??= out[model].reason;
  }
  return out;
}

async function benchNet(m, backend, model) {
  const t0 = performance.now();
  const api = await m.DeepInside.create(backend, model);
  const ready = performance.now() - t0;
  const digits = m.heldoutDigits(model);
  const x = Float32Array.from(digits.pixels.subarray(0, 784), (v) => v / 255);
  const out = { backend: api.backend, reason: api.reason, createMs: ready, layers: api.layers.length };
  out.predict = await time(() => api.predict(x));
  for (const method of ['gradient', 'deconvnet', 'guided']) {
    out[method] = await time(() => api.saliency(x, 7, method));
  }
  out.lrp = await time(() => api.relevance(x, 7, 'recommended'));
  // Class models: the paper's plain step (the figure kept since the first version), and the
  // presets "readable" (the default) and "lucid"; issue 20's goals are ≤ 2 ms a step and 200
  // steps within 0.5 s, and ≤ 30 ms for a step of conv1's whole atlas.
  const ascent = api.classModel(7, { preset: 'paper' });
  out.classModelStep = await time(() => ascent.step(1));
  const t1 = performance.now();
  await api.classModel(3, { preset: 'paper' }).step(200);
  out.classModel200 = performance.now() - t1;
  for (const preset of ['readable', 'lucid']) {
    const key = preset[0].toUpperCase() + preset.slice(1);
    const run = api.classModel(7, { preset });
    out[`classModelStep${key}`] = await time(() => run.step(1));
    const t2 = performance.now();
    await api.classModel(3, { preset }).step(200);
    out[`classModel200${key}`] = performance.now() - t2;
  }
  const atlas = api.layerAtlas('conv1', {});
  out.atlasStep = await time(() => atlas.step(1), Math.min(RUNS, 50));
  const t3 = performance.now();
  await api.layerAtlas('conv1', {}).step(200);
  out.atlas200 = performance.now() - t3;
  out.fullPanel = await time(async () => {
    const e = await api.explain(x, -1);
    await api.relevance(x, e.class, 'recommended');
    m.localise(e.gradient.map(Math.abs), 0.95);
  });
  // Issue 9's methods. The slow ones (many images per call) get fewer runs.
  const FEW = Math.min(RUNS, 20);
  out.explain = await time(() => api.explain(x, 7));
  out.smoothGrad = await time(() => api.smoothGrad(x, 7, { samples: 32, sigma: 0.15 }));
  out.integratedGradients = await time(() => api.integratedGradients(x, 7, { steps: 32 }));
  const e = await api.explain(x, 7);
  const r = await api.relevance(x, 7, 'recommended');
  const maps = {
    gradient: e.gradient.map(Math.abs), deconvnet: e.deconvnet.map(Math.abs), guided: e.guided.map(Math.abs),
    gradientInput: e.gradientInput, lrp: r.layers[0].map,
  };
  out.faithfulness = await time(() => api.faithfulness(x, 7, maps, { k: 16 }), FEW);
  out.sanity = await time(() => api.sanity(x, 7), FEW);
  // Levers. Reusing the forward pass: three maps by three calls (three traces) against
  // `explain` (one trace, four maps). Batching: SmoothGrad's 32 gradients as 32 calls against
  // one batch. Weight uploads: a predict on a fresh instance (weights uploaded again) against a
  // predict on the kept one.
  out.threeCalls = await time(async () => {
    for (const method of ['gradient', 'deconvnet', 'guided']) await api.saliency(x, 7, method);
  });
  const noisy = Array.from({ length: 32 }, (_, k) => x.map((v, i) => v + 0.15 * Math.sin(17 * i + k)));
  out.serial32 = await time(async () => { for (const n of noisy) await api.saliency(n, 7, 'gradient'); }, FEW);
  out.create = await time(async () => {
    const fresh = await m.DeepInside.create(backend, model);
    await fresh.predict(x);
    fresh.free();
  }, FEW);
  return out;
}

window.results = (async () => {
  const results = { cpu: await bench('cpu', 'cpu') };
  if (navigator.gpu && params.get('webgpu') !== '0') {
    try {
      results.webgpu = await bench('webgpu', 'webgpu');
    } catch (e) {
      results.webgpu = { error: String(e.message ?? e) };
    }
  }
  document.getElementById('status').textContent = 'done';
  return results;
})();
