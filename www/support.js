// What the page and the element need of a browser, checked as the worker starts, so that an
// old browser gets a sentence instead of a page that never finishes starting:
// - wasm SIMD: the CPU build uses simd128 (Chrome 91, Firefox 89, Safari 16.4);
// - OffscreenCanvas: uploads are decoded and resized in the worker (Firefox 105, Safari 16.4);
// - module workers: the worker imports the wasm glue (Chrome 80, Firefox 114, Safari 15).

/** The browsers that have all three. */
export const SUPPORTED = 'Chrome or Edge 91, Firefox 114, Safari 16.4 or newer';

// A module of one function with one SIMD instruction (the probe of wasm-feature-detect's test).
const SIMD = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1,
  8, 0, 65, 0, 253, 15, 253, 98, 11]);

const lacking = (what) => new Error(`this browser has no ${what}, which the page needs (${SUPPORTED})`);

/** Throws an Error naming what the browser lacks, if anything: call before starting the worker. */
export function checkSupport() {
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(SIMD)) throw lacking('WebAssembly SIMD');
  if (typeof OffscreenCanvas !== 'function') throw lacking('OffscreenCanvas');
  // Only a browser with module workers reads `type`; elsewhere the script would start as a
  // classic worker and fail on its first `import`. The options are read before the URL is
  // parsed, and this URL does not parse: nothing starts.
  let module = false;
  try {
    new Worker('http://[', { get type() { module = true; return 'module'; } });
  } catch { /* the invalid URL, as intended */ }
  if (!module) throw lacking('module workers');
}

/** Starts the module worker at `url`; throws an Error naming what the browser lacks. */
export function startWorker(url) {
  checkSupport();
  return new Worker(url, { type: 'module' });
}
