// Side by side with TF.js: the same network, the same weights (read through our API's
// `weights()`), built with TF.js on its 'wasm' and 'webgpu' backends, checked against ours on
// held-out digits, then timed next to our CPU and WebGPU builds. Benchmark only: the demo never
// loads TF.js. Driven by scripts/bench-tfjs.mjs, which reads window.results (a promise).
//
// TF.js comes from bench-tfjs.html's classic <script> tags (UMD bundles under /node_modules), so
// it is the global `tf` here.
const tf = globalThis.tf;

const params = new URLSearchParams(location.search);
const RUNS = Number(params.get('runs') ?? 100);
const WARMUP = 10;
// The second timing: after WARM_ROUNDS rounds of warm-up calls and IDLE_MS without calls.
const WARM_ROUNDS = 100;
const IDLE_MS = 1000;
const TOLERANCE = 1e-4;
// Held-out digits for the equality checks. heldout.bin is sorted by label, so these are spread
// out to cover five classes; each map is for the digit's own label.
const CHECK_DIGITS = [100, 300, 500, 700, 900];
// ∂S_c/∂x is not unique where a 2×2 max pool window holds equal maxima, and raw digits have many:
// on a blank background every conv1 output is just its bias. Ours sends the gradient to the first
// maximum of the window (row-major), TF.js's MaxPoolGrad to the last, so on raw digits the maps
// differ by a shifted kernel here and there. The gradient checks therefore run (a) on the digits
// mixed with a little noise, x' = (1 - JITTER)·x + JITTER·u, u ~ U[0, 1), where no two window
// entries tie and the gradient is unique, and (b) on the raw digits with a TF.js max pool whose
// gradient follows our rule. The raw-digit difference of plain TF.js is recorded too.
const JITTER = 1e-3;
// The digit (and its label as the class) that the timings use.
const TIMED_DIGIT = 700;

// scripts/bench-tfjs.mjs serves this page cross-origin isolated, where Chromium's
// performance.now() has 5 µs steps (0.1 ms without isolation, too coarse for a 0.2 ms call).
function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, runs: s.length };
}

async function time(fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return stats(times);
}

async function fetchBytes(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

function magic(view, expected) {
  const got = String.fromCharCode(...new Uint8Array(view.buffer, view.byteOffset, 4));
  if (got !== expected) throw new Error(`bad magic ${JSON.stringify(got)}, expected ${expected}`);
}

// The trained weights, as our own API hands them out (`weights()`: conv [out, in, kh, kw], dense
// [in, out]), checked against the architecture TF.js rebuilds below.
const WEIGHT_NAMES = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias',
  'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'];
const WEIGHT_SHAPES = [[16, 1, 5, 5], [16], [32, 16, 5, 5], [32], [512, 128], [128], [128, 10], [10]];

async function loadWeights() {
  const m = await import('../pkg/cpu/deep_inside.js');
  await m.default();
  const list = await (await m.DeepInside.create('cpu')).weights();
  if (list.map((w) => w.name).join() !== WEIGHT_NAMES.join()) {
    throw new Error(`weights: ${list.map((w) => w.name)}, expected ${WEIGHT_NAMES}`);
  }
  const weights = {};
  list.forEach(({ name, shape, values }, t) => {
    if (shape.join() !== WEIGHT_SHAPES[t].join()) {
      throw new Error(`${name}: shape [${shape}], expected [${WEIGHT_SHAPES[t]}]`);
    }
    weights[name] = { shape, values };
  });
  return weights;
}

// heldout.bin: "DID1", u32 n, n label bytes, n × 784 pixel bytes (value / 255).
async function loadHeldout() {
  const buf = await fetchBytes('../assets/mnist/heldout.bin');
  const view = new DataView(buf);
  magic(view, 'DID1');
  const n = view.getUint32(4, true);
  const labels = new Uint8Array(buf, 8, n);
  const pixels = new Uint8Array(buf, 8 + n, n * 784);
  return {
    n,
    label: (i) => labels[i],
    image: (i) => Float32Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255),
  };
}

// The network in TF.js (NHWC), on the current backend. Conv filters go from our
// [out, in, kh, kw] to TF's [kh, kw, in, out]; linear weights are already [in, out]. Before the
// flatten the NHWC activation goes back to NCHW, so the 512 inputs of fc1 are in C, H, W order.
//
// `tieRule` 'first' swaps tf.maxPool for maxPoolFirst (for check (b) only; never timed).
function tfNetwork(w, tieRule = 'native') {
  const pool = tieRule === 'first' ? maxPoolFirst : (h) => tf.maxPool(h, 2, 2, 'valid');
  const p = {
    c1w: tf.tidy(() => tf.tensor4d(w['conv1.weight'].values, [16, 1, 5, 5]).transpose([2, 3, 1, 0])),
    c1b: tf.tensor1d(w['conv1.bias'].values),
    c2w: tf.tidy(() => tf.tensor4d(w['conv2.weight'].values, [32, 16, 5, 5]).transpose([2, 3, 1, 0])),
    c2b: tf.tensor1d(w['conv2.bias'].values),
    f1w: tf.tensor2d(w['fc1.weight'].values, [512, 128]),
    f1b: tf.tensor1d(w['fc1.bias'].values),
    f2w: tf.tensor2d(w['fc2.weight'].values, [128, 10]),
    f2b: tf.tensor1d(w['fc2.bias'].values),
  };
  // The logits S(x), [1, 10], for x [1, 28, 28, 1]. The fused ops fuse bias and ReLU when not
  // differentiated; under tf.grad TF.js runs them unfused.
  const scores = (x) => {
    let h = tf.fused.conv2d({ x, filter: p.c1w, strides: 1, pad: 'valid', bias: p.c1b, activation: 'relu' });
    h = pool(h);
    h = tf.fused.conv2d({ x: h, filter: p.c2w, strides: 1, pad: 'valid', bias: p.c2b, activation: 'relu' });
    h = pool(h);
    h = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [1, 512]);
    h = tf.fused.matMul({ a: h, b: p.f1w, bias: p.f1b, activation: 'relu' });
    return tf.fused.matMul({ a: h, b: p.f2w, bias: p.f2b });
  };
  // ∂S_c/∂x, one gradient function per class; S_c = Σ S(x) ⊙ onehot(c).
  const onehots = [], grads = [];
  for (let c = 0; c < 10; c++) {
    const oh = new Float32Array(10);
    oh[c] = 1;
    onehots.push(tf.tensor2d(oh, [1, 10]));
    grads.push(tf.grad((x) => tf.sum(tf.mul(scores(x), onehots[c]))));
  }
  const input = (pixels) => tf.tensor4d(pixels, [1, 28, 28, 1]);
  return {
    async predict(pixels) {
      const y = tf.tidy(() => scores(input(pixels)));
      const logits = await y.data();
      y.dispose();
      return logits;
    },
    async gradient(pixels, c) {
      const g = tf.tidy(() => grads[c](input(pixels)));
      const map = await g.data();
      g.dispose();
      return map;
    },
    dispose() {
      for (const t of [...Object.values(p), ...onehots]) t.dispose();
    },
  };
}

// A 2×2, stride 2 max pool (NHWC, even sides) whose gradient goes to the first maximum of each
// window in row-major order, as ours does; tf.maxPool's goes to the last.
const maxPoolFirst = (x) => tf.customGrad((x, save) => {
  const [b, h, w, ch] = x.shape;
  // [b, h/2, w/2, ch, 4]: each window's entries in row-major order.
  const win = tf.reshape(tf.transpose(tf.reshape(x, [b, h / 2, 2, w / 2, 2, ch]), [0, 1, 3, 5, 2, 4]),
    [b, h / 2, w / 2, ch, 4]);
  save([tf.oneHot(tf.argMax(win, -1), 4)]); // argMax: the first index of the maximum
  return {
    value: tf.max(win, -1),
    gradFunc: (dy, [mask]) => tf.reshape(
      tf.transpose(tf.reshape(tf.mul(mask, tf.expandDims(dy, -1)), [b, h / 2, w / 2, ch, 2, 2]), [0, 1, 4, 2, 5, 3]),
      [b, h, w, ch]),
  };
})(x);

const maxAbs = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

// Our outputs on the check digits, raw and jittered: what the other implementations must match.
async function referenceOutputs(heldout, impl) {
  let seed = 12345; // a fixed LCG, so every run checks the same inputs
  const uniform = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const reference = [];
  for (const i of CHECK_DIGITS) {
    const x = heldout.image(i), c = heldout.label(i);
    const xj = Float32Array.from(x, (v) => (1 - JITTER) * v + JITTER * uniform());
    reference.push({
      x, xj, class: c, logits: await impl.predict(x),
      gradient: await impl.gradient(x, c), gradientJ: await impl.gradient(xj, c),
    });
  }
  return reference;
}

// Largest |difference| over the check digits: logits (raw digits), and the gradient maps after
// dividing both by the largest |value| of our map, on the jittered digits (`gradient`) and on the
// raw ones (`gradientRaw`, not unique: see JITTER). `firstTie`, when given, is the same network
// with maxPoolFirst: its raw-digit maps give `gradientRawFirstTie`. `pass` needs all but
// `gradientRaw` within TOLERANCE.
async function compare(reference, impl, firstTie) {
  let logits = 0, gradient = 0, gradientRaw = 0, gradientRawFirstTie = firstTie ? 0 : undefined;
  const rel = (g, ours) => maxAbsDiff(g, ours) / (maxAbs(ours) || 1);
  for (const r of reference) {
    logits = Math.max(logits, maxAbsDiff(await impl.predict(r.x), r.logits));
    gradient = Math.max(gradient, rel(await impl.gradient(r.xj, r.class), r.gradientJ));
    gradientRaw = Math.max(gradientRaw, rel(await impl.gradient(r.x, r.class), r.gradient));
    if (firstTie) {
      gradientRawFirstTie = Math.max(gradientRawFirstTie, rel(await firstTie.gradient(r.x, r.class), r.gradient));
    }
  }
  const pass = logits <= TOLERANCE && gradient <= TOLERANCE && !(gradientRawFirstTie > TOLERANCE);
  return { logits, gradient, gradientRaw, gradientRawFirstTie, pass };
}

// Our build `build` on `backend`, with the same interface as tfNetwork's.
async function ours(build, backend) {
  const t0 = performance.now();
  const m = await import(`../pkg/${build}/deep_inside.js`);
  await m.default();
  const di = await m.DeepInside.create(backend);
  return {
    info: { backend: di.backend, reason: di.reason, startMs: performance.now() - t0 },
    predict: async (x) => (await di.predict(x)).logits,
    gradient: (x, c) => di.signedSaliency(x, c, 'gradient'),
    warmUp: () => di.warmUp(WARM_ROUNDS),
  };
}

async function timeBoth(impl, x, c) {
  const cold = {
    predict: await time(() => impl.predict(x)),
    gradient: await time(() => impl.gradient(x, c)),
  };
  // Then warmed up as a page would be before a user's next click: ours by its `warmUp`, which
  // the page's worker runs once its first result is out; TF.js by as many calls of each
  // operation. Then a second of idle time, in which the browser finishes optimising.
  if (impl.warmUp) {
    await impl.warmUp();
  } else {
    for (let i = 0; i < WARM_ROUNDS; i++) {
      await impl.predict(x);
      await impl.gradient(x, c);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  return {
    ...cold,
    warm: { predict: await time(() => impl.predict(x)), gradient: await time(() => impl.gradient(x, c)) },
  };
}

async function tfBackend(name, weights, reference, x, c) {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  const out = { backend: tf.getBackend() };
  const net = tfNetwork(weights), firstTie = tfNetwork(weights, 'first');
  try {
    out.check = await compare(reference, net, firstTie); // before any timing
    Object.assign(out, await timeBoth(net, x, c));
  } finally {
    net.dispose();
    firstTie.dispose();
  }
  out.leakedTensors = tf.memory().numTensors;
  if (name === 'wasm') {
    out.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    out.threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  return out;
}

async function webgpuAdapter() {
  if (!navigator.gpu) return null;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unnamed adapter';
  } catch {
    return null;
  }
}

async function run() {
  const [weights, heldout] = await Promise.all([loadWeights(), loadHeldout()]);
  const x = heldout.image(TIMED_DIGIT), c = heldout.label(TIMED_DIGIT);
  const results = {
    tfjsVersion: tf.version.tfjs, runs: RUNS, isolated: crossOriginIsolated, warmup: WARMUP, warmRounds: WARM_ROUNDS, idleMs: IDLE_MS, tolerance: TOLERANCE, jitter: JITTER,
    checkDigits: CHECK_DIGITS.map((i) => ({ index: i, class: heldout.label(i) })),
    timed: { index: TIMED_DIGIT, class: c },
    adapter: await webgpuAdapter(),
    ours: {}, tfjs: {},
  };

  // Ours on the CPU: the reference for every check.
  const cpu = await ours('cpu', 'cpu');
  const reference = await referenceOutputs(heldout, cpu);
  results.ours.cpu = { ...cpu.info, ...(await timeBoth(cpu, x, c)) };

  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  // Isolation would give TF.js its threaded build with a thread per core; ours is
  // single-threaded, so TF.js gets one thread too.
  tf.wasm.setThreadsCount(1);
  try {
    results.tfjs.wasm = await tfBackend('wasm', weights, reference, x, c);
  } catch (e) {
    results.tfjs.wasm = { error: String(e?.message ?? e) };
  }

  if (results.adapter) {
    try {
      const gpu = await ours('webgpu', 'webgpu');
      results.ours.webgpu = { ...gpu.info, check: await compare(reference, gpu), ...(await timeBoth(gpu, x, c)) };
    } catch (e) {
      results.ours.webgpu = { error: String(e?.message ?? e) };
    }
    try {
      results.tfjs.webgpu = await tfBackend('webgpu', weights, reference, x, c);
    } catch (e) {
      results.tfjs.webgpu = { error: String(e?.message ?? e) };
    }
  } else {
    const why = navigator.gpu ? 'navigator.gpu gave no adapter' : 'no navigator.gpu';
    results.ours.webgpu = { error: why };
    results.tfjs.webgpu = { error: why };
  }
  return results;
}

window.results = run().then(
  (r) => {
    document.getElementById('status').textContent = 'done';
    return r;
  },
  (e) => {
    document.getElementById('status').textContent = `failed: ${e?.message ?? e}`;
    throw e;
  },
);
