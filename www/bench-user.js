// Users' models (issue 14), timed: `loadModel` on each reference fixture; every page operation
// on the 3×32×32 reference model (rgb_stride) and on a 1 M-parameter 3×32×32 model made here
// (random weights, written as the export script's safetensors), on our CPU and WebGPU builds;
// and the same two models in TF.js ('wasm', and 'webgpu' where it has an adapter), built from
// the weights our API hands out, checked equal to ours before they are timed. Driven by
// scripts/bench-user.mjs, which reads window.results.
const tf = globalThis.tf;
const params = new URLSearchParams(location.search);
const RUNS = Number(params.get('runs') ?? 50);
const FEW = Math.min(RUNS, 10);
const WARMUP = 5;
const TOLERANCE = 1e-4;
const FIXTURES = '/tests/fixtures/user-models/';
const FILES = ['bn_avgpool.onnx', 'bn_avgpool.safetensors', 'rgb_stride.onnx', 'rgb_stride.safetensors',
  'normalized.onnx', 'normalized.safetensors'];

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), mean: s.reduce((a, b) => a + b, 0) / s.length, runs: s.length };
}

async function time(fn, runs = RUNS) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return stats(times);
}

const bytesOf = async (file) => new Uint8Array(await (await fetch(FIXTURES + file)).arrayBuffer());

// The 1 M-parameter model: conv 3→32, conv 32→64, pool, conv 64→128, pool, conv 128→128, pool
// (3×3, padding 1), FC 2048→384, FC 384→10: 1,031,498 parameters. He-uniform weights from a
// seeded LCG, written as scripts/export_pytorch.py writes a torch.nn.Sequential.
const BIG = [
  { type: 'Conv2d', in: 3, out: 32 }, { type: 'ReLU' },
  { type: 'Conv2d', in: 32, out: 64 }, { type: 'ReLU' }, { type: 'MaxPool2d' },
  { type: 'Conv2d', in: 64, out: 128 }, { type: 'ReLU' }, { type: 'MaxPool2d' },
  { type: 'Conv2d', in: 128, out: 128 }, { type: 'ReLU' }, { type: 'MaxPool2d' },
  { type: 'Flatten' }, { type: 'Linear', in: 2048, out: 384 }, { type: 'ReLU' }, { type: 'Linear', in: 384, out: 10 },
];

function bigModel() {
  let seed = 2024;
  const uniform = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const layers = [], tensors = [];
  BIG.forEach((l, i) => {
    if (l.type === 'Conv2d') {
      layers.push({ type: 'Conv2d', in_channels: l.in, out_channels: l.out, kernel_size: [3, 3], stride: [1, 1],
        padding: [1, 1], dilation: [1, 1], groups: 1, bias: true });
      tensors.push([`${i}.weight`, [l.out, l.in, 3, 3], l.in * 9], [`${i}.bias`, [l.out], 0]);
    } else if (l.type === 'Linear') {
      layers.push({ type: 'Linear', in_features: l.in, out_features: l.out, bias: true });
      tensors.push([`${i}.weight`, [l.out, l.in], l.in], [`${i}.bias`, [l.out], 0]);
    } else if (l.type === 'MaxPool2d') {
      layers.push({ type: 'MaxPool2d', kernel_size: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceil_mode: false });
    } else {
      layers.push({ type: l.type });
    }
  });
  const header = { __metadata__: { format: 'deep-inside/sequential-v1', input_shape: '[3, 32, 32]', layers: JSON.stringify(layers) } };
  let offset = 0;
  const data = tensors.map(([name, shape, fanIn]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const bound = fanIn ? Math.sqrt(6 / fanIn) : 0.01;
    const v = Float32Array.from({ length: n }, () => (uniform() * 2 - 1) * bound);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
    return v;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  let at = 8 + text.length;
  for (const v of data) {
    out.set(new Uint8Array(v.buffer), at);
    at += v.byteLength;
  }
  return out;
}

// The two timed models as TF.js rebuilds them (NHWC): each op in order, weights consumed in the
// order `weights()` lists them (conv [out, in, kh, kw], dense [in, out]).
const SPECS = {
  rgb_stride: [['conv', 1, 1], ['relu'], ['maxpool'], ['conv', 2, 1], ['relu'], ['conv', 1, 1], ['relu'], ['gap'], ['dense']],
  big: [['conv', 1, 1], ['relu'], ['conv', 1, 1], ['relu'], ['maxpool'], ['conv', 1, 1], ['relu'], ['maxpool'],
    ['conv', 1, 1], ['relu'], ['maxpool'], ['flatten'], ['dense'], ['relu'], ['dense']],
};

function tfNetwork(spec, weights, [c, h, w], classes) {
  const params = [];
  let k = 0;
  const next = () => weights[k++];
  const ops = spec.map(([op, stride, pad]) => {
    if (op === 'conv') {
      const wt = next(), b = next();
      const filter = tf.tidy(() => tf.tensor4d(wt.values, wt.shape).transpose([2, 3, 1, 0]));
      const bias = tf.tensor1d(b.values);
      params.push(filter, bias);
      return { op, filter, bias, stride, pad };
    }
    if (op === 'dense') {
      const wt = next(), b = next();
      const weight = tf.tensor2d(wt.values, wt.shape), bias = tf.tensor1d(b.values);
      params.push(weight, bias);
      return { op, weight, bias };
    }
    return { op };
  });
  if (k !== weights.length) throw new Error(`the TF.js network uses ${k} of ${weights.length} weights`);
  const scores = (x) => {
    let a = x;
    ops.forEach((o, i) => {
      const relu = ops[i + 1]?.op === 'relu';
      if (o.op === 'conv') a = tf.fused.conv2d({ x: a, filter: o.filter, strides: o.stride, pad: o.pad, bias: o.bias, activation: relu ? 'relu' : 'linear' });
      else if (o.op === 'dense') a = tf.fused.matMul({ a, b: o.weight, bias: o.bias, activation: relu ? 'relu' : 'linear' });
      else if (o.op === 'relu') { if (!['conv', 'dense'].includes(ops[i - 1]?.op)) a = tf.relu(a); }
      else if (o.op === 'maxpool') a = tf.maxPool(a, 2, 2, 'valid');
      else if (o.op === 'gap') a = tf.mean(a, [1, 2]);
      else if (o.op === 'flatten') a = tf.reshape(tf.transpose(a, [0, 3, 1, 2]), [1, -1]);
    });
    return a;
  };
  const onehots = [], grads = [];
  for (let cl = 0; cl < classes; cl++) {
    const oh = new Float32Array(classes);
    oh[cl] = 1;
    onehots.push(tf.tensor2d(oh, [1, classes]));
    grads.push(tf.grad((x) => tf.sum(tf.mul(scores(x), onehots[cl]))));
  }
  // Our pixels are [c, h, w]; TF.js takes NHWC.
  const input = (pixels) => tf.tidy(() => tf.tensor4d(pixels, [1, c, h, w]).transpose([0, 2, 3, 1]));
  const toChw = (g) => tf.tidy(() => g.transpose([0, 3, 1, 2]));
  return {
    async predict(pixels) {
      const y = tf.tidy(() => scores(input(pixels)));
      const v = await y.data();
      y.dispose();
      return v;
    },
    async gradient(pixels, cl) {
      const g = tf.tidy(() => toChw(grads[cl](input(pixels))));
      const v = await g.data();
      g.dispose();
      return v;
    },
    dispose() { for (const t of [...params, ...onehots]) t.dispose(); },
  };
}

const maxAbs = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const rel = (a, b) => maxAbsDiff(a, b) / (maxAbs(b) || 1);

// Every page operation on one model and backend.
async function operations(m, handle, backend, x, cl) {
  const t0 = performance.now();
  const api = await m.DeepInside.create(backend, handle);
  const out = { backend: api.backend, reason: api.reason, createMs: performance.now() - t0 };
  const [c, h, w] = api.input;
  // A map per pixel for the curves: the largest magnitude over the channels.
  const perPixel = (map) => Float32Array.from({ length: h * w }, (_, p) => {
    let v = 0;
    for (let ch = 0; ch < c; ch++) v = Math.max(v, Math.abs(map[ch * h * w + p]));
    return v;
  });
  console.log(`bench-user: ${backend}, ${c}×${h}×${w}`);
  out.predict = await time(() => api.predict(x));
  out.gradient = await time(() => api.saliency(x, cl, 'gradient'));
  out.guided = await time(() => api.saliency(x, cl, 'guided'));
  out.lrp = await time(() => api.relevance(x, cl, 'recommended'));
  out.fullPanel = await time(async () => {
    const e = await api.explain(x, -1);
    await api.relevance(x, e.class, 'recommended');
    m.localise(perPixel(e.gradient), 0.95, w, h);
  });
  const ascent = api.classModel(cl, { preset: 'paper' });
  out.classModelStep = await time(() => ascent.step(1));
  // On WebGPU only the single-image operations: SwiftShader (software) takes minutes for the
  // batched ones on the large model, and proves nothing about a GPU's speed.
  if (backend === 'webgpu') return out;
  out.smoothGrad = await time(() => api.smoothGrad(x, cl, { samples: 32, sigma: 0.15 }), FEW);
  out.integratedGradients = await time(() => api.integratedGradients(x, cl, { steps: 32 }), FEW);
  const e = await api.explain(x, cl);
  const r = await api.relevance(x, cl, 'recommended');
  const maps = { gradient: perPixel(e.gradient), guided: perPixel(e.guided), deconvnet: perPixel(e.deconvnet),
    gradientInput: perPixel(e.gradientInput), lrp: r.layers[0].map };
  out.faithfulness = await time(() => api.faithfulness(x, cl, maps, { k: 16 }), FEW);
  out.sanity = await time(() => api.sanity(x, cl), FEW);
  return out;
}

/** Our model on the CPU, as the TF.js checks call it. */
function oursOn(api) {
  return { predict: async (p) => (await api.predict(p)).logits, gradient: (p, k) => api.signedSaliency(p, k, 'gradient') };
}

async function run() {
  const builds = {};
  for (const build of ['cpu', 'webgpu']) {
    try {
      const m = await import(`../pkg/${build}/deep_inside.js`);
      await m.default();
      builds[build] = m;
    } catch (e) {
      builds[build] = null;
    }
  }
  const m = builds.cpu;
  const results = { runs: RUNS, load: {}, models: {}, tfjs: {}, tfjsVersion: tf.version.tfjs };
  // loadModel: parse and check each file (median of RUNS, freed each time).
  const files = Object.fromEntries(await Promise.all(FILES.map(async (f) => [f, await bytesOf(f)])));
  files['big (generated).safetensors'] = bigModel();
  for (const [name, bytes] of Object.entries(files)) {
    results.load[name] = { bytes: bytes.length, ...(await time(async () => (await m.loadModel(bytes)).free(), FEW)) };
  }
  const fixture = await (await fetch(`${FIXTURES}rgb_stride.json`)).json();
  let seed = 7;
  const noise = Float32Array.from({ length: 3 * 32 * 32 }, () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const models = {
    rgb_stride: { bytes: files['rgb_stride.onnx'], x: Float32Array.from(fixture.inputs[0]), cl: fixture.classes[0] },
    big: { bytes: files['big (generated).safetensors'], x: noise, cl: 3 },
  };
  for (const [name, { bytes, x, cl }] of Object.entries(models)) {
    results.models[name] = { parameters: null };
    const handles = {};
    for (const [build, backend] of [['cpu', 'cpu'], ['webgpu', 'webgpu']]) {
      const mm = builds[build];
      if (!mm || (backend === 'webgpu' && !navigator.gpu)) continue;
      try {
        const handle = await mm.loadModel(bytes);
        handles[backend] = { mm, handle };
        results.models[name].parameters = handle.layers.reduce((s, l) => s + l.parameters, 0);
        results.models[name][backend] = await operations(mm, handle, backend, x, cl);
      } catch (e) {
        results.models[name][backend] = { error: String(e?.message ?? e) };
      }
    }
    // TF.js on the same weights, checked against ours (CPU) on this input and on noise.
    const api = await m.DeepInside.create('cpu', handles.cpu.handle);
    const ours = oursOn(api);
    const weights = await api.weights();
    const classes = api.classNames.length;
    results.tfjs[name] = {};
    const checks = [x, Float32Array.from(x, (v, i) => 0.5 * v + 0.5 * noise[i])];
    for (const backend of ['wasm', 'webgpu']) {
      try {
        if (backend === 'wasm') tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
        if (backend === 'webgpu' && !navigator.gpu) throw new Error('no navigator.gpu');
        console.log(`bench-user: TF.js ${backend}, ${name}`);
        if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
        await tf.ready();
        const net = tfNetwork(SPECS[name], weights, api.input, classes);
        let logits = 0, gradient = 0;
        for (const p of checks) {
          logits = Math.max(logits, rel(await net.predict(p), await ours.predict(p)));
          gradient = Math.max(gradient, rel(await net.gradient(p, cl), await ours.gradient(p, cl)));
        }
        const out = { check: { logits, gradient, pass: logits <= TOLERANCE && gradient <= TOLERANCE } };
        out.predict = await time(() => net.predict(x));
        out.gradient = await time(() => net.gradient(x, cl));
        net.dispose();
        results.tfjs[name][backend] = out;
      } catch (e) {
        results.tfjs[name][backend] = { error: String(e?.message ?? e) };
      }
    }
  }
  return results;
}

window.results = run().then(
  (r) => { document.getElementById('status').textContent = 'done'; return r; },
  (e) => { document.getElementById('status').textContent = `failed: ${e?.message ?? e}`; throw e; },
);
