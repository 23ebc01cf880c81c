// Where a call's time goes (issue 18): predict and the gradient map on the CPU build, on the main
// thread, with the wasm's stage marks on (`stageMarks(true)`, src/web/marks.rs), then the
// worker's message hop. Driven by scripts/bench-stages.mjs, which reads window.results.
//
// A call's stages, each bounded by two marks:
//   convert   js:call → di:converted    the arguments checked and copied into the wasm
//   upload    → di:uploaded              the image made a tensor on the device
//   compute   → di:computed              the network run (on the CPU the kernels run here)
//   readback  → di:read                  the result read back to the host
//   result    → di:result                the JS value built (arrays, the prediction object)
//   resolve   → js:resumed               the Promise settled and the awaiting JS resumed
// `?warmup=N` calls before timing (default 10); `?warm=R` calls `warmUp(R)` first, as the
// page's worker does once the first result is shown, then waits `?idle=MS` (default 1000), as a
// user looks at a result before the next click.
const params = new URLSearchParams(location.search);
const RUNS = Number(params.get('runs') ?? 200);
const WARMUP = Number(params.get('warmup') ?? 10);
const MARKS = ['js:call', 'di:converted', 'di:uploaded', 'di:computed', 'di:read', 'di:result', 'js:resumed'];
const STAGES = ['convert', 'upload', 'compute', 'readback', 'result', 'resolve'];

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

// performance.memory (Chromium) with --enable-precise-memory-info: a drop in the JS heap during
// a call means a garbage collection ran in it.
const heap = () => performance.memory?.usedJSHeapSize ?? 0;

async function stages(call, memory) {
  for (let i = 0; i < WARMUP; i++) await call();
  const per = Object.fromEntries([...STAGES, 'total'].map((s) => [s, []]));
  const slow = [];
  for (let i = 0; i < RUNS; i++) {
    performance.clearMarks();
    const [heap0, mem0] = [heap(), memory.buffer.byteLength];
    performance.mark('js:call');
    await call();
    performance.mark('js:resumed');
    const at = Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]));
    const missing = MARKS.filter((m) => !(m in at));
    if (missing.length) throw new Error(`marks missing: ${missing}`);
    STAGES.forEach((s, k) => per[s].push(at[MARKS[k + 1]] - at[MARKS[k]]));
    const total = at['js:resumed'] - at['js:call'];
    per.total.push(total);
    slow.push({ run: i, total, gc: heap() < heap0, grew: memory.buffer.byteLength > mem0,
      stages: Object.fromEntries(STAGES.map((s) => [s, per[s][i]])) });
  }
  performance.clearMarks();
  // The slowest 2 % of the calls: which stage took their time, and whether a GC or a
  // memory.grow happened in them.
  slow.sort((a, b) => b.total - a.total);
  return { stages: Object.fromEntries(Object.entries(per).map(([s, v]) => [s, stats(v)])), slowest: slow.slice(0, Math.ceil(RUNS / 50)) };
}

// The page's worker: a message there and back with the smallest operation ('limits'), the
// worker stamping when it received the message and when it answered.
async function hops(n) {
  const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  const replies = new Map();
  worker.onmessage = ({ data }) => { if (data.id !== undefined) replies.get(data.id)?.(data); };
  const ask = (id) => new Promise((resolve) => {
    replies.set(id, (data) => resolve({ data, back: performance.timeOrigin + performance.now() }));
    worker.postMessage({ id, op: 'limits', args: {} });
  });
  await ask(-1);   // loads the CPU build in the worker
  const there = [], back = [];
  for (let i = 0; i < n; i++) {
    const sent = performance.timeOrigin + performance.now();
    const { data, back: arrived } = await ask(i);
    there.push(data.received - sent);
    back.push(arrived - data.answered);
  }
  worker.terminate();
  return { there: stats(there), back: stats(back) };
}

async function run() {
  const m = await import('../pkg/cpu/deep_inside.js');
  const wasm = await m.default();
  const di = await m.DeepInside.create('cpu');
  const digits = m.heldoutDigits('mnist');
  const x = Float32Array.from(digits.pixels.subarray(700 * 784, 701 * 784), (v) => v / 255);
  const c = digits.labels[700];
  const warm = Number(params.get('warm') ?? 0);
  const idle = Number(params.get('idle') ?? 1000);
  if (warm) {
    await di.warmUp(warm);
    await new Promise((resolve) => setTimeout(resolve, idle));
  }
  m.stageMarks(true);
  const results = {
    isolated: crossOriginIsolated, warm, idle, runs: RUNS, warmup: WARMUP,
    predict: await stages(() => di.predict(x), wasm.memory),
    saliency: await stages(() => di.signedSaliency(x, c, 'gradient'), wasm.memory),
  };
  m.stageMarks(false);
  results.worker = await hops(RUNS);
  return results;
}

window.results = run();
window.results.then(
  () => { document.getElementById('status').textContent = 'done'; },
  (e) => { document.getElementById('status').textContent = `failed: ${e.message}`; },
);
