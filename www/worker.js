// The wasm lives here, off the main thread, so the page never blocks while it computes.
// Protocol: {id, op, args} in; {id, ok, value | error} out, plus {event: 'backend', ...}.
// The CPU build loads first; the WebGPU build is loaded only when asked for and the browser
// has navigator.gpu. A failing WebGPU instance is dropped for the CPU one, and the page is told.
// There is one DeepInside instance per backend and model (a name from the wasm's `models()`,
// or "user-N" for a user's own file), made when first needed and kept; every operation names
// its model (default "mnist"). A user's file stays in this worker's memory only: its bytes are
// kept so that each build (CPU, WebGPU) can read it when it is first needed there.

const builds = {};   // 'cpu' | 'webgpu' → the imported wasm-bindgen module, initialised
let backend = null;  // the backend in use: 'cpu' | 'webgpu'
let reason = '';     // why, in words for the page
let gpuPending = false;  // 'auto' still has WebGPU to try
const instances = new Map();  // `${backend}/${model}` → Promise<DeepInside>

// Each build's glue by a literal path, which a bundler (Vite) follows to the glue and its wasm.
const GLUE = {
  cpu: () => import('../pkg/cpu/deep_inside.js'),
  webgpu: () => import('../pkg/webgpu/deep_inside.js'),
};

async function load(build) {
  if (!builds[build]) {
    const module = await GLUE[build]();
    await module.default();
    builds[build] = module;
  }
  return builds[build];
}

// Stateless helpers work the same in either build.
const anyBuild = () => builds.cpu ?? builds.webgpu;
const loaded = () => load(builds.webgpu && !builds.cpu ? 'webgpu' : 'cpu');

/** The shipped models, `{name, title, dataset, embedded, files}` (the wasm's catalogue). */
let catalogue = null;
async function models() {
  catalogue ??= (await loaded()).models();
  return catalogue;
}

// Only the small MNIST net is embedded in the wasm: another model's files (`files` of its
// catalogue entry, in assets/<model>/) are fetched the first time an instance or its held-out
// images are asked for, and handed to each build once.
const fetched = new Map();   // model → Promise<{key: Uint8Array}>
const handed = new Set();    // `${build}/${model}` that have them

function fetchFiles(entry) {
  if (!fetched.has(entry.name)) {
    const files = Promise.all(Object.entries(entry.files).map(async ([key, file]) => {
      // `?no-inline` has a bundler (Vite) emit each file, never a data: URL that the CSP refuses;
      // the request goes without it, one URL per file (as sw.js keeps them).
      const url = new URL(`../assets/${entry.name}/${file}?no-inline`, import.meta.url);
      url.search = '';
      const response = await fetch(url);
      if (!response.ok) throw new Error(`could not fetch ${entry.title}'s ${file} (HTTP ${response.status})`);
      return [key, new Uint8Array(await response.arrayBuffer())];
    })).then(Object.fromEntries);
    fetched.set(entry.name, files);
    files.catch(() => fetched.delete(entry.name));   // a later request tries again
  }
  return fetched.get(entry.name);
}

// The user's models: "user-N" → {name, bytes, handles: {build: Promise<UserModel>}}.
// `loadUserModel` reads a file with the build in use; another build reads the same bytes when
// it needs them. `loadModel` imports the reader module (pkg/reader) on its first call, through
// READER: a literal import() that a bundler follows, with the reader's wasm.
const READER = () => import('../pkg/reader/deep_inside.js');
const users = new Map();
let userCount = 0;

/** Build `b`, with `model`'s files in it. */
async function ready(b, model) {
  const w = await load(b);
  const user = users.get(model);
  if (user) {
    user.handles[b] ??= w.loadModel(user.bytes, { reader: READER });
    await user.handles[b];
    return w;
  }
  const entry = (await models()).find((m) => m.name === model);
  if (!entry) throw new Error(`unknown model ${JSON.stringify(model)}`);
  const key = `${b}/${model}`;
  if (!entry.embedded && !handed.has(key)) {
    const files = await fetchFiles(entry);
    if (!handed.has(key)) {
      w.provideModel(model, files);
      handed.add(key);
    }
  }
  return w;
}

const modelOf = (args) => args?.model ?? 'mnist';

/** The instance of `model` on backend `b`, made on first use. */
function instance(b, model) {
  const key = `${b}/${model}`;
  if (!instances.has(key)) {
    // Later WebGPU instances reuse the device the first one brought up.
    const made = ready(b, model).then(async (w) => w.DeepInside.create(b === 'webgpu' ? 'webgpu' : 'cpu', await handleOf(b, model)));
    instances.set(key, made);
    made.catch(() => { if (instances.get(key) === made) instances.delete(key); });
  }
  return instances.get(key);
}

/** What `DeepInside.create` takes for `model` on build `b`: a name, or (a promise of) the user's handle. */
const handleOf = (b, model) => users.get(model)?.handles[b] ?? model;

/** The instance in use for `model`. */
const apiFor = (model) => instance(backend, model);

function dropGpu() {
  for (const key of [...instances.keys()]) {
    if (key.startsWith('webgpu/')) {
      instances.get(key).then((gpu) => gpu.free(), () => {});
      instances.delete(key);
    }
  }
}

function announce() {
  postMessage({ event: 'backend', backend, reason });
}

async function useCpu(model, why) {
  const cpu = await instance('cpu', model);
  backend = 'cpu';
  reason = why ?? cpu.reason;
  announce();
}

// Settles the backend. 'auto' answers with the CPU at once, then tries WebGPU in the background.
async function init(requested, model) {
  gpuPending = false;
  if (requested === 'cpu') return useCpu(model);
  if (!('gpu' in navigator) || !navigator.gpu) {
    return useCpu(model, `this browser has no WebGPU${requested === 'webgpu' ? ' (requested)' : ''}; using the CPU`);
  }
  if (requested === 'auto') {
    // The CPU answers first; WebGPU is fetched only after the first analysis is shown, so
    // that its larger build never delays the first heatmap.
    await useCpu(model, 'WebGPU is tried once the first result is shown; the CPU answers meanwhile');
    gpuPending = true;
    return;
  }
  return tryWebGpu('webgpu', model);
}

async function tryWebGpu(mode, model) {
  dropGpu();
  gpuComingUp = true;
  try {
    const gpu = await (await ready('webgpu', model)).DeepInside.create(mode, await handleOf('webgpu', model));
    if (gpu.backend === 'webgpu') {
      instances.set(`webgpu/${model}`, Promise.resolve(gpu));
      backend = 'webgpu';
      reason = gpu.reason;
      announce();
    } else {
      // 'auto' refused WebGPU (a software adapter, a slow start): the CPU build serves.
      const why = gpu.reason;
      gpu.free();
      await useCpu(model, why);
    }
  } catch (e) {
    await useCpu(model, `WebGPU unavailable (${e.message}); using the CPU`);
  } finally {
    gpuComingUp = false;
    warmUpWhileIdle();
  }
}

/** What the page builds its panels from: the model's catalogue, asked of its instance. */
async function describe(model) {
  const api = await apiFor(model);
  const w = anyBuild();
  const presets = w.presets();
  const user = users.get(model);
  const handle = user && await Object.values(user.handles)[0];
  return {
    model,
    user: user ? { name: user.name, format: handle.format, notes: handle.notes } : null,
    models: await models(),
    rules: w.rules(),
    presets,
    presetRules: Object.fromEntries(presets.map((p) => [p.name, api.presetRules(p.name)])),
    classModelPresets: w.classModelPresets(),
    layers: api.layers,
    input: api.input,
    classNames: api.classNames,
    sanityStages: api.sanityStages,
  };
}

// A user's model file (its bytes, transferred from the page): read by the build in use, put on
// the backend in use, and described like a shipped model. A refused file throws the wasm's
// error and changes nothing.
async function loadUserModel({ bytes, name }) {
  const data = new Uint8Array(bytes);
  const b = backend ?? 'cpu';
  const handle = await (await load(b)).loadModel(data, { reader: READER });
  const model = `user-${++userCount}`;
  users.set(model, { name: String(name ?? 'model'), bytes: data, handles: { [b]: Promise.resolve(handle) } });
  try {
    await instance(b, model);
    return await describe(model);
  } catch (e) {
    freeUserModel({ model });
    throw e;
  }
}

/** Lets a user's model go: its instances on every backend, and its handles. */
function freeUserModel({ model }) {
  const user = users.get(model);
  if (!user) return null;
  users.delete(model);
  for (const key of [...instances.keys()]) {
    if (key.endsWith(`/${model}`)) {
      instances.get(key).then((api) => api.free(), () => {});
      instances.delete(key);
    }
  }
  for (const h of Object.values(user.handles)) h.then((handle) => handle.free(), () => {});
  if (last?.model === model) last = null;
  return null;
}

// What the last analysis computed, so that the threshold slider only re-runs the localisation
// and the slower panels (attributions, faithfulness, sanity) work on the same input and class.
let last = null;
let ascent = null;

function gray(image, channels = 1) {
  // Class model images are not clipped: show them normalised to their own range (one range
  // for all channels, so that a colour image keeps its hues).
  let lo = Infinity, hi = -Infinity;
  for (const v of image) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  const n = image.length / channels;
  const rgba = new Uint8ClampedArray(n * 4);
  const level = (v) => Math.round(255 * (v - lo) / span);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = channels === 3 ? [image[i], image[n + i], image[2 * n + i]] : [image[i], image[i], image[i]];
    rgba.set([level(r), level(g), level(b), 255], 4 * i);
  }
  return { rgba, lo, hi };
}

// --- channels: every map is drawn at h × w --------------------------------------------------
// Signed maps (explain, SmoothGrad, Integrated Gradients) come back as c·h·w values, channel-
// major; a colour model's are made into one h × w map: the largest magnitude over the channels
// for magnitude maps (as `saliency` does), the sum over the channels for signed ones (which
// keeps their totals).
function magnitudeOf(map, channels) {
  if (channels === 1) return map.map(Math.abs);
  const n = map.length / channels;
  const out = new Float32Array(n);
  for (let ch = 0; ch < channels; ch++) {
    for (let i = 0; i < n; i++) out[i] = Math.max(out[i], Math.abs(map[ch * n + i]));
  }
  return out;
}

function summed(map, channels) {
  if (channels === 1) return map;
  const n = map.length / channels;
  const out = new Float32Array(n);
  for (let ch = 0; ch < channels; ch++) {
    for (let i = 0; i < n; i++) out[i] += map[ch * n + i];
  }
  return out;
}

/** One grey value per pixel of an image of `channels` channels (luma for colour). */
function luma(pixels, channels) {
  if (channels === 1) return pixels;
  const n = pixels.length / channels;
  return Float32Array.from({ length: n }, (_, i) => 0.299 * pixels[i] + 0.587 * pixels[n + i] + 0.114 * pixels[2 * n + i]);
}

// --- resizing: a picture or a drawing to a user model's input size -------------------------
/** For each of `m` outputs, the [index, weight] pairs over `n` inputs: the mean over the
 * output pixel's footprint when shrinking, bilinear (pixel centres aligned) when growing. */
function taps(n, m) {
  const s = n / m;
  return Array.from({ length: m }, (_, j) => {
    if (s >= 1) {
      const lo = j * s, hi = (j + 1) * s;
      const out = [];
      for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) {
        const w = Math.min(hi, i + 1) - Math.max(lo, i);
        if (w > 0) out.push([i, w / s]);
      }
      return out;
    }
    const x = Math.min(n - 1, Math.max(0, (j + 0.5) * s - 0.5));
    const i = Math.floor(x), t = x - i;
    return t > 0 && i + 1 < n ? [[i, 1 - t], [i + 1, t]] : [[i, 1]];
  });
}

/** `pixels` of shape `from` ([c, h, w]) to shape `to`: grey ↔ colour (grey copied to every
 * channel; colour to luma), then resized. */
function fit(pixels, from, to) {
  const [c0, h0, w0] = from;
  const [c1, h1, w1] = to;
  let planes = [];
  for (let ch = 0; ch < c0; ch++) planes.push(pixels.subarray(ch * h0 * w0, (ch + 1) * h0 * w0));
  if (c0 !== c1) {
    const grey = c0 === 1 ? planes[0] : luma(pixels, c0);
    planes = Array.from({ length: c1 }, () => grey);
  }
  const out = new Float32Array(c1 * h1 * w1);
  const rows = taps(h0, h1), cols = taps(w0, w1);
  planes.forEach((plane, ch) => {
    const half = new Float32Array(h0 * w1);   // columns resized first
    for (let y = 0; y < h0; y++) {
      for (let x = 0; x < w1; x++) {
        let v = 0;
        for (const [i, w] of cols[x]) v += w * plane[y * w0 + i];
        half[y * w1 + x] = v;
      }
    }
    for (let y = 0; y < h1; y++) {
      for (let x = 0; x < w1; x++) {
        let v = 0;
        for (const [i, w] of rows[y]) v += w * half[i * w1 + x];
        out[ch * h1 * w1 + y * w1 + x] = Math.min(1, Math.max(0, v));
      }
    }
  });
  return out;
}

const MNIST = [1, 28, 28];
const sameShape = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
/** MNIST-form pixels (28 × 28, grey) for a model whose input is `input`. */
const fromMnist = (pixels, input) => (!input || sameShape(input, MNIST) ? pixels : fit(pixels, MNIST, input));

function localisation(quantile) {
  const w = anyBuild();
  const [c, h, wd] = last.input;
  const l = w.localise(last.magnitude, quantile, wd, h);
  return { box: l.box, threshold: l.threshold, rgba: w.overlayRgba(luma(last.pixels, c), Float32Array.from(l.component, (v, i) => v ? last.magnitude[i] : 0)) };
}

const maxAbs = (map) => {
  let m = 0;
  for (const v of map) m = Math.max(m, Math.abs(v));
  return m;
};

/** Layer relevance `l` per channel: `{rgba, total, values}` each, coloured at `limit`. */
function channelMaps(w, l, limit) {
  const n = l.width * l.height;
  return Array.from({ length: l.channels }, (_, k) => {
    const values = l.perChannel.slice(k * n, (k + 1) * n);
    return { rgba: w.mapToRgba(values, 'diverging', limit), total: values.reduce((a, b) => a + b, 0), values };
  });
}

// Everything the page shows first for one input, computed here so that the page only paints.
async function analyse({ model, pixels, class: cls, composite, pool, quantile }) {
  const api = await apiFor(model);
  const w = anyBuild();
  let t0 = performance.now();
  const e = await api.explain(pixels, cls);
  const explainMs = performance.now() - t0;
  const [channels] = api.input;
  const magnitude = magnitudeOf(e.gradient, channels);
  const methods = {};
  for (const m of ['gradient', 'deconvnet', 'guided']) {
    const map = magnitudeOf(e[m], channels);
    methods[m] = { rgba: w.mapToRgba(map, 'sequential'), max: maxAbs(map), values: map };
  }
  const gradientInput = summed(e.gradientInput, channels);
  const signed = summed(e.gradient, channels);
  t0 = performance.now();
  const r = await api.relevance(pixels, e.class, composite, pool);
  const lrpMs = performance.now() - t0;
  const layers = r.layers.map((l, i) => {
    // A 1×1 input (a dense layer's after a global pool or another dense layer) is shown per
    // channel instead: one bar per unit.
    const perUnit = l.width * l.height === 1;
    const values = perUnit ? l.perChannel : l.map;
    const limit = maxAbs(values) || 1;
    const layer = { name: l.name, kind: l.kind, perUnit, width: perUnit ? values.length : l.width, height: perUnit ? 1 : l.height,
                    total: l.total, limit, rgba: w.mapToRgba(values, 'diverging', limit), values };
    // Each channel of a spatial input (not the pixels': those are colours), at the summed map's limit.
    if (i > 0 && !perUnit && l.channels > 1) layer.channels = channelMaps(w, l, limit);
    return layer;
  });
  // The same input and class again (another LRP composite, say): the slower results stand.
  const same = last && last.model === model && last.class === e.class
    && last.pixels.length === pixels.length && last.pixels.every((v, i) => v === pixels[i]);
  last = {
    model, pixels, magnitude, class: e.class, explanation: e, input: api.input,
    lrp: r.layers[0].map,
    attributions: same ? last.attributions : null, sanity: same ? last.sanity : null,
    evaluated: same ? last.evaluated : new Map(),
  };
  return {
    model,
    prediction: { probabilities: e.probabilities, predicted: e.predicted, class: e.class, ms: explainMs },
    saliency: { methods, signed: w.mapToRgba(signed, 'diverging'), signedValues: signed, ms: explainMs, localisation: localisation(quantile) },
    gradientInput: { rgba: w.mapToRgba(gradientInput, 'diverging'), values: gradientInput, total: gradientInput.reduce((a, b) => a + b, 0), ms: explainMs },
    lrp: { layers, score: r.score, ms: lrpMs },
  };
}

function requireLast() {
  if (!last) throw new Error('nothing analysed yet');
  return last;
}

const sameOptions = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// SmoothGrad and Integrated Gradients of the last analysed input, kept for faithfulness.
async function attributions({ smoothGrad, integratedGradients }) {
  const l = requireLast();
  const options = { smoothGrad, integratedGradients };
  if (l.attributions && sameOptions(l.attributions.options, options)) return l.attributions;
  const api = await apiFor(l.model);
  const w = anyBuild();
  let t0 = performance.now();
  const smooth = await api.smoothGrad(l.pixels, l.class, smoothGrad);
  const smoothMs = performance.now() - t0;
  t0 = performance.now();
  const ig = await api.integratedGradients(l.pixels, l.class, integratedGradients);
  const igMs = performance.now() - t0;
  const [channels] = l.input;
  const magnitude = magnitudeOf(smooth, channels);
  const igMap = summed(ig.map, channels);
  l.attributions = {
    options, model: l.model, class: l.class,
    smooth: magnitude, ig: igMap,
    smoothGrad: { rgba: w.mapToRgba(magnitude, 'sequential'), values: magnitude, max: maxAbs(magnitude), ms: smoothMs },
    integratedGradients: {
      rgba: w.mapToRgba(igMap, 'diverging'), values: igMap, total: ig.total, difference: ig.difference, error: ig.error, ms: igMs,
    },
  };
  return l.attributions;
}

// Deletion and insertion curves of every map of the last input. Each map is ranked highest
// value first: magnitudes for the gradient-like maps, signed maps where the sign says "for".
async function faithfulness({ k, smoothGrad, integratedGradients }) {
  const l = requireLast();
  const a = await attributions({ smoothGrad, integratedGradients });
  const e = l.explanation;
  const [channels] = l.input;
  // One h × w ranking per map (a colour model's maps made so as for drawing them).
  const maps = {
    gradient: magnitudeOf(e.gradient, channels),
    deconvnet: magnitudeOf(e.deconvnet, channels),
    guided: magnitudeOf(e.guided, channels),
    gradientInput: summed(e.gradientInput, channels),
    smoothGrad: a.smooth,
    integratedGradients: a.ig,
    lrp: l.lrp,
  };
  const api = await apiFor(l.model);
  const t0 = performance.now();
  const f = await api.faithfulness(l.pixels, l.class, maps, { k });
  const [, h, w] = l.input;
  return { model: l.model, class: l.class, k: f.k, pixels: h * w, curves: f.curves, ms: performance.now() - t0 };
}

// The model-randomisation sanity check of the last input: every map as RGBA, with Spearman ρ.
async function sanity() {
  const l = requireLast();
  if (l.sanity) return l.sanity;
  const api = await apiFor(l.model);
  const w = anyBuild();
  const t0 = performance.now();
  const s = await api.sanity(l.pixels, l.class);
  const ms = performance.now() - t0;
  const MAGNITUDE = ['gradient', 'deconvnet', 'guided'];
  l.sanity = {
    model: l.model, class: l.class, stages: s.stages, ms,
    methods: s.methods.map((m) => {
      // As drawn: magnitudes for the gradient-like maps, signed maps otherwise.
      const magnitude = MAGNITUDE.includes(m.name);
      const values = m.maps.map((map) => (magnitude ? map.map(Math.abs) : map));
      return {
        name: m.name,
        spearman: m.spearman,
        magnitude,
        values,
        rgba: values.map((map) => w.mapToRgba(map, magnitude ? 'sequential' : 'diverging')),
      };
    }),
  };
  return l.sanity;
}

// Quantus-style metrics (the wasm's `evaluate`) of every method: of the last input for its
// class (kept per choice of metrics while the input and class stay), or, given `count`, of
// held-out images first … first + count − 1, each for its label: one chunk of a whole-set run.
let digits = null;   // the held-out set last evaluated: {model, labels, pixels}
async function evaluate({ model, metrics, first = 0, count, size }) {
  if (count === undefined) {
    const l = requireLast();
    const key = metrics.join();
    if (!l.evaluated.has(key)) {
      const api = await apiFor(l.model);
      const t0 = performance.now();
      const e = await api.evaluate(l.pixels, [l.class], { metrics });
      l.evaluated.set(key, { model: l.model, class: l.class, ...e, ms: performance.now() - t0 });
    }
    return l.evaluated.get(key);
  }
  const api = await apiFor(model);
  if (digits?.model !== model) digits = { model, ...(await run('heldout', { model })) };
  const len = api.input.reduce((a, b) => a * b);
  // Images first…end of an evaluation of `size` images, spread evenly over the held-out set
  // (sorted by class: its first images are all of one class).
  const total = digits.labels.length;
  const n = Math.min(size ?? total, total);
  const end = Math.min(first + count, n);
  const picks = Array.from({ length: Math.max(end - first, 0) }, (_, k) => Math.floor((first + k) * total / n));
  const pixels = new Float32Array(picks.length * len);
  picks.forEach((i, k) => pixels.set(Float32Array.from(digits.pixels.subarray(i * len, (i + 1) * len), (v) => v / 255), k * len));
  const t0 = performance.now();
  const e = await api.evaluate(pixels, Uint32Array.from(picks, (i) => digits.labels[i]), { metrics, first });
  return { model, first, ...e, ms: performance.now() - t0 };
}

async function run(op, args) {
  switch (op) {
    case 'analyse': return analyse({ ...args, model: modelOf(args) });
    case 'attributions': return attributions(args);
    case 'faithfulness': return faithfulness(args);
    case 'sanity': return sanity();
    case 'evaluate': return evaluate(args);
    case 'catalogue': return (await loaded()).evaluationCatalogue();
    case 'summarise': return anyBuild().summarise(args.values, args.methods, args.metrics);
    case 'localise': return last ? localisation(args.quantile) : null;
    case 'toMnist': return fromMnist(anyBuild().toMnist(args.gray, args.width, args.height), args.input);
    case 'fit': return fit(Float32Array.from(args.pixels), args.from, args.to);
    case 'loadUserModel': return loadUserModel(args);
    case 'freeUserModel': return freeUserModel(args);
    case 'models': return models();
    case 'limits': return (await loaded()).limits();
    case 'describe': return describe(modelOf(args));
    case 'heldout': return (await ready(builds.webgpu && !builds.cpu ? 'webgpu' : 'cpu', modelOf(args))).heldoutDigits(modelOf(args));
    case 'picture': return picture(args.file, args.input);
    case 'legend': return { sequential: anyBuild().mapToRgba(ramp(0, 1), 'sequential', 1), diverging: anyBuild().mapToRgba(ramp(-1, 1), 'diverging', 1) };
    // Maps recoloured at one given limit (the page's "one colour scale for all maps").
    case 'colour': return args.maps.map((m) => anyBuild().mapToRgba(m.values, m.kind, args.limit));
    case 'classModelStart': {
      const api = await apiFor(modelOf(args));
      ascent = { run: api.classModel(args.class, args.options), channels: api.input[0] };
      return null;
    }
    case 'unitStart': {
      const api = await apiFor(modelOf(args));
      ascent = { run: api.unitModel(args.layer, args.unit, args.options), channels: api.input[0] };
      return null;
    }
    case 'atlasStart': {
      const api = await apiFor(modelOf(args));
      ascent = { run: api.layerAtlas(args.layer, args.options), channels: api.input[0] };
      return null;
    }
    case 'classModelStep': {
      const s = await ascent.run.step(args.n);
      // Each image of a batch on its own range, as the first is.
      const rgbas = s.images.map((image) => gray(image, ascent.channels).rgba);
      return { ...s, ...gray(s.image, ascent.channels), rgbas };
    }
    default: throw new Error(`unknown operation ${op}`);
  }
}

// An uploaded file as the input of a model of shape `input` (default: MNIST's 1 × 28 × 28).
// Grey models get it in MNIST form (resized to their input when that is not 28 × 28); colour
// models get the picture itself, resized to h × w, values in [0, 1], channel-major.
async function picture(file, input = MNIST) {
  if (input[0] === 3) return colourPicture(file, input);
  return fromMnist(await mnistPicture(file), input);
}

async function colourPicture(file, [c, h, w]) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  } catch {
    throw new Error(`"${file.name}" is not an image this browser can read`);
  }
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, w, h);
  const out = new Float32Array(c * h * w);
  for (let i = 0; i < h * w; i++) {
    // Transparent parts count as black.
    const alpha = data[4 * i + 3] / 255;
    for (let ch = 0; ch < c; ch++) out[ch * h * w + i] = (data[4 * i + ch] / 255) * alpha;
  }
  return out;
}

// An uploaded file to MNIST form. Decoding happens here, off the page's thread, and every
// picture is decoded straight to 512 px on its longer side, so a huge one costs no more memory.
async function mnistPicture(file) {
  let probe;
  try {
    probe = await createImageBitmap(file, { resizeWidth: 64, resizeQuality: 'low' });
  } catch {
    throw new Error(`"${file.name}" is not an image this browser can read`);
  }
  const tall = probe.height > probe.width;
  probe.close();
  const bitmap = await createImageBitmap(file, tall ? { resizeHeight: 512, resizeQuality: 'high' }
                                                   : { resizeWidth: 512, resizeQuality: 'high' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return anyBuild().pictureToMnist(new Uint8Array(data.buffer), canvas.width, canvas.height);
}

function ramp(lo, hi) {
  return Float32Array.from({ length: 64 }, (_, i) => lo + (hi - lo) * i / 63);
}

// A WebGPU failure mid-session (device lost, instance trapped) switches to the CPU.
async function call(op, args) {
  try {
    return await run(op, args);
  } catch (e) {
    const trapped = e instanceof WebAssembly.RuntimeError || e?.name === 'BackendError' || /device|lost/i.test(e.message);
    if (backend === 'webgpu' && trapped) {
      dropGpu();
      await useCpu(args?.model ?? last?.model ?? 'mnist', `WebGPU failed (${e.message}); switched to the CPU`);
      return run(op, args);
    }
    throw e;
  }
}

let queue = Promise.resolve();
let unanswered = 0;   // messages received and not yet answered

// Warm-up (issue 18). Chromium runs wasm through its baseline compiler first and optimises a
// function only once it is hot, so for the first hundred or so calls after loading a call can
// take 10–50× its usual time (BENCHMARKS.md, "Where a call's time goes"). Once a first result is
// out, the worker spends its idle time (no message unanswered) on `warmUp` of the instance in
// use, WARM_CHUNK rounds at a time, so that a message waits at most one short chunk, until
// WARM_ROUNDS have run. They start after WARM_IDLE ms without a message and are WARM_GAP ms
// apart: optimisation needs calls, not a busy core, and on a 2-core machine the
// page's own thread needs the other one. CPU only (on WebGPU the wasm does little of the work
// and a round costs a hundred times more), and not while the WebGPU build comes up.
const WARM_ROUNDS = 100;
const WARM_CHUNK = 1;
const WARM_GAP = 20;
// The rounds start only after this long without a message: while a user draws, the page's own
// requests come every few ms, and their thread and the optimising compiler need the cores.
const WARM_IDLE = 1000;
let lastMessage = 0;        // performance.now() of the last message in
const warmed = new Map();   // `${backend}/${model}` → rounds run
let gpuComingUp = false;
let warmTimer = null;       // the next round's timer: one chain of rounds at a time

function warmUpWhileIdle() {
  if (warmTimer !== null) return;
  const wait = Math.max(WARM_GAP, lastMessage + WARM_IDLE - performance.now());
  warmTimer = setTimeout(() => {
    warmTimer = null;
    if (unanswered > 0 || gpuComingUp || backend !== 'cpu' || !last) return;
    if (performance.now() - lastMessage < WARM_IDLE) {
      warmUpWhileIdle();   // a message came meanwhile: wait for the quiet again
      return;
    }
    const key = `${backend}/${last.model}`;
    const done = warmed.get(key) ?? 0;
    if (done >= WARM_ROUNDS) return;
    warmed.set(key, done + WARM_CHUNK);
    const model = last.model;
    queue = queue.then(async () => {
      const t0 = performance.now();
      try {
        await (await apiFor(model)).warmUp(WARM_CHUNK);
        // A large model (a round over 250 ms, even before optimisation) would hold the worker
        // too long for what it gains next to its own times: leave it be.
        if (performance.now() - t0 > 250 * WARM_CHUNK) warmed.set(key, WARM_ROUNDS);
      } catch {
        warmed.set(key, WARM_ROUNDS);   // nor a model the warm-up cannot run
      }
    });
    queue.then(warmUpWhileIdle);
  }, wait);
}

// `received` and `answered`, on the clock that every page and worker shares (timeOrigin + now),
// time the message hops (scripts/bench-stages.mjs).
const clock = () => performance.timeOrigin + performance.now();
onmessage = ({ data: { id, op, args } }) => {
  const received = clock();
  lastMessage = performance.now();
  unanswered++;
  // One call at a time, in order: the wasm instance is single-threaded.
  queue = queue.then(async () => {
    const t0 = performance.now();
    try {
      const value = op === 'init' ? (await init(args.backend, modelOf(args)), { backend, reason })
                                  : await call(op, args);
      postMessage({ id, ok: true, value, ms: performance.now() - t0, backend, received, answered: clock() });
      if (gpuPending && op === 'analyse') {
        gpuPending = false;
        tryWebGpu('auto', modelOf(args));   // not queued: the CPU keeps answering while WebGPU comes up
      }
    } catch (e) {
      postMessage({ id, ok: false, error: String(e?.message ?? e), name: e?.name, argument: e?.argument, backend });
    }
    unanswered--;
    warmUpWhileIdle();
  });
};
