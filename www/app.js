// The page: UI only. All computation happens in the worker (www/worker.js) in Rust/wasm.

const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });

// --- talking to the worker -------------------------------------------------------------
let nextId = 0;
const pending = new Map();
worker.onmessage = ({ data }) => {
  if (data.event === 'backend') return showBackend(data.backend, data.reason);
  const p = pending.get(data.id);
  pending.delete(data.id);
  if (data.ok) p.resolve({ value: data.value, ms: data.ms, backend: data.backend });
  else p.reject(new Error(data.error));
};
function ask(op, args = {}, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, args }, transfer);
  });
}

function showBackend(backend, reason) {
  $('backend-status').textContent = `${backend === 'webgpu' ? 'WebGPU' : 'CPU'} — ${reason}`;
  document.body.dataset.backend = backend;
}

function showError(e) {
  console.warn(e);
  $('prediction-meta').textContent = `error: ${e.message}`;
}

// --- drawing ---------------------------------------------------------------------------
const pad = $('draw');
const ink = pad.getContext('2d', { willReadFrequently: true });
const strokes = [];   // each stroke: [[x, y], ...] in canvas pixels
let drawing = null;

function redraw() {
  ink.clearRect(0, 0, pad.width, pad.height);
  ink.lineCap = ink.lineJoin = 'round';
  ink.lineWidth = 22;
  ink.strokeStyle = '#fff';
  for (const s of strokes) {
    ink.beginPath();
    ink.moveTo(s[0][0], s[0][1]);
    for (const [x, y] of s) ink.lineTo(x, y);
    if (s.length === 1) ink.lineTo(s[0][0] + 0.1, s[0][1]);
    ink.stroke();
  }
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener('pointerdown', (e) => {
  pad.setPointerCapture(e.pointerId);
  drawing = [point(e)];
  strokes.push(drawing);
  redraw();
  update();
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  for (const c of e.getCoalescedEvents?.() ?? [e]) drawing.push(point(c));
  redraw();
  update();
});
const end = () => { drawing = null; };
pad.addEventListener('pointerup', end);
pad.addEventListener('pointercancel', end);

$('clear').addEventListener('click', () => { strokes.length = 0; redraw(); update(); });
$('undo').addEventListener('click', () => { strokes.pop(); redraw(); update(); });

// --- the update loop: at most one input in flight, the newest one wins -------------------
let busy = false;
let dirty = false;

function update() {
  dirty = true;
  if (!busy) run();
}

async function run() {
  busy = true;
  while (dirty) {
    dirty = false;
    try {
      const rgba = ink.getImageData(0, 0, pad.width, pad.height).data;
      const gray = new Float32Array(pad.width * pad.height);
      for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i + 3] / 255;
      const { value: pixels } = await ask('toMnist', { gray, width: pad.width, height: pad.height }, [gray.buffer]);
      showSeen(pixels);
      await explain(pixels);
    } catch (e) {
      showError(e);
    }
  }
  busy = false;
}

async function explain(pixels) {
  const { value: p, ms, backend } = await ask('predict', { pixels });
  showPrediction(p, ms, backend);
}

// --- drawing results -------------------------------------------------------------------
function showSeen(pixels) {
  const c = $('seen').getContext('2d');
  const img = c.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
    img.data.set([v, v, v, 255], 4 * i);
  }
  c.putImageData(img, 0, 0);
}

const bars = [];
for (let c = 0; c < 10; c++) {
  const row = document.createElement('div');
  row.className = 'bar';
  const label = document.createElement('span');
  label.textContent = String(c);
  const track = document.createElement('span');
  track.className = 'track';
  const fill = document.createElement('span');
  fill.className = 'fill';
  track.append(fill);
  const value = document.createElement('span');
  value.className = 'value';
  row.append(label, track, value);
  $('probabilities').append(row);
  bars.push({ row, fill, value });
}

function showPrediction(p, ms, backend) {
  $('prediction').textContent = String(p.predicted);
  p.probabilities.forEach((q, c) => {
    bars[c].fill.style.width = `${(100 * q).toFixed(1)}%`;
    bars[c].value.textContent = q.toFixed(3);
    bars[c].row.classList.toggle('top', c === p.predicted);
  });
  $('prediction-meta').textContent = `${backend} · ${ms.toFixed(1)} ms`;
}

// --- backend ---------------------------------------------------------------------------
async function start(backend) {
  $('backend-status').textContent = `starting ${backend}…`;
  try {
    await ask('init', { backend });
    update();
  } catch (e) {
    showError(e);
  }
}
$('backend-select').addEventListener('change', (e) => start(e.target.value));
start($('backend-select').value);
