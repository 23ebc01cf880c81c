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
let background = null;   // a picked or uploaded digit (784 values) under the strokes

function redraw() {
  ink.clearRect(0, 0, pad.width, pad.height);
  if (background) {
    const small = new OffscreenCanvas(28, 28);
    const img = new ImageData(28, 28);
    background.forEach((v, i) => img.data.set([255, 255, 255, Math.round(255 * Math.min(1, Math.max(0, v)))], 4 * i));
    small.getContext('2d').putImageData(img, 0, 0);
    ink.imageSmoothingEnabled = true;
    ink.drawImage(small, 0, 0, pad.width, pad.height);
  }
  for (const s of strokes) extend(s, 0);
}

// Draws stroke `s` from point `from` on: while drawing, only the new segment is drawn.
function extend(s, from) {
  ink.lineCap = ink.lineJoin = 'round';
  ink.lineWidth = 22;
  ink.strokeStyle = '#fff';
  ink.beginPath();
  ink.moveTo(s[from][0], s[from][1]);
  for (let i = from; i < s.length; i++) ink.lineTo(s[i][0], s[i][1]);
  if (s.length === 1) ink.lineTo(s[0][0] + 0.1, s[0][1]);
  ink.stroke();
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener('pointerdown', (e) => {
  pad.setPointerCapture(e.pointerId);
  drawing = [point(e)];
  strokes.push(drawing);
  extend(drawing, 0);
  update();
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const last = drawing.length - 1;
  for (const c of e.getCoalescedEvents?.() ?? [e]) drawing.push(point(c));
  extend(drawing, last);
  update();
});
const end = () => { drawing = null; };
pad.addEventListener('pointerup', end);
pad.addEventListener('pointercancel', end);

$('clear').addEventListener('click', () => { strokes.length = 0; background = null; redraw(); update(); });
$('undo').addEventListener('click', () => { strokes.pop(); redraw(); update(); });

// --- other inputs: the gallery, a random digit, an uploaded picture -----------------------
function useDigit(pixels, message = '') {
  strokes.length = 0;
  background = pixels;
  $('input-message').textContent = message;
  redraw();
  update();
}

let heldout = null;
async function loadGallery() {
  ({ value: heldout } = await ask('heldout'));
  const perClass = new Map();
  heldout.labels.forEach((label, i) => {
    const list = perClass.get(label) ?? [];
    if (list.length < 10) list.push(i);
    perClass.set(label, list);
  });
  for (let c = 0; c < 10; c++) {
    // One class per frame, so that building the gallery never makes a long task.
    await new Promise(requestAnimationFrame);
    const label = document.createElement('span');
    label.className = 'row-label';
    label.textContent = String(c);
    label.setAttribute('aria-hidden', 'true');
    $('gallery').append(label);
    for (const i of perClass.get(c) ?? []) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'digit';
      b.setAttribute('aria-label', `held-out digit ${i}, labelled ${c}`);
      b.title = `held-out #${i}, label ${c}`;
      const cv = document.createElement('canvas');
      cv.width = cv.height = 28;
      const img = new Uint8ClampedArray(784 * 4);
      for (let k = 0; k < 784; k++) {
        const v = heldout.pixels[i * 784 + k];
        img.set([v, v, v, 255], 4 * k);
      }
      cv.getContext('2d').putImageData(new ImageData(img, 28, 28), 0, 0);
      b.append(cv);
      b.addEventListener('click', () => pick(i));
      $('gallery').append(b);
    }
  }
}

function pick(i) {
  const pixels = Float32Array.from(heldout.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
  useDigit(pixels, `held-out digit #${i}, labelled ${heldout.labels[i]}`);
}

$('random').addEventListener('click', () => {
  if (heldout) pick(Math.floor(Math.random() * heldout.labels.length));
});

$('upload').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (!file) return;
  $('input-message').textContent = `reading ${file.name}…`;
  try {
    const { value } = await ask('picture', { file });
    useDigit(value, `uploaded: ${file.name}`);
  } catch (err) {
    $('input-message').textContent = `could not use ${file.name}: ${err.message}`;
  }
});

// --- the update loop: at most one input in flight, the newest one wins -------------------
// `update()` says the drawing changed; `rerun()` says only the settings changed.
let busy = false;
let dirty = false;      // the drawing changed: convert it again
let stale = false;      // the settings changed: explain the current input again

function update() {
  dirty = true;
  if (!busy) loop();
}

function rerun() {
  stale = true;
  if (!busy) loop();
}

async function loop() {
  busy = true;
  while (dirty || stale) {
    const fromDrawing = dirty;
    dirty = stale = false;
    try {
      if (fromDrawing && background && strokes.length === 0) {
        current = background;
        showSeen(current);
      } else if (fromDrawing) {
        const rgba = ink.getImageData(0, 0, pad.width, pad.height).data;
        const gray = new Float32Array(pad.width * pad.height);
        for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i + 3] / 255;
        const { value } = await ask('toMnist', { gray, width: pad.width, height: pad.height }, [gray.buffer]);
        current = value;
        showSeen(current);
      }
      if (current) await explain(current);
    } catch (e) {
      showError(e);
    }
  }
  busy = false;
}

// The explained class: null follows the prediction; a button press pins one.
let pinned = null;
let current = null;   // the last 784-pixel input

async function explain(pixels) {
  const { value: a, backend } = await ask('analyse', {
    pixels, class: pinned ?? -1, composite: composite(), pool: $('pool').value,
    quantile: Number($('quantile').value),
  });
  showPrediction(a.prediction, backend);
  showSaliency(a.saliency, backend);
  showRelevance(a.lrp, backend);
  // A counter tests and embedders can wait on.
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
}

// --- drawing results -------------------------------------------------------------------
function paint(id, rgba, width, height) {
  const c = $(id);
  if (c.width !== width || c.height !== height) { c.width = width; c.height = height; }
  c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
}

function showSeen(pixels) {
  const img = new Uint8ClampedArray(784 * 4);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
    img.set([v, v, v, 255], 4 * i);
  }
  paint('seen', img, 28, 28);
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

  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = String(c);
  b.setAttribute('aria-pressed', 'false');
  b.setAttribute('aria-label', `explain class ${c}`);
  b.addEventListener('click', () => { pinned = pinned === c ? null : c; rerun(); });
  $('class-buttons').append(b);

  const o = document.createElement('option');
  o.value = o.textContent = String(c);
  $('cm-class').append(o);

  const f = document.createElement('figure');
  const cv = document.createElement('canvas');
  cv.width = cv.height = 28;
  cv.className = 'map small';
  cv.id = `cm-row-${c}`;
  cv.setAttribute('aria-label', `class model of ${c}`);
  const cap = document.createElement('figcaption');
  cap.id = `cm-row-${c}-caption`;
  cap.textContent = String(c);
  f.append(cv, cap);
  $('cm-row').append(f);
}
$('cm-class').value = '8';

function showPrediction(p, backend) {
  $('prediction').textContent = String(p.predicted);
  p.probabilities.forEach((q, c) => {
    bars[c].fill.style.width = `${(100 * q).toFixed(1)}%`;
    bars[c].value.textContent = q.toFixed(3);
    bars[c].row.classList.toggle('top', c === p.predicted);
  });
  [...$('class-buttons').children].forEach((b, c) => b.setAttribute('aria-pressed', String(c === p.class)));
  $('prediction-meta').textContent = `${backend} · ${p.ms.toFixed(1)} ms`;
}

function showSaliency(s, backend) {
  for (const m of ['gradient', 'deconvnet', 'guided']) paint(`map-${m}`, s.methods[m].rgba, 28, 28);
  paint('map-signed', s.signed, 28, 28);
  showLocalisation(s.localisation);
  $('saliency-meta').textContent = `${backend} · ${s.ms.toFixed(1)} ms (prediction and three maps)`;
}

function showLocalisation(l) {
  const c = $('map-box');
  const ctx = c.getContext('2d');
  const small = new OffscreenCanvas(28, 28);
  small.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(l.rgba), 28, 28), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, c.width, c.height);
  const k = c.width / 28;
  if (l.box) {
    ctx.strokeStyle = '#ff2d95';
    ctx.lineWidth = 3;
    ctx.strokeRect(l.box.x * k, l.box.y * k, l.box.width * k, l.box.height * k);
    $('box-value').textContent = `box x ${l.box.x}, y ${l.box.y}, ${l.box.width}×${l.box.height}`;
  } else {
    $('box-value').textContent = 'no pixel above the threshold';
  }
  c.dataset.box = l.box ? `${l.box.x},${l.box.y},${l.box.width},${l.box.height}` : '';
}

function showRelevance(r, backend) {
  for (const l of r.layers) {
    paint(`lrp-${l.name}`, l.rgba, l.width, l.height);
    $(`lrp-${l.name}-sum`).textContent = `ΣR/S_c = ${(l.total / r.score).toFixed(3)}`;
  }
  $('lrp-meta').textContent = `S_c = ${r.score.toFixed(2)} · ${backend} · ${r.ms.toFixed(1)} ms`;
}

// --- LRP controls ----------------------------------------------------------------------
const RULES = ['zbox', 'zero', 'epsilon', 'gamma', 'zplus', 'alpha2beta1', 'wsquare', 'flat'];
const LAYERS = ['conv1', 'conv2', 'fc1', 'fc2'];
const DEFAULT_CUSTOM = ['zbox', 'gamma', 'epsilon', 'zero'];
LAYERS.forEach((layer, i) => {
  const label = document.createElement('label');
  label.textContent = layer;
  const sel = document.createElement('select');
  sel.id = `rule-${layer}`;
  label.htmlFor = sel.id;
  for (const r of RULES) {
    const o = document.createElement('option');
    o.value = o.textContent = r;
    sel.append(o);
  }
  sel.value = DEFAULT_CUSTOM[i];
  sel.addEventListener('change', rerun);
  $('custom-rules').append(label, sel);
});
function composite() {
  const v = $('composite').value;
  return v === 'custom' ? LAYERS.map((l) => $(`rule-${l}`).value) : v;
}
$('composite').addEventListener('change', () => {
  $('custom-rules').hidden = $('composite').value !== 'custom';
  rerun();
});
$('pool').addEventListener('change', rerun);

// --- localisation slider: only the threshold changes, so only the localisation re-runs --
$('quantile').addEventListener('input', async () => {
  const q = Number($('quantile').value);
  $('quantile-value').textContent = `${(100 * q).toFixed(1)}%`;
  const { value } = await ask('localise', { quantile: q });
  if (value) showLocalisation(value);
});

// --- class model -----------------------------------------------------------------------
for (const id of ['cm-lambda', 'cm-step', 'cm-steps']) {
  $(id).addEventListener('input', () => { $(`${id}-value`).textContent = $(id).value; });
}
function classOptions(seed = 0) {
  return {
    objective: $('cm-objective').value, start: $('cm-start').value, seed,
    lambda: Number($('cm-lambda').value), step: Number($('cm-step').value),
  };
}
let ascentRun = 0;   // a newer run stops an older one

async function ascend(cls, options, steps, onState) {
  await ask('classModelStart', { class: cls, options });
  let s = null;
  const chunk = 10;
  for (let done = 0; done < steps; done += chunk) {
    ({ value: s } = await ask('classModelStep', { n: Math.min(chunk, steps - done) }));
    if (onState(s) === false) return s;
  }
  return s;
}

function drawCurves(history) {
  const c = $('cm-curves');
  const ctx = c.getContext('2d');
  ctx.clearRect(0, 0, c.width, c.height);
  if (history.length < 2) return;
  const n = history[history.length - 1].steps || 1;
  const scores = history.map((h) => h.score);
  const lo = Math.min(...scores), hi = Math.max(...scores);
  const line = (values, norm, colour, dash) => {
    ctx.beginPath();
    ctx.setLineDash(dash);
    history.forEach((h, i) => {
      const x = (h.steps / n) * (c.width - 4) + 2;
      const y = c.height - 4 - norm(values[i]) * (c.height - 8);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.stroke();
  };
  line(scores, (v) => (v - lo) / (hi - lo || 1), '#2b6cb0', []);
  line(history.map((h) => h.probability), (v) => v, '#d97706', [5, 3]);
  ctx.setLineDash([]);
}

$('cm-run').addEventListener('click', async () => {
  const run = ++ascentRun;
  const cls = Number($('cm-class').value);
  const history = [];
  const t0 = performance.now();
  try {
    const s = await ascend(cls, classOptions(), Number($('cm-steps').value), (s) => {
      if (run !== ascentRun) return false;
      history.push(s);
      paint('cm-image', s.rgba, 28, 28);
      $('cm-range').textContent = `display: black = ${s.lo.toFixed(2)}, white = ${s.hi.toFixed(2)}`;
      $('cm-stepcount').textContent = String(s.steps);
      $('cm-score').textContent = s.score.toFixed(2);
      $('cm-prob').textContent = s.probability.toFixed(4);
      $('cm-objective-value').textContent = s.objective.toFixed(2);
      drawCurves(history);
      return true;
    });
    if (run === ascentRun) {
      $('cm-meta').textContent = `${document.body.dataset.backend} · ${(performance.now() - t0).toFixed(0)} ms for ${s.steps} steps`;
      $('cm-image').dataset.done = String(s.steps);
    }
  } catch (e) {
    $('cm-meta').textContent = `error: ${e.message}`;
  }
});

$('cm-all').addEventListener('click', async () => {
  const run = ++ascentRun;
  const t0 = performance.now();
  try {
    for (let c = 0; c < 10 && run === ascentRun; c++) {
      const s = await ascend(c, classOptions(), Number($('cm-steps').value), () => run === ascentRun);
      paint(`cm-row-${c}`, s.rgba, 28, 28);
      $(`cm-row-${c}-caption`).textContent = `${c}: p ${s.probability.toFixed(3)}`;
    }
    $('cm-meta').textContent = `ten classes in ${(performance.now() - t0).toFixed(0)} ms`;
  } catch (e) {
    $('cm-meta').textContent = `error: ${e.message}`;
  }
});

let legendsDrawn = false;

// --- backend ---------------------------------------------------------------------------
async function start(backend) {
  $('backend-status').textContent = `starting ${backend}…`;
  try {
    await ask('init', { backend });
    if (!legendsDrawn) {
      const { value: l } = await ask('legend');
      paint('legend-sequential', l.sequential, 64, 1);
      paint('legend-signed', l.diverging, 64, 1);
      paint('legend-lrp', l.diverging, 64, 1);
      legendsDrawn = true;
    }
    if (!heldout) await loadGallery();
    update();
  } catch (e) {
    showError(e);
  }
}
$('backend-select').addEventListener('change', (e) => start(e.target.value));
start($('backend-select').value);
