// Measurement only (docs/experiments/threads/README.md): times the CPU package in a worker, with or
// without wasm threads. ?pkg=cpu (single-threaded) or ?pkg=cpu-threads&n=N (initThreadPool(N)).
// The work runs in a module worker: rayon's calling thread blocks in Atomics.wait, which the
// main thread may not do. Read by scripts/bench-threads.mjs through window.results.
const params = new URLSearchParams(location.search);
window.results = new Promise((resolve) => {
  const worker = new Worker(new URL('./bench-threads-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => {
    document.getElementById('status').textContent = 'done';
    resolve({ crossOriginIsolated, ...data });
  };
  worker.onerror = (e) => resolve({ error: `worker error: ${e.message}` });
  worker.postMessage({ pkg: params.get('pkg') ?? 'cpu', n: Number(params.get('n') ?? 0) });
});
