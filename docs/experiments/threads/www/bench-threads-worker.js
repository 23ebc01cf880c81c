// The worker of bench-threads.html: one package, one thread-pool size, every operation timed
// the same way (3 warm-ups, then the median of 10), on held-out MNIST digit 700.
const WARMUP = 3;
const RUNS = 10;

async function time(fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  const s = [...times].sort((a, b) => a - b);
  return { median: (s[4] + s[5]) / 2, min: s[0], max: s[s.length - 1], times };
}

async function run({ pkg, n }) {
  const out = { pkg, n, crossOriginIsolatedWorker: self.crossOriginIsolated, cores: navigator.hardwareConcurrency };
  let t0 = performance.now();
  const m = await import(`../pkg/${pkg}/deep_inside.js`);
  const wasm = await m.default();
  out.initMs = performance.now() - t0;
  if (n > 0) {
    t0 = performance.now();
    await m.initThreadPool(n);
    out.poolMs = performance.now() - t0;
  }
  out.sharedMemory = String(wasm?.memory?.buffer?.constructor?.name);
  t0 = performance.now();
  const api = await m.DeepInside.create('cpu', 'mnist');
  out.createMs = performance.now() - t0;
  out.backend = api.backend;
  out.reason = api.reason;
  const digits = m.heldoutDigits('mnist');
  const D = 700;
  const x = Float32Array.from(digits.pixels.subarray(D * 784, (D + 1) * 784), (v) => v / 255);
  const c = digits.labels[D];
  out.digit = D;
  out.class = c;
  const first = await api.predict(x);
  out.predicted = first.predicted;
  const e = await api.explain(x, c);
  const r = await api.relevance(x, c, 'recommended');
  const maps = {
    gradient: e.gradient.map(Math.abs), deconvnet: e.deconvnet.map(Math.abs), guided: e.guided.map(Math.abs),
    gradientInput: e.gradientInput, lrp: r.layers[0].map,
  };
  // Results, to check the builds agree (the same numbers up to float reordering).
  const sg = await api.smoothGrad(x, c, { samples: 32 });
  const ig = await api.integratedGradients(x, c, { steps: 32 });
  const fa = await api.faithfulness(x, c, maps, { k: 16 });
  const sum = (a) => Array.from(a).reduce((s, v) => s + v, 0);
  out.check = { smoothGradSum: sum(sg), igSum: sum(ig.map), igError: ig.error, gradientSum: sum(e.gradient), faithfulness: JSON.stringify(fa).slice(0, 400) };

  out.ms = {};
  out.ms.predict = await time(() => api.predict(x));
  out.ms.smoothGrad = await time(() => api.smoothGrad(x, c, { samples: 32 }));
  out.ms.integratedGradients = await time(() => api.integratedGradients(x, c, { steps: 32 }));
  out.ms.curves = await time(() => api.faithfulness(x, c, maps, { k: 16 }));
  out.ms.fullPanel = await time(async () => {
    const e = await api.explain(x, -1);
    await api.relevance(x, e.class, 'recommended');
    m.localise(e.gradient.map(Math.abs), 0.95);
  });
  out.ms.explain = await time(() => api.explain(x, c));
  out.ms.relevance = await time(() => api.relevance(x, c, 'recommended'));
  return out;
}

self.onmessage = async ({ data }) => {
  try {
    postMessage(await run(data));
  } catch (e) {
    postMessage({ error: String(e?.stack ?? e) });
  }
};
