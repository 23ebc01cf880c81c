// The wasm lives here, off the main thread, so the page never blocks while it computes.
// Protocol: {id, op, args} in; {id, ok, value | error} out, plus {event: 'backend', ...}.
// The CPU build loads first; the WebGPU build is loaded only when asked for and the browser
// has navigator.gpu. A failing WebGPU instance is dropped for the CPU one, and the page is told.

const builds = {};   // 'cpu' | 'webgpu' → the imported wasm-bindgen module, initialised
let api = null;      // the DeepInside instance in use
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
  if (requested === 'cpu') return useCpu();
  if (!('gpu' in navigator) || !navigator.gpu) {
    return useCpu(`this browser has no WebGPU${requested === 'webgpu' ? ' (requested)' : ''}; using the CPU`);
  }
  if (requested === 'auto') {
    await useCpu('loading WebGPU in the background; the CPU answers meanwhile');
    tryWebGpu('auto');
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

// A WebGPU failure mid-session (device lost, instance trapped) switches to the CPU.
async function call(op, args) {
  const run = (a) => {
    switch (op) {
      case 'predict': return a.predict(args.pixels);
      case 'toMnist': return anyBuild().toMnist(args.gray, args.width, args.height);
      case 'heldout': return anyBuild().heldoutDigits();
      default: throw new Error(`unknown operation ${op}`);
    }
  };
  try {
    return await run(api);
  } catch (e) {
    const trapped = e instanceof WebAssembly.RuntimeError || /device|lost|backend/i.test(e.message);
    if (api !== cpuApi && trapped) {
      await useCpu(`WebGPU failed (${e.message}); switched to the CPU`);
      return run(api);
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
    } catch (e) {
      postMessage({ id, ok: false, error: String(e?.message ?? e), backend: api?.backend });
    }
  });
};
