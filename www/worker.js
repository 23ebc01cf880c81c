// The wasm lives here, off the main thread, so the page never blocks while it computes.
// Protocol: {id, op, args} in; {id, ok, value | error} out, plus {event: 'backend', ...}.
// The CPU build loads first; the WebGPU build is loaded only when asked for and the browser
// has navigator.gpu. A failing WebGPU instance is dropped for the CPU one, and the page is told.

const builds = {};   // 'cpu' | 'webgpu' → the imported wasm-bindgen module, initialised
let api = null;      // the DeepInside instance in use
let gpuPending = false;  // 'auto' still has WebGPU to try
let cpuApi = null;   // kept so a WebGPU failure can fall back at once

async function load(build) {
  if (!builds[build]) {
    const module = await import(new URL(`../pkg/${build}/deep_inside.js`, import.meta.url));
    await module.default();
    builds[build] = module;
  }
  return builds[build];
}

// Stateless helpers work the same in either build.
const anyBuild = () => builds.cpu ?? builds.webgpu;

function announce(reason) {
  postMessage({ event: 'backend', backend: api.backend, reason: reason ?? api.reason });
}

async function useCpu(reason) {
  if (!cpuApi) cpuApi = await (await load('cpu')).DeepInside.create('cpu');
  api = cpuApi;
  announce(reason);
  return api;
}

// Settles the backend. 'auto' answers with the CPU at once, then tries WebGPU in the background.
async function init(requested) {
  gpuPending = false;
  if (requested === 'cpu') return useCpu();
  if (!('gpu' in navigator) || !navigator.gpu) {
    return useCpu(`this browser has no WebGPU${requested === 'webgpu' ? ' (requested)' : ''}; using the CPU`);
  }
  if (requested === 'auto') {
    // The CPU answers first; WebGPU is fetched only after the first analysis is shown, so
    // that its larger build never delays the first heatmap.
    await useCpu('WebGPU is tried once the first result is shown; the CPU answers meanwhile');
    gpuPending = true;
    return api;
  }
  return tryWebGpu('webgpu');
}

async function tryWebGpu(mode) {
  try {
    const gpu = await (await load('webgpu')).DeepInside.create(mode);
    api = gpu;
    announce();
  } catch (e) {
    await useCpu(`WebGPU unavailable (${e.message}); using the CPU`);
  }
  return api;
}

// What the last analysis computed, so the threshold slider only re-runs the localisation.
let last = null;
let ascent = null;

function gray(image) {
  // Class model images are not clipped: show them normalised to their own range.
  let lo = Infinity, hi = -Infinity;
  for (const v of image) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  const rgba = new Uint8ClampedArray(image.length * 4);
  image.forEach((v, i) => {
    const g = Math.round(255 * (v - lo) / span);
    rgba.set([g, g, g, 255], 4 * i);
  });
  return { rgba, lo, hi };
}

function localisation(quantile) {
  const w = anyBuild();
  const l = w.localise(last.magnitude, quantile);
  return { box: l.box, threshold: l.threshold, rgba: w.overlayRgba(last.pixels, Float32Array.from(l.component, (c, i) => c ? last.magnitude[i] : 0)) };
}

// Everything the page shows for one input, computed here so that the page only paints.
async function analyse({ pixels, class: cls, composite, pool, quantile }) {
  const w = anyBuild();
  let t0 = performance.now();
  const e = await api.explain(pixels, cls);
  const explainMs = performance.now() - t0;
  const magnitude = e.gradient.map(Math.abs);
  last = { pixels, magnitude };
  const methods = {};
  for (const m of ['gradient', 'deconvnet', 'guided']) {
    const magnitudeOf = e[m].map(Math.abs);
    methods[m] = { rgba: w.mapToRgba(magnitudeOf, 'sequential'), max: Math.max(...magnitudeOf) };
  }
  t0 = performance.now();
  const r = await api.relevance(pixels, e.class, composite, pool);
  const lrpMs = performance.now() - t0;
  const layers = r.layers.map((l) => {
    // A 1×1 input (FC2's) is shown per channel instead: one bar per unit.
    const perUnit = l.width * l.height === 1;
    const values = perUnit ? l.channels : l.map;
    let limit = 0;
    for (const v of values) limit = Math.max(limit, Math.abs(v));
    return { name: l.name, width: perUnit ? values.length : l.width, height: perUnit ? 1 : l.height,
             total: l.total, limit: limit || 1, rgba: w.mapToRgba(values, 'diverging', limit || 1) };
  });
  return {
    prediction: { probabilities: e.probabilities, predicted: e.predicted, class: e.class, ms: explainMs },
    saliency: { methods, signed: w.mapToRgba(e.gradient, 'diverging'), ms: explainMs, localisation: localisation(quantile) },
    lrp: { layers, score: r.score, ms: lrpMs },
  };
}

async function run(op, args) {
  switch (op) {
    case 'analyse': return analyse(args);
    case 'localise': return last ? localisation(args.quantile) : null;
    case 'toMnist': return anyBuild().toMnist(args.gray, args.width, args.height);
    case 'heldout': return anyBuild().heldoutDigits();
    case 'picture': return picture(args.file);
    case 'legend': return { sequential: anyBuild().mapToRgba(ramp(0, 1), 'sequential', 1), diverging: anyBuild().mapToRgba(ramp(-1, 1), 'diverging', 1) };
    case 'classModelStart': ascent = api.classModel(args.class, args.options); return null;
    case 'classModelStep': {
      const s = await ascent.step(args.n);
      return { ...s, ...gray(s.image) };
    }
    default: throw new Error(`unknown operation ${op}`);
  }
}

// An uploaded file to MNIST form. Decoding happens here, off the page's thread, and every
// picture is decoded straight to 512 px on its longer side, so a huge one costs no more memory.
async function picture(file) {
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
    const trapped = e instanceof WebAssembly.RuntimeError || /device|lost|backend/i.test(e.message);
    if (api !== cpuApi && trapped) {
      await useCpu(`WebGPU failed (${e.message}); switched to the CPU`);
      return run(op, args);
    }
    throw e;
  }
}

let queue = Promise.resolve();
onmessage = ({ data: { id, op, args } }) => {
  // One call at a time, in order: the wasm instance is single-threaded.
  queue = queue.then(async () => {
    const t0 = performance.now();
    try {
      const value = op === 'init' ? (await init(args.backend), { backend: api.backend, reason: api.reason })
                                  : await call(op, args);
      postMessage({ id, ok: true, value, ms: performance.now() - t0, backend: api?.backend });
      if (gpuPending && op === 'analyse') {
        gpuPending = false;
        tryWebGpu('auto');   // not queued: the CPU keeps answering while WebGPU comes up
      }
    } catch (e) {
      postMessage({ id, ok: false, error: String(e?.message ?? e), backend: api?.backend });
    }
  });
};
