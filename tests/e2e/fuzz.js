// Hammers every exported function with hostile arguments, one bad argument per call, and
// checks: no wasm trap; each bad call rejected with an ArgumentError whose `argument` (and
// message) names the bad argument; valid calls afterwards give bit-identical results. Driven by
// fuzz.test.mjs (window.fuzz).
import init, * as wasm from '../../pkg/cpu/deep_inside.js';

const CALLS = Number(new URLSearchParams(location.search).get('calls') ?? 10000);

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const pick = (list) => list[Math.floor(rand() * list.length)];

function badPixels() {
  const kind = Math.floor(rand() * 9);
  const n = [0, 1, 783, 785, 10000][Math.floor(rand() * 5)];
  switch (kind) {
    case 0: return new Float32Array(n);
    case 1: { const a = new Float32Array(784); a[Math.floor(rand() * 784)] = pick([NaN, Infinity, -Infinity, 1e30, -1e30]); return a; }
    case 2: return pick(['pixels?', 42, {}, true, undefined, null]);
    case 3: return [];
    case 4: return Array.from({ length: 784 }, (_, i) => (i === 300 ? 'x' : 0));
    case 5: return new Uint8Array(784);
    case 6: return new Float32Array(n).fill(NaN);
    case 7: return Array.from({ length: n }, () => rand());
    default: return new Float64Array(784).fill(1e300);
  }
}
// A map or grey picture may hold any finite values: bad ones are non-finite, mis-sized or mistyped.
function badMap() {
  const a = new Float32Array(784);
  return pick([new Float32Array(0), new Float32Array(783), new Float32Array(785), 'map', {}, null, undefined, 42,
    Array.from({ length: 784 }, (_, i) => (i === 7 ? 'x' : 0)), (a[9] = pick([NaN, Infinity, -Infinity]), a)]);
}
const badClass = () => pick([-1, 10, 11, NaN, Infinity, -Infinity, 1e30, 2.5, -0.5, 2 ** 53, 'three', {}, undefined, [1, 2]]);
const badText = () => pick(['', 'GRADIENT', 'lrp', 'autoo', '💥', 'a'.repeat(5000), 42, {}, [], null, undefined]);
const badNumber = () => pick([NaN, Infinity, -Infinity, -1, 1.5, 1e30, 'x', {}]);
// A model name: undefined and null mean "mnist", so they are not bad; "fashion" is, before
// provideModel (and "mnist-deep" too, where the model itself is wanted, not its data set).
const badModel = () => pick(['', 'MNIST', 'digits', 'fashion', '💥', 42, {}, [], true]);
const badCount = () => pick([-1, -1e9, 1e9, 2 ** 40, NaN, Infinity, 2.5, 'many', {}]);

window.fuzz = (async () => {
  const exports = await init();
  const heapAtStart = exports.memory.buffer.byteLength;
  const api = await wasm.DeepInside.create('cpu');
  const digits = wasm.heldoutDigits();
  const x = Float32Array.from(digits.pixels.subarray(0, 784), (v) => v / 255);
  const map = await api.saliency(x, 3, 'gradient');

  // What valid calls give before the storm.
  const snapshot = async () => JSON.stringify({
    predict: Array.from((await api.predict(x)).logits),
    saliency: Array.from(await api.saliency(x, 3, 'guided')),
    relevance: (await api.relevance(x, 3, 'recommended')).layers.map((l) => Array.from(l.map)),
    custom: (await api.relevance(x, 3, api.presetRules('epsilon_plus'), 'proportional')).layers.map((l) => l.total),
    catalogue: [api.layers, api.input, api.classNames, api.sanityStages, wasm.models(), wasm.rules(), wasm.presets()],
    step: Array.from((await api.classModel(5, { seed: 1 }).step(3)).image),
    atlas: (await api.layerAtlas('relu1', { seed: 1, preset: 'lucid' }).step(2)).images.map((i) => Array.from(i)),
    localise: wasm.localise(map, 0.9).box,
    rgba: Array.from(wasm.mapToRgba(map, 'sequential')),
    smoothGrad: Array.from(await api.smoothGrad(x, 3, { samples: 4 })),
    integratedGradients: Array.from((await api.integratedGradients(x, 3, { steps: 8 })).map),
    faithfulness: (await api.faithfulness(x, 3, { gradient: map }, { k: 64 })).curves.map((c) => Array.from(c.deletion)),
    sanity: (await api.sanity(x, 3)).methods.map((m) => m.spearman),
  });
  const before = await snapshot();

  // [name, bad argument's name, call making exactly that argument bad]
  const cases = [
    ['predict', 'pixels', () => api.predict(badPixels())],
    ['saliency', 'pixels', () => api.saliency(badPixels(), 3, 'gradient')],
    ['saliency', 'class', () => api.saliency(x, badClass(), 'gradient')],
    ['saliency', 'method', () => api.saliency(x, 3, badText())],
    ['signedSaliency', 'class', () => api.signedSaliency(x, badClass(), 'deconvnet')],
    ['signedSaliency', 'pixels', () => api.signedSaliency(badPixels(), 1, 'guided')],
    ['explain', 'pixels', () => api.explain(badPixels(), -1)],
    ['explain', 'class', () => api.explain(x, pick([-2, 10, NaN, 0.5, 'x', Infinity]))],
    ['relevance', 'pixels', () => api.relevance(badPixels(), 3, 'recommended')],
    ['relevance', 'class', () => api.relevance(x, badClass(), 'recommended')],
    ['relevance', 'composite', () => api.relevance(x, 3, pick(['', 'z', 'custom', 7, {}, null, ['zero'], ['zero', 'zero', 'zero', 'nope'],
      ['zero', 'zero', 'zero', 'epsilon(-1)'], ['zbox(1,0)', 'zero', 'zero', 'zero'], ['zero', 'gamma(', 'zero', 'zero'], [1, 2, 3, 4],
      Array(5).fill('zero')]))],
    ['relevance', 'pool', () => api.relevance(x, 3, 'zplus', pick(['min', '', 'MAX', 5, {}]))],
    ['classModel', 'class', () => api.classModel(badClass(), {})],
    ['classModel', 'options', () => api.classModel(3, pick(['x', 5, true]))],
    ['classModel', 'lambda', () => api.classModel(3, { lambda: pick([NaN, -1, 'x', {}, Infinity]) })],
    ['classModel', 'step', () => api.classModel(3, { step: pick([0, -1, NaN, 'x', Infinity]) })],
    ['classModel', 'start', () => api.classModel(3, { start: pick(['sky', '', 5, {}]) })],
    ['classModel', 'index', () => api.classModel(3, { start: 'dataset', index: pick([-1, 1000, 1e9, NaN, 'x']) })],
    ['classModel', 'objective', () => api.classModel(3, { objective: pick(['prob', '', 1]) })],
    ['classModel', 'jitter', () => api.classModel(3, { jitter: pick([-1, 9, 2.5, 1e9]) })],
    ['classModel', 'preset', () => api.classModel(3, { preset: pick(['pretty', '', 'Readable', 5, {}, true]) })],
    ['step', 'n', () => api.classModel(3, {}).step(badCount())],
    ['classModel', 'scale', () => api.classModel(3, { scale: pick([-0.1, 0.6, NaN, 'x', {}]) })],
    ['classModel', 'rotate', () => api.classModel(3, { rotate: pick([-1, 46, Infinity, 'x']) })],
    ['classModel', 'fourier', () => api.classModel(3, { fourier: pick([-1, 3.5, NaN, '1']) })],
    ['classModel', 'sigmoid', () => api.classModel(3, { sigmoid: pick([1, 'yes', {}]) })],
    ['classModel', 'adam', () => api.classModel(3, { adam: pick([0, 'true', []]) })],
    ['classModel', 'restarts', () => api.classModel(3, { restarts: pick([0, 17, 2.5, -1, 1e9, 'x']) })],
    ['classModel', 'images', () => api.classModel(3, { images: pick([0, 17, 2.5, -1, 1e9]) })],
    ['classModel', 'diversity', () => api.classModel(3, { diversity: pick([-1, 1001, NaN, Infinity, 'x']) })],
    ['unitModel', 'layer', () => api.unitModel(pick(['', 'conv9', 'CONV1', 5, {}, null]), 0, {})],
    ['unitModel', 'unit', () => api.unitModel('relu1', pick([-1, 16, 2.5, NaN, 1e9, 'x']), {})],
    ['unitModel', 'at', () => api.unitModel('relu1', 0, { at: pick(['edge', '', 1, {}]) })],
    ['layerAtlas', 'layer', () => api.layerAtlas(pick(['', 'relu9', 7, [], undefined]), {})],
    ['layerAtlas', 'images', () => api.layerAtlas('conv2', { images: 16, restarts: 16 })],
    ['localise', 'map', () => wasm.localise(badMap(), 0.9)],
    ['localise', 'quantile', () => wasm.localise(map, badNumber())],
    ['localise', 'width', () => wasm.localise(map, 0.9, pick([-1, NaN, 1e9, 'x', 2.5]), 28)],
    ['localise', 'height', () => wasm.localise(map, 0.9, 28, pick([-1, NaN, 1e9, 'x', 2.5]))],
    ['presetRules', 'preset', () => api.presetRules(pick(['', 'custom', 'RECOMMENDED', 'zero', 5, {}, null, undefined]))],
    ['mapToRgba', 'map', () => wasm.mapToRgba(pick(['x', {}, null, [NaN, 'a']]), 'sequential')],
    ['mapToRgba', 'colormap', () => wasm.mapToRgba(map, badText())],
    ['mapToRgba', 'limit', () => wasm.mapToRgba(map, 'diverging', pick([0, -1, NaN, Infinity, 'x']))],
    ['overlayRgba', 'digit', () => wasm.overlayRgba(pick([new Float32Array(3), 'x', null]), map)],
    ['toMnist', 'gray', () => wasm.toMnist(badMap(), 28, 28)],
    ['toMnist', 'width', () => wasm.toMnist(new Float32Array(784), pick([-1, NaN, 1e9, 'x', 2.5]), 28)],
    ['pictureToMnist', 'rgba', () => wasm.pictureToMnist(pick([new Float32Array(256), 'x', null]), 8, 8)],
    ['pictureToMnist', 'image', () => wasm.pictureToMnist(new Uint8Array(4), 1, 1)],
    ['create', 'backend', () => wasm.DeepInside.create(badText())],
    ['create', 'model', () => wasm.DeepInside.create('cpu', pick([badModel(), 'mnist-deep']))],
    ['smoothGrad', 'pixels', () => api.smoothGrad(badPixels(), 3)],
    ['smoothGrad', 'class', () => api.smoothGrad(x, badClass())],
    ['smoothGrad', 'options', () => api.smoothGrad(x, 3, pick(['x', 5, true, [1]]))],
    ['smoothGrad', 'samples', () => api.smoothGrad(x, 3, { samples: pick([0, 257, -1, 2.5, 'x', NaN, 1e9]) })],
    ['smoothGrad', 'sigma', () => api.smoothGrad(x, 3, { sigma: pick([-0.1, 1.5, NaN, Infinity, 'x', {}]) })],
    ['integratedGradients', 'pixels', () => api.integratedGradients(badPixels(), 3)],
    ['integratedGradients', 'class', () => api.integratedGradients(x, badClass())],
    ['integratedGradients', 'steps', () => api.integratedGradients(x, 3, { steps: pick([0, 255, -1, 2.5, 'x', 1e9]) })],
    // null and undefined mean the default baseline ("black"), so they are not bad.
    ['integratedGradients', 'baseline', () => api.integratedGradients(x, 3, { baseline: pick(['', 'BLACK', 'white', 'zero', '💥', 42, {}, [], true]) })],
    ['faithfulness', 'pixels', () => api.faithfulness(badPixels(), 3, { gradient: map })],
    ['faithfulness', 'class', () => api.faithfulness(x, badClass(), { gradient: map })],
    ['faithfulness', 'maps', () => api.faithfulness(x, 3, pick(['x', null, undefined, 5, [map], {},
      { a: badMap() }, Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`m${i}`, map]))]))],
    ['faithfulness', 'k', () => api.faithfulness(x, 3, { gradient: map }, { k: pick([0, 785, -1, 2.5, 'x', NaN]) })],
    ['sanity', 'pixels', () => api.sanity(badPixels(), 3)],
    ['sanity', 'class', () => api.sanity(x, badClass())],
    ['provideModel', 'model', () => wasm.provideModel(pick(['mnist', badModel()].filter((m) => m !== 'fashion')), {})],
    ['provideModel', 'files', () => wasm.provideModel(pick(['fashion', 'mnist-deep']), pick([null, 'x', 5, {},
      { config: new Uint8Array(10), weights: new Uint8Array(10), heldout: new Uint8Array(10), mean: new Uint8Array(10) },
      { config: new TextEncoder().encode('{"input": [1, 28, 28], "layers": []}'), weights: new Uint8Array(10), heldout: new Uint8Array(10), mean: new Uint8Array(10) },
      { config: 'config.json', weights: 'weights.bpk', heldout: null, mean: null }]))],
    ['heldoutDigits', 'model', () => wasm.heldoutDigits(badModel())],
    ['warmUp', 'rounds', () => api.warmUp(pick([0, 1001, -1, 2.5, NaN, Infinity, 'x', {}, null]))],
    ['stageMarks', 'on', () => wasm.stageMarks(pick([undefined, null, 1, 0, 'true', {}]))],
  ];
  const drawCases = [
    ['drawRgba', 'canvas', () => wasm.drawRgba(pick([null, {}, 'canvas', 5]), new Uint8Array(4), 1, 1)],
    ['drawRgba', 'rgba', () => wasm.drawRgba(new OffscreenCanvas(2, 2), pick([new Uint8Array(3), 'x', null, new Float32Array(4)]), 1, 1)],
  ];
  cases.push(...drawCases);

  // Every exported function gets CALLS calls, cycling through its cases.
  const byFunction = new Map();
  for (const c of cases) byFunction.set(c[0], [...(byFunction.get(c[0]) ?? []), c]);
  const perFunction = {};
  const failures = [];
  let traps = 0, rejected = 0, accepted = 0;
  for (const [fn, list] of byFunction) {
    perFunction[fn] = CALLS;
    for (let i = 0; i < CALLS; i++) {
      const [, arg, call] = list[i % list.length];
      try {
        await call();
        accepted++;
        failures.push(`${fn}: a bad ${arg} was accepted`);
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) traps++;
        else rejected++;
        const message = String(e?.message ?? e);
        const named = e instanceof Error && e.name === 'ArgumentError' && String(e.argument).includes(arg);
        if (!named || !message.includes(arg)) failures.push(`${fn}(${arg}): ${e?.name} ${e?.argument}: ${message}`);
      }
    }
  }
  const after = await snapshot();
  return {
    calls: CALLS, perFunction, traps, rejected, accepted,
    failures: [...new Set(failures)].slice(0, 20), failureCount: failures.length,
    sameAfter: before === after,
    snapshot: before,
    heapGrowth: exports.memory.buffer.byteLength - heapAtStart,
  };
})();

// Memory: `n` consecutive explanations with every method (explain, LRP with each preset,
// localisation, and in turn SmoothGrad, Integrated Gradients, faithfulness curves and the sanity
// check); wasm memory growth after warm-up. `build` is 'cpu' or 'webgpu' (the WebGPU build on
// its WebGPU backend).
window.memory = async (n, build = 'cpu') => {
  await window.fuzz;
  const w = build === 'cpu' ? wasm : await import('../../pkg/webgpu/deep_inside.js');
  const exports = build === 'cpu' ? await init() : await w.default();
  const api = await w.DeepInside.create(build);
  const digits = w.heldoutDigits();
  const image = (i) => Float32Array.from(digits.pixels.subarray((i % 1000) * 784, (i % 1000 + 1) * 784), (v) => v / 255);
  const once = async (i) => {
    const x = image(i);
    const e = await api.explain(x, -1);
    await api.relevance(x, e.class, ['recommended', 'epsilon', 'zplus', 'alpha2beta1'][i % 4]);
    w.localise(e.gradient.map(Math.abs), 0.95);
    if (i % 4 === 0) {
      const extra = [
        () => api.smoothGrad(x, e.class, { samples: 16 }),
        () => api.integratedGradients(x, e.class, { steps: 16 }),
        () => api.faithfulness(x, e.class, { gradientInput: e.gradientInput }, { k: 64 }),
        () => api.sanity(x, e.class),
      ];
      await extra[(i / 4) % 4]();
    }
  };
  for (let i = 0; i < 200; i++) await once(i);
  const start = exports.memory.buffer.byteLength;
  const device = api.memoryUsage();   // null on the CPU
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once(i);
  const after = api.memoryUsage();
  return {
    n, growth: exports.memory.buffer.byteLength - start, bytes: exports.memory.buffer.byteLength, ms: performance.now() - t0,
    device: device && { reserved: after.bytesReserved, inUse: after.bytesInUse, growth: after.bytesReserved - device.bytesReserved },
  };
};

// Users' model files (issue 14): `n` mutations of the reference fixtures (flipped bits,
// overwritten, inserted and cut bytes, copied spans, long varints) through `loadModel`. Each
// must load or be refused with a named Error; none may trap, in the page's module or in the
// reader module that `loadModel` imports. Then the growth of both wasm memories after warm-up,
// and whether a valid model still loads and predicts as PyTorch does.
window.fuzzModels = async (n) => {
  await window.fuzz;
  const exports = await init();
  const names = ['bn_avgpool.onnx', 'bn_avgpool.safetensors', 'rgb_stride.onnx', 'rgb_stride.safetensors',
    'normalized.onnx', 'normalized.safetensors'];
  const seeds = await Promise.all(names.map(async (f) =>
    new Uint8Array(await (await fetch(`/tests/fixtures/user-models/${f}`)).arrayBuffer())));
  let state = 14;
  const below = (k) => ((state = (state * 1103515245 + 12345) >>> 0) % k);
  const mutate = (bytes) => {
    let out = Array.from(bytes);
    for (let m = 0, count = 1 + below(4); m < count && out.length; m++) {
      const at = below(out.length);
      switch (below(6)) {
        case 0: out[at] ^= 1 << below(8); break;
        case 1: out[at] = [0x00, 0x7f, 0x80, 0xff][below(4)]; break;
        case 2: out.splice(at, 0, below(256)); break;
        case 3: out.length = at; break;
        case 4: { const span = out.slice(at, at + below(64)); out.splice(below(out.length), 0, ...span); break; }
        default: out.splice(at, 1, 0xff, 0xff, 0xff, 0xff, 0x0f);
      }
    }
    return Uint8Array.from(out);
  };
  const counts = { loaded: 0, refused: 0, traps: 0, unnamed: [] };
  // The same module record as the one `loadModel` imports: init returns its instance's exports.
  (await wasm.loadModel(seeds[0])).free();
  const reader = await (await import('../../pkg/reader/deep_inside.js')).default();
  const memories = () => exports.memory.buffer.byteLength + reader.memory.buffer.byteLength;
  let start = 0;
  for (let i = 0; i < n; i++) {
    if (i === 500) start = memories();
    try {
      const model = await wasm.loadModel(mutate(seeds[i % seeds.length]));
      counts.loaded++;
      model.free();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) counts.traps++;
      else if (!(e instanceof Error) || !['FileError', 'ArchitectureError', 'ArgumentError'].includes(e.name) || !e.message) {
        if (counts.unnamed.length < 5) counts.unnamed.push(String(e?.name) + ': ' + String(e?.message ?? e));
      }
      counts.refused++;
    }
  }
  const growth = memories() - start;
  // The page keeps working: a valid file loads and gives the reference logits.
  const fixture = await (await fetch('/tests/fixtures/user-models/normalized.json')).json();
  const model = await wasm.loadModel(seeds[4]);
  const api = await wasm.DeepInside.create('cpu', model);
  const logits = Array.from((await api.predict(Float32Array.from(fixture.inputs[0]))).logits);
  const error = Math.max(...logits.map((v, k) => Math.abs(v - fixture.logits[0][k])));
  return { n, ...counts, growth, bytes: exports.memory.buffer.byteLength, readerBytes: reader.memory.buffer.byteLength, logitsError: error };
};
