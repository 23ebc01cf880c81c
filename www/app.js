// The page: UI only. All computation happens in the worker (www/worker.js) in Rust/wasm.

import { startWorker } from './support.js';
import { setupExports, showMap, forgetMaps, showTable } from './export.js';
import * as share from './state.js';
import * as evaluation from './evaluation.js';
import { plotCurves } from './curves.js';

const $ = (id) => document.getElementById(id);
// An old browser (no wasm SIMD, OffscreenCanvas or module workers) gets no worker: every call
// fails with what it lacks, and the status line says it.
let worker = null;
let unsupported = null;
try {
  worker = startWorker(new URL('./worker.js', import.meta.url));
} catch (e) {
  unsupported = e;
}
// Offline use: sw.js keeps a copy of the page's files for when the network is off (see there).
// Where service workers are missing or refused (file://, a private window), the page is as
// before: online only.
const offline = worker && navigator.serviceWorker
  ? navigator.serviceWorker.register(new URL('../sw.js', import.meta.url)).catch(() => null) : null;
let keptOffline = false;
/** Once, after the first result (so that it never delays it): sw.js is asked to fetch its copy
 * again, with the shipped models' files too (the page fetches a model's only when it is chosen). */
function keepOffline() {
  if (keptOffline || !offline) return;
  keptOffline = true;
  const keep = models.flatMap((m) => Object.values(m.files).map((f) => new URL(`assets/${m.name}/${f}`, document.baseURI).href));
  offline.then((registration) => registration && navigator.serviceWorker.ready)
    .then((ready) => ready?.active?.postMessage({ keep }));
}

// --- talking to the worker -------------------------------------------------------------
let nextId = 0;
const pending = new Map();
if (worker) worker.onmessage = ({ data }) => {
  if (data.event === 'backend') return showBackend(data.backend, data.reason);
  const p = pending.get(data.id);
  pending.delete(data.id);
  if (data.ok) p.resolve({ value: data.value, ms: data.ms, backend: data.backend });
  else p.reject(workerError(data));
};
/** A failed call as an Error with the wasm's `name` (ArgumentError, …) and `argument`. */
function workerError({ error, name, argument }) {
  const e = new Error(error);
  if (name) e.name = name;
  if (argument) e.argument = argument;
  return e;
}

function ask(op, args = {}, transfer = []) {
  if (!worker) return Promise.reject(unsupported);
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, args }, transfer);
  });
}
// Exports, the pixel readout and the shared colour scale (www/export.js) read the maps shown.
setupExports(ask, () => ({ pixels: current, shape: shape() }));
// The evaluation panel (www/evaluation.js): its live parts are scheduled with the slower panels.
evaluation.setupEvaluation({ ask, later, model: () => model, heldout: () => heldout, nameOf: (c) => nameOf(c) });

// --- the model: one of the wasm's `models()`; its panels are built from its catalogue -----
// What one image of a data set is called.
const NOUNS = { mnist: { noun: 'digits', one: 'digit' }, fashion: { noun: 'clothes', one: 'item' } };
let models = [];   // the shipped models, {name, title, dataset, embedded, files}
const params = new URLSearchParams(location.search);
let model = params.get('model') ?? 'mnist';
if (['auto', 'cpu', 'webgpu'].includes(params.get('backend'))) $('backend-select').value = params.get('backend');
// The user's own model, once one is loaded: {model: "user-N" (the worker's name), name (the
// file's), format, notes}. It has no data set: no gallery, no mean image.
let user = null;
const isUser = (m) => m.startsWith('user-');
// The current model's catalogue (worker op 'describe'): layers, input, class names, sanity
// stages, LRP rules and presets. Null until the first one arrives.
let about = null;
let names = Array.from({ length: 10 }, (_, c) => String(c));   // the class names of `model`
const nameOf = (c) => names[c] ?? String(c);
const nouns = () => (isUser(model) ? { noun: 'images', one: 'image' }
  : NOUNS[models.find((m) => m.name === model)?.dataset ?? 'mnist'] ?? { noun: 'images', one: 'image' });
/** [channels, height, width] of the model's input. */
const shape = () => (about ? about.input : [1, 28, 28]);
/** [height, width] of the model's input: the size of every input-sized map. */
const side = () => shape().slice(1);
/** The number of input channels: 1 (grey: the pad draws) or 3 (colour). */
const channels = () => shape()[0];
const sameShape = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
const an = (word) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);

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
let background = null;   // a picked or uploaded image (the model's input: c·h·w values) under the strokes
let held = null;         // {index, pixels}: the held-out image picked, while it is the input unchanged
// The page's opening image (its pixels) while it is shown: not chosen by the reader, so the first
// stroke replaces it where a picked or uploaded image stays under the strokes.
let opening = null;

/** RGBA bytes of an image of the model's input shape: grey as white ink of that opacity on the
 * black pad (or `opaque`: grey levels), colour as it is. */
function imageRgba(pixels, opaque = false) {
  const [c, h, w] = shape();
  const n = h * w;
  const rgba = new Uint8ClampedArray(n * 4);
  const byte = (v) => Math.round(255 * Math.min(1, Math.max(0, v)));
  for (let i = 0; i < n; i++) {
    if (c === 3) rgba.set([byte(pixels[i]), byte(pixels[n + i]), byte(pixels[2 * n + i]), 255], 4 * i);
    else if (opaque) rgba.set([byte(pixels[i]), byte(pixels[i]), byte(pixels[i]), 255], 4 * i);
    else rgba.set([255, 255, 255, byte(pixels[i])], 4 * i);
  }
  return rgba;
}

function redraw() {
  ink.clearRect(0, 0, pad.width, pad.height);
  if (background) {
    const [h, w] = side();
    const small = new OffscreenCanvas(w, h);
    small.getContext('2d').putImageData(new ImageData(imageRgba(background), w, h), 0, 0);
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

// Who holds the stroke being drawn: a pointer's id (mouse, touch, pen) or 'keys'.
let drawer = null;

/** Starts a stroke at `at` (canvas pixels); false where the pad does not draw (colour models). */
function begin(at, by) {
  if (channels() !== 1) {
    $('input-message').textContent = 'The pad draws grey ink: for a colour model, upload a picture or press “random noise”.';
    return false;
  }
  if (drawing) end();
  if (opening && background === opening && !strokes.length) {
    background = null;
    $('input-message').textContent = '';
    redraw();
  }
  drawer = by;
  drawing = [at];
  strokes.push(drawing);
  extend(drawing, 0);
  update();
  return true;
}

function end() {
  drawing = null;
  drawer = null;
  kick();
  shareLater();
}

pad.addEventListener('pointerdown', (e) => {
  if (pen.down) liftPen();
  if (begin(point(e), e.pointerId)) pad.setPointerCapture(e.pointerId);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing || drawer !== e.pointerId) return;
  const last = drawing.length - 1;
  for (const c of e.getCoalescedEvents?.() ?? [e]) drawing.push(point(c));
  extend(drawing, last);
  update();
});
const endPointer = (e) => { if (drawer === e.pointerId) end(); else kick(); };
pad.addEventListener('pointerup', endPointer);
pad.addEventListener('pointercancel', endPointer);

// --- drawing with the keyboard: the arrow keys move a pen, Space puts it down or lifts it -----
const pen = { x: pad.width / 2, y: pad.height / 2, down: false };
const cursor = $('pen-cursor');
const PEN_STEP = 8, PEN_BIG_STEP = 24;   // canvas pixels (the pad is 280 × 280)

function showPen() {
  cursor.hidden = false;
  cursor.style.left = `${(100 * pen.x) / pad.width}%`;
  cursor.style.top = `${(100 * pen.y) / pad.height}%`;
  cursor.classList.toggle('down', pen.down);
}

/** Where the pen is, in words: rows and columns of the model's input, counted from 1. */
function penPlace() {
  const [h, w] = side();
  const row = Math.min(h, 1 + Math.floor((pen.y / pad.height) * h));
  const col = Math.min(w, 1 + Math.floor((pen.x / pad.width) * w));
  return `row ${row}, column ${col}`;
}

function liftPen() {
  pen.down = false;
  if (drawer === 'keys') end();
  showPen();
}

pad.addEventListener('keydown', (e) => {
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key in moves) {
    e.preventDefault();
    const [dx, dy] = moves[e.key];
    const step = e.shiftKey ? PEN_BIG_STEP : PEN_STEP;
    pen.x = Math.min(pad.width, Math.max(0, pen.x + dx * step));
    pen.y = Math.min(pad.height, Math.max(0, pen.y + dy * step));
    if (pen.down && drawer === 'keys') {
      const last = drawing.length - 1;
      drawing.push([pen.x, pen.y]);
      extend(drawing, last);
      update();
    }
    showPen();
  } else if (e.key === ' ' || e.key === 'Spacebar') {
    e.preventDefault();
    if (pen.down) {
      liftPen();
      $('pen-status').textContent = `pen up at ${penPlace()}`;
    } else {
      pen.down = begin([pen.x, pen.y], 'keys');
      showPen();
      if (pen.down) $('pen-status').textContent = `pen down at ${penPlace()}: the arrow keys draw`;
    }
  } else if (e.key === 'Escape' && pen.down) {
    liftPen();
    $('pen-status').textContent = `pen up at ${penPlace()}`;
  }
});
pad.addEventListener('focus', () => { if (pad.matches(':focus-visible')) showPen(); });
pad.addEventListener('blur', () => {
  if (pen.down) liftPen();
  cursor.hidden = true;
});

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
let galleryFirst = 0;   // the gallery's first image (the first of class 0)
async function loadGallery(prefetched = null) {
  const m = model;
  const value = prefetched ?? (await ask('heldout', { model: m })).value;
  if (m !== model) return;
  heldout = value;
  const gallery = $('gallery');
  gallery.replaceChildren();
  delete gallery.dataset.model;
  const perClass = new Map();
  heldout.labels.forEach((label, i) => {
    const list = perClass.get(label) ?? [];
    if (list.length < 10) list.push(i);
    perClass.set(label, list);
  });
  galleryFirst = perClass.get(0)?.[0] ?? 0;
  const { one } = nouns();
  for (let c = 0; c < names.length; c++) {
    // One class per frame, so that building the gallery never makes a long task.
    await new Promise(requestAnimationFrame);
    if (m !== model) return;
    const label = document.createElement('span');
    label.className = 'row-label';
    label.textContent = nameOf(c);
    label.setAttribute('aria-hidden', 'true');
    gallery.append(label);
    for (const i of perClass.get(c) ?? []) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'digit';
      b.setAttribute('aria-label', `held-out ${one} ${i}, labelled ${nameOf(c)}`);
      b.title = `held-out #${i}, label ${nameOf(c)}`;
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
      gallery.append(b);
    }
  }
  gallery.dataset.model = m;
  evaluation.relabel();
}

/** Shows held-out image `i`; `first`: as the page's opening image, which drawing replaces. */
function pick(i, first = false) {
  const pixels = Float32Array.from(heldout.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
  held = { index: i, pixels };
  opening = first ? pixels : null;
  useDigit(pixels, `held-out ${nouns().one} #${i}, labelled ${nameOf(heldout.labels[i])}${first ? ' (draw to replace it)' : ''}`);
}

$('random').addEventListener('click', () => {
  if (isUser(model)) {
    // A user's model has no held-out images: uniform noise in [0, 1] at its input shape.
    const [c, h, w] = shape();
    useDigit(Float32Array.from({ length: c * h * w }, Math.random), 'random noise');
  } else if (heldout) {
    pick(Math.floor(Math.random() * heldout.labels.length));
  }
});

$('upload').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (!file) return;
  $('input-message').textContent = `reading ${file.name}…`;
  const m = model;
  try {
    // Grey models get it in MNIST form; colour models the picture itself, resized.
    const { value } = await ask('picture', { file, input: shape() });
    if (m !== model) { $('input-message').textContent = ''; return; }
    useDigit(value, `uploaded: ${file.name}`);
  } catch (err) {
    $('input-message').textContent = `could not use ${file.name}: ${err.message}`;
  }
});

// --- the update loop: at most one input in flight, the newest one wins -------------------
// `update()` says the drawing changed; `rerun()` says only the settings changed. The slower
// panels (more attributions, faithfulness, sanity) come after the first ones are painted, one
// worker call at a time, and only once the input has settled: never while the pen is down,
// and a newer input is always served before them.
let busy = false;
let dirty = false;      // the drawing changed: convert it again
let stale = false;      // the settings changed: explain the current input again
const EXTRAS = ['attributions', 'faithfulness', 'sanity', ...evaluation.LIVE];
const todo = new Set(); // slower panels still to compute for the input last explained
let settleAt = 0;       // and not before this time (performance.now())
let settleTimer = 0;
const SETTLE_MS = 400;  // after a drawn input: how long the input must stay still

function update() {
  dirty = true;
  if (!busy) loop();
}

function rerun() {
  stale = true;
  if (!busy) loop();
}

/** Asks for slower panels to be (re)computed once the input settles. */
function later(parts, delay = 0) {
  if (!explained) return;
  for (const p of parts) {
    todo.add(p);
    $(`${p}-meta`).closest('.panel').classList.add('pending');
  }
  settleAt = Math.max(settleAt, performance.now() + delay);
  kick();
}

function kick() {
  clearTimeout(settleTimer);
  if (busy) return;
  if (dirty || stale) { loop(); return; }
  if (!todo.size || drawing) return;   // pointerup kicks again
  const wait = settleAt - performance.now();
  if (wait > 0) settleTimer = setTimeout(kick, wait);
  else loop();
}

async function loop() {
  busy = true;
  clearTimeout(settleTimer);
  for (;;) {
    if (dirty || stale) {
      const fromDrawing = dirty;
      dirty = stale = false;
      try {
        // Explained at k/255, as a share link holds it (state.js): a link restores these very values.
        if (fromDrawing && background && strokes.length === 0) {
          current = share.quantise(background);
          showSeen(current);
        } else if (fromDrawing) {
          const rgba = ink.getImageData(0, 0, pad.width, pad.height).data;
          const gray = new Float32Array(pad.width * pad.height);
          for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i + 3] / 255;
          const { value } = await ask('toMnist', { gray, width: pad.width, height: pad.height, input: shape() }, [gray.buffer]);
          current = share.quantise(value);
          showSeen(current);
        }
        if (current) await explain(current, fromDrawing && strokes.length > 0 ? SETTLE_MS : 0);
      } catch (e) {
        showError(e);
      }
      continue;
    }
    if (!todo.size || drawing || performance.now() < settleAt) break;
    const part = EXTRAS.find((p) => todo.has(p));
    todo.delete(part);
    try {
      await extra(part);
    } catch (e) {
      console.warn(e);
      $(`${part}-meta`).textContent = `error: ${e.message}`;
    }
  }
  busy = false;
  kick();
}

// The explained class: null follows the prediction; a button press pins one.
let pinned = null;
let current = null;   // the last input (the model's input size)
let explained = false;  // the worker holds an analysis of an input with ink

async function explain(pixels, settle) {
  const m = model;
  const { value: a, backend } = await ask('analyse', {
    model: m, pixels, class: pinned ?? -1, composite: composite(), pool: $('pool').value,
    quantile: Number($('quantile').value),
  });
  if (m !== model) return;   // the model changed meanwhile: its own input follows
  showPrediction(a.prediction, backend);
  showSaliency(a.saliency, backend, a.prediction.class);
  showGradientInput(a.gradientInput, backend, a.prediction.class);
  showRelevance({ ...a.lrp, class: a.prediction.class }, backend);
  // A counter tests and embedders can wait on.
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
  keepOffline();
  shareLater();
  explained = pixels.some((v) => v > 0);
  todo.clear();
  if (explained) {
    for (const p of EXTRAS) todo.add(p);
    settleAt = performance.now() + settle;
    for (const p of EXTRAS) {
      // What they show is of the input before: dimmed until they catch up.
      $(`${p}-meta`).textContent = `class ${nameOf(a.prediction.class)} · waiting for the input to settle…`;
      $(`${p}-meta`).closest('.panel').classList.add('pending');
    }
  } else {
    clearExtras('draw or pick an image first');
  }
}

/** Resolves once the next frame has been rendered. */
const rendered = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));

// One of the slower panels, for the input and class of the last analysis.
async function extra(part) {
  const m = model;
  $(`${part}-meta`).textContent = 'computing…';
  // What is on screen is rendered first: the worker's computing then competes with no frame.
  await rendered();
  if (dirty || stale) { todo.add(part); return; }
  const { value, backend } = evaluation.LIVE.includes(part) ? await evaluation.request(part)
    : await ask(part, part === 'sanity' ? {} : extraOptions());
  // Another model, or a newer input or class waiting: these results are already out of date.
  if (m !== model || value.model !== model || dirty || stale) return;
  if (part === 'attributions') showAttributions(value, backend);
  else if (part === 'faithfulness') showFaithfulness(value, backend);
  else if (part === 'sanity') showSanity(value, backend);
  else evaluation.show(part, value, backend);
  $(`${part}-meta`).closest('.panel').classList.remove('pending');
  document.body.dataset[part] = String(Number(document.body.dataset[part] ?? 0) + 1);
}

/** Blanks the slower panels: what they showed belongs to an input no longer shown. */
function clearExtras(why) {
  for (const c of document.querySelectorAll('#map-smoothgrad, #map-ig, #faith-plots canvas, #sanity-grid canvas')) {
    c.getContext('2d').clearRect(0, 0, c.width, c.height);
  }
  for (const o of document.querySelectorAll('#smoothgrad-meta, #ig-meta, #faith-plots output, #sanity-grid output')) o.textContent = '';
  $('ig-completeness').textContent = '–';
  describeMap('map-smoothgrad', `SmoothGrad map: ${why}`);
  describeMap('map-ig', `Integrated Gradients map: ${why}`);
  for (const c of document.querySelectorAll('#faith-plots canvas, #sanity-grid canvas')) {
    c.setAttribute('aria-label', `${c.getAttribute('aria-label').split(':')[0]}: ${why}`);
  }
  $('faith-table').tBodies[0].replaceChildren();
  forgetMaps(['map-smoothgrad', 'map-ig', ...[...document.querySelectorAll('#sanity-grid canvas')].map((c) => c.id)]);
  showTable('faith-table', null);
  showTable('sanity-grid', null);
  evaluation.clear();
  for (const p of EXTRAS) {
    $(`${p}-meta`).textContent = why;
    $(`${p}-meta`).closest('.panel').classList.remove('pending');
  }
}

function extraOptions() {
  return {
    smoothGrad: { samples: Number($('sg-samples').value), sigma: Number($('sg-sigma').value) },
    integratedGradients: { steps: Number($('ig-steps').value), baseline: $('ig-baseline').value },
    k: Number($('faith-k').value),
  };
}

// --- drawing results -------------------------------------------------------------------
function paint(id, rgba, width, height) {
  const c = $(id);
  if (c.width !== width || c.height !== height) { c.width = width; c.height = height; }
  c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
}

function showSeen(pixels) {
  const [c, h, w] = shape();
  paint('seen', imageRgba(pixels, true), w, h);
  const place = extent(perPixel(pixels, c), w, h);
  $('seen').setAttribute('aria-label', `The ${h}×${w}${c === 3 ? ' colour' : ''} image the network sees: `
    + (place ? `${c === 3 ? 'bright' : 'ink'} at ${place}` : 'blank'));
}

// --- text alternatives: what a map shows and where it is strongest ------------------------
// Summaries of the values the worker sent with each map (nothing is computed again here).

/** One value per pixel of a c·h·w image (the sum over the channels). */
function perPixel(pixels, c) {
  if (c === 1) return pixels;
  const n = pixels.length / c;
  return Float32Array.from({ length: n }, (_, i) => { let v = 0; for (let k = 0; k < c; k++) v += pixels[k * n + i]; return v; });
}

/** "rows 10–14" or "row 12": `n` rows from `from` (counted from 0), counted from 1. */
const lines = (word, from, n) => (n === 1 ? `${word} ${from + 1}` : `${word}s ${from + 1}–${from + n}`);

/** Where `values` (h × w, row-major) is strongest by `score` (only what scores above 0 counts):
 * the square window with the largest total, 5 × 5 on a 28 × 28 map (in proportion on others),
 * as "rows 10–14, columns 12–16"; on a row of units (h = 1), the three best units. Null when
 * nothing scores above 0. */
function strongest(values, w, h, score) {
  if (h === 1) {
    const best = [...values.keys()].filter((i) => score(values[i]) > 0)
      .sort((a, b) => score(values[b]) - score(values[a])).slice(0, 3);
    return best.length ? `${best.length === 1 ? 'unit' : 'units'} ${best.map((i) => i + 1).join(', ')}` : null;
  }
  const k = Math.max(1, Math.round((Math.min(w, h) * 5) / 28));
  // Sums over every k × k window from a summed-area table.
  const W = w + 1;
  const table = new Float64Array(W * (h + 1));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = Math.max(0, score(values[y * w + x]));
      table[(y + 1) * W + x + 1] = v + table[y * W + x + 1] + table[(y + 1) * W + x] - table[y * W + x];
    }
  }
  let best = 0, at = null;
  for (let y = 0; y + k <= h; y++) {
    for (let x = 0; x + k <= w; x++) {
      const sum = table[(y + k) * W + x + k] - table[y * W + x + k] - table[(y + k) * W + x] + table[y * W + x];
      if (sum > best) { best = sum; at = [y, x]; }
    }
  }
  return at && `${lines('row', at[0], k)}, ${lines('column', at[1], k)}`;
}

/** "rows 5–24, columns 8–20": the rows and columns where `values` (h × w) is above 0. */
function extent(values, w, h) {
  let [top, bottom, left, right] = [h, -1, w, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!(values[y * w + x] > 0)) continue;
      [top, bottom, left, right] = [Math.min(top, y), Math.max(bottom, y), Math.min(left, x), Math.max(right, x)];
    }
  }
  return bottom < 0 ? null : `${lines('row', top, bottom - top + 1)}, ${lines('column', left, right - left + 1)}`;
}

/** Where a magnitude map is strongest. */
const magnitudeText = (values, w, h) => {
  const place = strongest(values, w, h, Math.abs);
  return place ? `strongest at ${place}` : 'zero everywhere';
};

/** Where a signed map is most positive and most negative. */
function signedText(values, w, h, [plus, minus] = ['positive', 'negative']) {
  const up = strongest(values, w, h, (v) => v);
  const down = strongest(values, w, h, (v) => -v);
  if (!up && !down) return 'zero everywhere';
  return `${plus} strongest at ${up ?? 'no pixel'}; ${minus} strongest at ${down ?? 'no pixel'}`;
}

/** Sets the text alternative of canvas `id` (a role="img"). */
const describeMap = (id, text) => $(id).setAttribute('aria-label', text);

// One probability bar, class button, class-model option and class-model canvas per class,
// made again when a model has another number of classes.
const bars = [];
function buildClasses() {
  if (bars.length === names.length) return;
  bars.length = 0;
  for (const id of ['probabilities', 'class-buttons', 'cm-class', 'cm-row']) $(id).replaceChildren();
  for (let c = 0; c < names.length; c++) addClass(c);
  $('cm-class').value = String(Math.min(8, names.length - 1));
}
function addClass(c) {
  const row = document.createElement('div');
  row.className = 'bar';
  const label = document.createElement('span');
  label.className = 'label';
  const track = document.createElement('span');
  track.className = 'track';
  const fill = document.createElement('span');
  fill.className = 'fill';
  track.append(fill);
  const value = document.createElement('span');
  value.className = 'value';
  row.append(label, track, value);
  $('probabilities').append(row);
  bars.push({ row, label, fill, value });

  const b = document.createElement('button');
  b.type = 'button';
  b.setAttribute('aria-pressed', 'false');
  b.addEventListener('click', () => { pinned = pinned === c ? null : c; rerun(); });
  $('class-buttons').append(b);

  const o = document.createElement('option');
  o.value = String(c);
  $('cm-class').append(o);

  const f = document.createElement('figure');
  const cv = document.createElement('canvas');
  cv.width = cv.height = 28;
  cv.className = 'map small';
  cv.id = `cm-row-${c}`;
  cv.setAttribute('role', 'img');
  const cap = document.createElement('figcaption');
  cap.id = `cm-row-${c}-caption`;
  f.append(cv, cap);
  $('cm-row').append(f);
}

/** Every label that names a class, the gallery's words and the URL, for `model`. */
function relabel() {
  const { noun, one } = nouns();
  buildClasses();
  bars.forEach(({ label }, c) => { label.textContent = nameOf(c); });
  [...$('class-buttons').children].forEach((b, c) => {
    b.textContent = nameOf(c);
    b.setAttribute('aria-label', `explain class ${nameOf(c)}`);
  });
  [...$('cm-class').options].forEach((o, c) => { o.textContent = nameOf(c); });
  for (let c = 0; c < names.length; c++) {
    $(`cm-row-${c}`).setAttribute('aria-label', `class model of ${nameOf(c)}`);
    $(`cm-row-${c}-caption`).textContent = nameOf(c);
  }
  $('gallery-noun').textContent = noun;
  const mine = isUser(model);
  document.body.dataset.model = mine ? 'user' : model;
  $('random').textContent = mine ? 'random noise' : `random ${one}`;
  $('cm-start-dataset').textContent = `a held-out ${one}`;
  // A user's model has no data set: no gallery, no mean image to start from or integrate from.
  $('gallery-title').hidden = $('gallery').hidden = mine;
  for (const [select, ids] of [['cm-start', ['cm-start-mean', 'cm-start-dataset']], ['ig-baseline', ['ig-baseline-mean']]]) {
    for (const id of ids) $(id).disabled = mine;
    if (mine && ids.includes($(select).selectedOptions[0]?.id)) $(select).selectedIndex = 0;
  }
  const [c, h, w] = shape();
  pad.classList.toggle('locked', c !== 1);
  pad.setAttribute('aria-label', c === 1 ? `Drawing area: draw ${an(one)} with mouse, touch or pen`
    : 'The input picture (a colour model: upload a picture or use random noise)');
  $('seen').setAttribute('aria-label', `The ${h}×${w}${c === 3 ? ' colour' : ''} image the network sees`);
  $('seen-caption').textContent = !mine || sameShape(shape(), [1, 28, 28])
    ? '28×28, as the network sees it (cropped, scaled to 20 px, centred by mass)'
    : c === 1 ? `${h}×${w}, as the network sees it (in MNIST form, then resized)`
      : `${h}×${w} in colour, as the network sees it (the picture resized)`;
  $('model-select').value = mine ? 'user' : model;
  evaluation.relabel();
  $('user-model').hidden = !mine && $('model-select').value !== 'user';
  $('classes-legend').textContent = `explain class (why this class? why not ${nameOf(Math.min(3, names.length - 1))}?)`;
  const url = new URL(location.href);
  if (model === 'mnist' || mine) url.searchParams.delete('model');
  else url.searchParams.set('model', model);
  if (url.href !== location.href) history.replaceState(null, '', url);
}

function showPrediction(p, backend) {
  $('prediction').textContent = nameOf(p.predicted);
  p.probabilities.forEach((q, c) => {
    bars[c].fill.style.width = `${(100 * q).toFixed(1)}%`;
    bars[c].value.textContent = q.toFixed(3);
    bars[c].row.classList.toggle('top', c === p.predicted);
  });
  $('probabilities').setAttribute('aria-label', `class probabilities: ${Array.from(p.probabilities, (q, c) => `${nameOf(c)} ${q.toFixed(2)}`).join(', ')}`);
  [...$('class-buttons').children].forEach((b, c) => b.setAttribute('aria-pressed', String(c === p.class)));
  $('prediction-meta').textContent = `${backend} · ${p.ms.toFixed(1)} ms`;
}

const SALIENCY_NAMES = { gradient: 'Gradient saliency', deconvnet: 'DeconvNet map', guided: 'Guided backprop saliency' };

function showSaliency(s, backend, cls) {
  const [h, w] = side();
  for (const m of ['gradient', 'deconvnet', 'guided']) {
    showMap(`map-${m}`, { ...s.methods[m], width: w, height: h, kind: 'sequential', group: 'gradient', name: SALIENCY_NAMES[m], file: m, cls, pixels: true });
    describeMap(`map-${m}`, `${SALIENCY_NAMES[m]} for class ${nameOf(cls)}: ${magnitudeText(s.methods[m].values, w, h)}`);
  }
  showMap('map-signed', { values: s.signedValues, rgba: s.signed, width: w, height: h, kind: 'diverging', group: 'gradient', name: 'Signed gradient', file: 'signed-gradient', cls, pixels: true });
  describeMap('map-signed', `Signed gradient for class ${nameOf(cls)}: ${signedText(s.signedValues, w, h)}`);
  showLocalisation(s.localisation, cls);
  $('saliency-meta').textContent = `${backend} · ${s.ms.toFixed(1)} ms (prediction and three maps)`;
}

let localised = 0;   // the class of the last localisation
function showLocalisation(l, cls = localised) {
  localised = cls;
  const c = $('map-box');
  const ctx = c.getContext('2d');
  const [h, w] = side();
  const small = new OffscreenCanvas(w, h);
  small.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(l.rgba), w, h), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, c.width, c.height);
  const k = c.width / w;
  if (l.box) {
    ctx.strokeStyle = '#ff2d95';
    ctx.lineWidth = 3;
    ctx.strokeRect(l.box.x * k, l.box.y * k, l.box.width * k, l.box.height * k);
    $('box-value').textContent = `box x ${l.box.x}, y ${l.box.y}, ${l.box.width}×${l.box.height}`;
  } else {
    $('box-value').textContent = 'no pixel above the threshold';
  }
  c.dataset.box = l.box ? `${l.box.x},${l.box.y},${l.box.width},${l.box.height}` : '';
  const q = `${(100 * Number($('quantile').value)).toFixed(1)}%`;
  describeMap('map-box', `Localisation for class ${nameOf(cls)}: `
    + (l.box ? `the region where the gradient saliency is above its ${q} quantile, boxed at ${lines('row', l.box.y, l.box.height)}, `
      + `${lines('column', l.box.x, l.box.width)}` : `no pixel above the ${q} quantile of the gradient saliency`));
}

function showRelevance(r, backend) {
  lrpShown = r;
  r.layers.forEach((l, i) => {
    const c = $(`lrp-${l.name}`);
    if (!c) return;
    // The pixels' relevance compares with the other attributions; a deeper layer's with nothing.
    showMap(c.id, { ...l, shape: l.perUnit ? [l.width] : [l.height, l.width], kind: 'diverging', group: i === 0 ? 'attribution' : null,
                    name: i === 0 ? 'LRP at the pixels' : `LRP entering ${l.name}`, file: `lrp-${l.name}`, cls: r.class, pixels: i === 0 });
    c.classList.toggle('wide', l.perUnit);
    const shape = i === 0 ? 'pixels' : l.perUnit ? `${l.width} units` : `${l.width}×${l.height}`;
    $(`lrp-${l.name}-shape`).textContent = `${l.name} in (${shape})`;
    const where = signedText(l.values, l.width, l.height, ['for the class', 'against it']);
    describeMap(c.id, (i === 0 ? `LRP relevance at the pixels for class ${nameOf(r.class)}`
      : `LRP relevance entering ${l.name} (${l.perUnit ? `${l.width} units, one bar each` : `${l.width}×${l.height}`}) for class ${nameOf(r.class)}`)
      + `: ${where}${l.channels ? '; activate to show it per channel' : ''}`);
    $(`lrp-${l.name}-sum`).textContent = `ΣR/S_c = ${(l.total / r.score).toFixed(3)}`;
  });
  $('lrp-meta').textContent = `S_c = ${r.score.toFixed(2)} · ${backend} · ${r.ms.toFixed(1)} ms`;
  if (channelsOf) showChannels();
}

// --- LRP per channel: a layer's map opens its channels; a channel opens its unit ------------
let lrpShown = null;    // the last LRP result shown
let channelsOf = null;  // the layer whose channels are open, or null

/** Runs `f` on a click, Enter or Space on `el`. */
function onActivate(el, f) {
  el.addEventListener('click', f);
  el.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); f(); } });
}

/** The listed layer of the Units panel whose output weighted layer `name` reads, or undefined. */
function unitLayerBefore(name) {
  const listed = visualisable();
  const i = about.layers.findIndex((l) => l.name === name);
  return about.layers.slice(0, Math.max(0, i)).reverse().find((l) => listed.includes(l));
}

/** Opens the per-channel view of layer `name`. */
function openChannels(name) {
  channelsOf = name;
  showChannels();
}

/** Closes the per-channel view. */
function closeChannels() {
  channelsOf = null;
  $('lrp-channels').replaceChildren();
  $('lrp-channels-title').textContent = '';
  $('lrp-channels').hidden = $('lrp-channels-title').hidden = true;
}

/** The open layer's relevance per channel, from the last LRP result: one small map each. */
function showChannels() {
  const [title, view] = [$('lrp-channels-title'), $('lrp-channels')];
  title.hidden = view.hidden = false;
  const l = lrpShown?.layers.find((x) => x.name === channelsOf);
  const unit = unitLayerBefore(channelsOf);
  if (!l?.channels) {
    view.replaceChildren();
    title.textContent = !l ? `${channelsOf} in: waiting for the analysis`
      : `${channelsOf} in (${l.perUnit ? `${l.width} units` : 'one channel'}): its map shows them all`;
    return;
  }
  title.textContent = `${l.name} in, per channel (channel: ΣR/S_c)${unit ? `; a channel opens its unit of ${unit.name}` : ''}`;
  if (view.children.length !== l.channels.length) view.replaceChildren(...l.channels.map((_, k) => channelFigure(k)));
  l.channels.forEach((ch, k) => {
    const id = `lrp-channels-${k}`;
    const share = (ch.total / lrpShown.score).toFixed(3);
    paint(id, ch.rgba, l.width, l.height);
    $(id).nextElementSibling.textContent = `${k}: ${share}`;
    describeMap(id, `LRP relevance entering ${l.name}, channel ${k}, for class ${nameOf(lrpShown.class)} (ΣR/S_c = ${share}): `
      + signedText(ch.values, l.width, l.height, ['for the class', 'against it']) + (unit ? `; activate to visualise ${unit.name} unit ${k}` : ''));
  });
}

/** Channel `k`'s figure in the per-channel view: activated, it opens its unit. */
function channelFigure(k) {
  const f = document.createElement('figure');
  const cv = document.createElement('canvas');
  cv.id = `lrp-channels-${k}`;
  cv.className = 'map small';
  cv.setAttribute('role', 'img');
  cv.tabIndex = 0;
  onActivate(cv, () => openUnit(k));
  f.append(cv, document.createElement('figcaption'));
  return f;
}

/** Unit `k` of the layer whose output the open layer reads, visualised in the Units panel. */
function openUnit(k) {
  const unit = unitLayerBefore(channelsOf);
  if (!unit) return;
  $('unit-layer').value = unit.name;
  limitUnit();
  $('units-title').scrollIntoView({ block: 'start' });
  runUnit(k);
}

// --- more attributions, faithfulness, sanity ---------------------------------------------
const ms = (t) => `${t.toFixed(t < 10 ? 1 : 0)} ms`;
const fixed = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/** S<sub>c</sub> followed by `after`, as nodes. */
function sc(after) {
  const sub = document.createElement('sub');
  sub.textContent = 'c';
  return ['S', sub, after];
}

function showGradientInput(g, backend, cls) {
  const [h, w] = side();
  showMap('map-gradient-input', { ...g, width: w, height: h, kind: 'diverging', group: 'attribution', name: 'Gradient × input', file: 'gradient-x-input', cls, pixels: true });
  describeMap('map-gradient-input', `Gradient × input for class ${nameOf(cls)}: ${signedText(g.values, w, h)}`);
  $('gradient-input-meta').textContent = `Σ = ${fixed(g.total)}`;
}

function showAttributions(a, backend) {
  const { smoothGrad: s, integratedGradients: ig } = a;
  const o = a.options;
  const [h, w] = side();
  showMap('map-smoothgrad', { ...s, width: w, height: h, kind: 'sequential', group: 'gradient', name: '|SmoothGrad|', file: 'smoothgrad', cls: a.class, pixels: true });
  showMap('map-ig', { ...ig, width: w, height: h, kind: 'diverging', group: 'attribution', name: 'Integrated Gradients', file: 'integrated-gradients', cls: a.class, pixels: true });
  describeMap('map-smoothgrad', `SmoothGrad magnitude for class ${nameOf(a.class)}: ${magnitudeText(s.values, w, h)}`);
  describeMap('map-ig', `Integrated Gradients for class ${nameOf(a.class)}: ${signedText(ig.values, w, h)}`);
  $('smoothgrad-meta').textContent = `n ${o.smoothGrad.samples}, σ ${o.smoothGrad.sigma} · ${ms(s.ms)}`;
  $('ig-meta').textContent = `m ${o.integratedGradients.steps}, ${o.integratedGradients.baseline} · ${ms(ig.ms)}`;
  $('ig-completeness').replaceChildren(`Σ attribution = ${fixed(ig.total, 3)} vs `, ...sc('(x) − '), ...sc('(baseline)'),
    ` = ${fixed(ig.difference, 3)}, error = ${fixed(100 * ig.error, 2)} %`);
  $('attributions-meta').textContent = `class ${nameOf(a.class)} · ${backend} · gradient × input with the saliency maps; SmoothGrad ${ms(s.ms)}, Integrated Gradients ${ms(ig.ms)}`;
}

const METHOD_NAMES = {
  gradient: 'gradient', deconvnet: 'DeconvNet', guided: 'guided backprop', gradientInput: 'gradient × input',
  smoothGrad: 'SmoothGrad', integratedGradients: 'Integrated Gradients', lrp: 'LRP (pixels)', random: 'random order',
};
const FAITH_METHODS = ['gradient', 'deconvnet', 'guided', 'gradientInput', 'smoothGrad', 'integratedGradients', 'lrp'];

for (const name of FAITH_METHODS) {
  const f = document.createElement('figure');
  const cv = document.createElement('canvas');
  cv.id = `faith-${name}`;
  cv.className = 'plot';
  cv.width = 176;
  cv.height = 110;
  cv.setAttribute('role', 'img');
  cv.setAttribute('aria-label', `deletion and insertion curves of ${METHOD_NAMES[name]}`);
  const cap = document.createElement('figcaption');
  const title = document.createElement('span');
  title.className = 'name';
  title.textContent = METHOD_NAMES[name];
  const auc = document.createElement('output');
  auc.id = `faith-${name}-auc`;
  cap.append(title, document.createElement('br'), auc);
  f.append(cv, cap);
  $('faith-plots').append(f);
}


/** "deletion 0.123 · insertion 0.456" as nodes: one line each, in the curves' colours. */
function aucText(c) {
  const part = (cls, text) => {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    return span;
  };
  return [part('deletion', `deletion ${c.deletionAuc.toFixed(3)}`), part('sep', ' · '),
    part('insertion', `insertion ${c.insertionAuc.toFixed(3)}`)];
}

function showFaithfulness(f, backend) {
  const random = f.curves.find((c) => c.name === 'random');
  const methods = f.curves.filter((c) => c.name !== 'random');
  const bestDeletion = Math.min(...methods.map((c) => c.deletionAuc));
  const bestInsertion = Math.max(...methods.map((c) => c.insertionAuc));
  const rows = [];
  for (const c of f.curves) {
    if (c !== random) {
      const cv = $(`faith-${c.name}`);
      if (!cv) continue;
      plotCurves(cv, c, random, f.k, f.pixels);
      $(`faith-${c.name}-auc`).replaceChildren(...aucText(c));
      cv.setAttribute('aria-label', `${METHOD_NAMES[c.name]}: deletion AUC ${c.deletionAuc.toFixed(3)}, insertion AUC ${c.insertionAuc.toFixed(3)}; random order: ${random.deletionAuc.toFixed(3)}, ${random.insertionAuc.toFixed(3)}`);
    }
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = METHOD_NAMES[c.name] ?? c.name;
    const del = document.createElement('td');
    del.textContent = c.deletionAuc.toFixed(3);
    del.classList.toggle('best', c !== random && c.deletionAuc === bestDeletion);
    const ins = document.createElement('td');
    ins.textContent = c.insertionAuc.toFixed(3);
    ins.classList.toggle('best', c !== random && c.insertionAuc === bestInsertion);
    tr.append(th, del, ins);
    if (c === random) tr.className = 'random';
    rows.push(tr);
  }
  $('faith-table').tBodies[0].replaceChildren(...rows);
  showTable('faith-table', { name: 'AUC table', file: `faithfulness-auc-class${f.class}-k${f.k}`, header: ['method', 'deletion AUC', 'insertion AUC'],
                             rows: f.curves.map((c) => [METHOD_NAMES[c.name] ?? c.name, c.deletionAuc, c.insertionAuc]) });
  $('faith-plots').dataset.k = String(f.k);
  $('faithfulness-meta').textContent = `class ${nameOf(f.class)} · k = ${f.k} · ${f.curves.length} orders × 2 curves × ${f.curves[0].deletion.length} images · ${backend} · ${ms(f.ms)}`;
}

const SANITY_METHODS = ['gradient', 'gradientInput', 'deconvnet', 'guided', 'lrp'];
const SANITY_NAMES = { ...METHOD_NAMES, lrp: 'LRP (recommended)' };
/** A sanity stage's column heading: "trained", then "fc2 random", "+ fc1", … */
const stageName = (stage, i) => (i === 0 ? stage : i === 1 ? `${stage} random` : `+ ${stage}`);

/** The sanity grid of the current model: one row per method, one column per stage. */
function buildSanity() {
  const stages = about.sanityStages;
  const table = $('sanity-grid');
  table.replaceChildren();
  const head = document.createElement('tr');
  const corner = document.createElement('th');
  corner.scope = 'col';
  corner.textContent = 'method';
  head.append(corner);
  stages.forEach((stage, i) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = stageName(stage, i);
    head.append(th);
  });
  table.createTHead().append(head);
  const body = table.createTBody();
  const [h, w] = side();
  for (const m of SANITY_METHODS) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = SANITY_NAMES[m];
    tr.append(th);
    stages.forEach((stage, i) => {
      const td = document.createElement('td');
      const cv = document.createElement('canvas');
      cv.id = `sanity-${m}-${stage}`;
      cv.className = 'map sanity-map';
      cv.width = w;
      cv.height = h;
      cv.setAttribute('role', 'img');
      cv.setAttribute('aria-label', `${SANITY_NAMES[m]}, ${stageName(stage, i)}`);
      const rho = document.createElement('output');
      rho.id = `sanity-${m}-${stage}-rho`;
      td.dataset.stage = stageName(stage, i);
      td.append(cv, rho);
      tr.append(td);
    });
    body.append(tr);
  }
  $('sanity-stages').textContent = stages.slice(1).join(', then ');
}

function showSanity(s, backend) {
  const [h, w] = side();
  for (const m of s.methods) {
    s.stages.forEach((stage, i) => {
      const id = `sanity-${m.name}-${stage}`;
      if (!$(id)) return;
      showMap(id, { values: m.values[i], rgba: m.rgba[i], width: w, height: h, kind: m.magnitude ? 'sequential' : 'diverging',
                    name: `${SANITY_NAMES[m.name] ?? m.name}, ${stageName(stage, i)}`, file: id, cls: s.class, pixels: true, stack: SANITY_NAMES[m.name] ?? m.name });
      const rho = m.spearman[i];
      $(`${id}-rho`).textContent = `ρ ${fixed(rho)}`;
      const where = m.magnitude ? magnitudeText(m.values[i], w, h) : signedText(m.values[i], w, h);
      describeMap(id, `${SANITY_NAMES[m.name] ?? m.name}, ${stageName(stage, i)}, for class ${nameOf(s.class)}: Spearman ρ ${fixed(rho)}; ${where}`);
    });
  }
  showTable('sanity-grid', { name: 'Spearman ρ table', file: `sanity-spearman-class${s.class}`, header: ['method', ...s.stages.map(stageName)],
                             rows: s.methods.map((m) => [SANITY_NAMES[m.name] ?? m.name, ...m.spearman]) });
  $('sanity-meta').textContent = `class ${nameOf(s.class)} · ${s.methods.length} methods × ${s.stages.length} networks · ${backend} · ${ms(s.ms)}`;
}

for (const id of ['sg-samples', 'sg-sigma']) {
  $(id).addEventListener('input', () => {
    $(`${id}-value`).textContent = $(id).value;
    later(['attributions', 'faithfulness'], 150);
  });
}
for (const id of ['ig-steps', 'ig-baseline']) $(id).addEventListener('change', () => later(['attributions', 'faithfulness']));
$('faith-k').addEventListener('change', () => later(['faithfulness']));

// --- LRP controls and the layer table, from the model's catalogue --------------------------
const weighted = () => about.layers.filter((l) => l.weighted);
/** A rule text's name: "gamma(0.25)" → "gamma". */
const ruleName = (text) => text.split('(')[0].trim();

/** The rule of every weighted layer under the chosen composite. */
function currentRules() {
  const v = $('composite').value;
  return v === 'custom' ? weighted().map((l) => $(`rule-${l.name}`).value) : about.presetRules[v];
}

function composite() {
  const v = $('composite').value;
  return v === 'custom' ? currentRules() : v;
}

/** One option per catalogue entry (`{name, description}`), its description as its title. */
function addOptions(select, entries) {
  for (const p of entries) {
    const o = document.createElement('option');
    o.value = o.textContent = p.name;
    o.title = p.description;
    select.append(o);
  }
}

/** The composite picker: the presets, then "custom…". Built once: presets are the crate's. */
function buildComposites() {
  const select = $('composite');
  if (select.options.length) return;
  addOptions(select, about.presets);
  const custom = document.createElement('option');
  custom.value = 'custom';
  custom.textContent = 'custom…';
  select.append(custom);
  select.value = 'recommended';
  describeComposite();
}

/** The class model presets, from the crate's catalogue; "readable" first chosen. */
function buildClassModelPresets() {
  const select = $('cm-preset');
  if (select.options.length) return;
  addOptions(select, about.classModelPresets);
  select.value = 'readable';
  describeClassModelPreset();
}

/** The class model's option fields and the controls that show them. */
const CM_CONTROLS = {
  objective: 'cm-objective', lambda: 'cm-lambda', step: 'cm-step', clip: 'cm-clip', sigmoid: 'cm-sigmoid', adam: 'cm-adam',
  jitter: 'cm-jitter', scale: 'cm-scale', rotate: 'cm-rotate', totalVariation: 'cm-tv', blurEvery: 'cm-blur',
  fourier: 'cm-fourier', restarts: 'cm-restarts', images: 'cm-images', diversity: 'cm-diversity',
};

/** Describes the chosen preset and sets the controls to its settings (from the wasm's catalogue). */
function describeClassModelPreset() {
  const preset = about.classModelPresets.find((p) => p.name === $('cm-preset').value);
  $('cm-preset-description').textContent = preset?.description ?? '';
  for (const [key, id] of Object.entries(CM_CONTROLS)) {
    const value = preset?.options?.[key];
    if (value === undefined) continue;
    const control = $(id);
    if (control.type === 'checkbox') control.checked = value;
    else control.value = String(typeof value === 'number' ? Number(value.toPrecision(6)) : value);
    if (control.type === 'range') $(`${id}-value`).textContent = control.value;
  }
}
$('cm-preset').addEventListener('change', describeClassModelPreset);

function describeComposite() {
  const v = $('composite').value;
  $('composite-description').textContent = about.presets.find((p) => p.name === v)?.description ?? 'a rule per layer';
}

/** One rule picker per weighted layer, starting from the recommended composite. */
function buildCustomRules() {
  const box = $('custom-rules');
  box.replaceChildren();
  for (const layer of weighted()) {
    const label = document.createElement('label');
    label.textContent = layer.name;
    const sel = document.createElement('select');
    sel.id = `rule-${layer.name}`;
    label.htmlFor = sel.id;
    for (const r of about.rules) {
      const o = document.createElement('option');
      o.value = o.textContent = r.name;
      o.title = r.description;
      sel.append(o);
    }
    sel.value = ruleName(layer.rule);
    sel.addEventListener('change', () => { showRules(); rerun(); });
    box.append(label, sel);
  }
}

/** The LRP panel's maps: one per weighted layer, the relevance entering it. */
function buildRelevanceMaps() {
  const [h, w] = side();
  const figures = weighted().map((layer, i) => {
    const f = document.createElement('figure');
    const cv = document.createElement('canvas');
    cv.id = `lrp-${layer.name}`;
    cv.className = 'map';
    cv.width = i === 0 ? w : 1;
    cv.height = i === 0 ? h : 1;
    cv.setAttribute('role', 'img');
    cv.setAttribute('aria-label', i === 0 ? 'relevance at the pixels' : `relevance entering ${layer.name}`);
    if (i > 0) {
      cv.tabIndex = 0;
      onActivate(cv, () => openChannels(layer.name));
    }
    const cap = document.createElement('figcaption');
    const shape = document.createElement('span');
    shape.id = `lrp-${layer.name}-shape`;
    shape.textContent = i === 0 ? `${layer.name} in (pixels)` : `${layer.name} in`;
    const sum = document.createElement('output');
    sum.id = `lrp-${layer.name}-sum`;
    cap.append(shape, document.createElement('br'), sum);
    f.append(cv, cap);
    return f;
  });
  $('lrp-maps').replaceChildren(...figures);
  // Another model: its own analysis refreshes an open view of a layer it has too.
  lrpShown = null;
  if (weighted().slice(1).some((l) => l.name === channelsOf)) showChannels();
  else closeChannels();
}

const shapeText = (s) => s.join('×');
const count = (n) => n.toLocaleString('en');

/** The layer table: every layer of the model, with the current composite's rule. */
function buildLayerTable() {
  const rows = about.layers.map((l) => {
    const tr = document.createElement('tr');
    const cells = [l.name, l.kind.replaceAll('_', ' '), shapeText(l.output), l.parameters ? count(l.parameters) : '', ''];
    cells.forEach((text, i) => {
      const td = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) td.scope = 'row';
      td.textContent = text;
      tr.append(td);
    });
    tr.lastChild.className = 'rule';
    if (l.weighted) tr.lastChild.id = `layer-rule-${l.name}`;
    const units = document.createElement('td');
    if (visualisable().includes(l)) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'units';
      b.setAttribute('aria-label', `the atlas of ${l.name}'s units`);
      b.addEventListener('click', () => {
        $('unit-layer').value = l.name;
        limitUnit();
        $('units-title').scrollIntoView({ block: 'start' });
        runAtlas();
      });
      units.append(b);
    }
    tr.append(units);
    return tr;
  });
  $('layers').tBodies[0].replaceChildren(...rows);
  const total = about.layers.reduce((n, l) => n + l.parameters, 0);
  $('layers-meta').textContent = `input ${shapeText(about.input)} · ${about.layers.length} layers, ${weighted().length} with weights · ${count(total)} parameters`;
  showRules();
}

/** The current composite's rules in the layer table. */
function showRules() {
  const rules = currentRules();
  weighted().forEach((l, i) => { $(`layer-rule-${l.name}`).textContent = rules[i]; });
}

/** Every panel whose shape depends on the architecture, for the model in `about`. */
function buildModel() {
  buildComposites();
  buildClassModelPresets();
  buildUnits();
  buildCustomRules();
  buildRelevanceMaps();
  buildLayerTable();
  buildSanity();
}

$('composite').addEventListener('change', () => {
  $('custom-rules').hidden = $('composite').value !== 'custom';
  describeComposite();
  showRules();
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
// Each slider's value beside it (`cm-objective-value` is the objective's number, not a slider's).
for (const id of ['cm-steps', ...Object.values(CM_CONTROLS)].filter((id) => $(id).type === 'range')) {
  $(id).addEventListener('input', () => { $(`${id}-value`).textContent = $(id).value; });
}
/** The ascent's options as the controls show them: the preset, then every field over it. */
function classOptions(seed = 0) {
  const options = { preset: $('cm-preset').value, start: $('cm-start').value, seed };
  for (const [key, id] of Object.entries(CM_CONTROLS)) {
    const control = $(id);
    options[key] = control.type === 'checkbox' ? control.checked : control.tagName === 'SELECT' ? control.value : Number(control.value);
  }
  return options;
}
let ascentRun = 0;   // a newer run stops an older one

/** Runs an ascent started by `start` (a worker request), `steps` steps in chunks, calling
 * `onState` after each (false stops it). */
async function ascend(cls, options, steps, onState, start = { op: 'classModelStart', args: { class: cls } }) {
  await ask(start.op, { model, ...start.args, options });
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
  line(history.map((h) => h.probability), (v) => v, '#b45309', [5, 3]);
  ctx.setLineDash([]);
}

/** Runs the class model of the chosen class, painting each step. */
async function runClassModel() {
  const run = ++ascentRun;
  const cls = Number($('cm-class').value);
  const history = [];
  const t0 = performance.now();
  try {
    const s = await ascend(cls, classOptions(), Number($('cm-steps').value), (s) => {
      if (run !== ascentRun) return false;
      history.push(s);
      const [c, h, w] = shape();
      showMap('cm-image', { values: s.image, rgba: s.rgba, width: w, height: h, shape: c === 1 ? [h, w] : [c, h, w], name: 'Class model image', file: 'class-model', cls });
      describeMap('cm-image', classModelText(cls, s));
      $('cm-range').textContent = `display: black = ${s.lo.toFixed(2)}, white = ${s.hi.toFixed(2)}`;
      $('cm-stepcount').textContent = String(s.steps);
      $('cm-score').textContent = s.score.toFixed(2);
      $('cm-prob').textContent = s.probability.toFixed(4);
      $('cm-objective-value').textContent = s.objective.toFixed(2);
      showBatch('cm-images-row', s, (i) => `image ${i + 1} of ${nameOf(cls)}: objective ${s.objectives[i].toFixed(2)}`);
      drawCurves(history);
      const first = history[0];
      describeMap('cm-curves', `S_c and p(c) of class ${nameOf(cls)} over ${s.steps} steps: S_c from ${first.score.toFixed(2)} to ${s.score.toFixed(2)}, `
        + `p(c) from ${first.probability.toFixed(3)} to ${s.probability.toFixed(3)}`);
      return true;
    });
    if (run === ascentRun) {
      $('cm-meta').textContent = `${document.body.dataset.backend} · ${(performance.now() - t0).toFixed(0)} ms for ${s.steps} steps`;
      $('cm-image').dataset.done = String(s.steps);
      ran.add('class-model');
      shareLater();
    }
  } catch (e) {
    $('cm-meta').textContent = `error: ${e.message}`;
  }
}
$('cm-run').addEventListener('click', runClassModel);

/** Runs the class model of every class, one after another. */
async function runAllClassModels() {
  const run = ++ascentRun;
  const t0 = performance.now();
  try {
    for (let c = 0; c < names.length && run === ascentRun; c++) {
      const s = await ascend(c, classOptions(), Number($('cm-steps').value), () => run === ascentRun);
      if (run !== ascentRun) break;
      paint(`cm-row-${c}`, s.rgba, ...side().reverse());
      $(`cm-row-${c}-caption`).textContent = `${nameOf(c)}: p ${s.probability.toFixed(3)}`;
      describeMap(`cm-row-${c}`, classModelText(c, s));
    }
    if (run === ascentRun) {
      $('cm-meta').textContent = `${names.length} classes in ${(performance.now() - t0).toFixed(0)} ms`;
      $('cm-row').dataset.done = String(names.length);
      ran.add('all-classes');
      shareLater();
    }
  } catch (e) {
    $('cm-meta').textContent = `error: ${e.message}`;
  }
}
$('cm-all').addEventListener('click', runAllClassModels);

/** Paints every image of a batch into `id` (one small canvas each), or clears it for one. */
function showBatch(id, s, label, onClick = null) {
  const row = $(id);
  const n = s.images.length;
  if (n < 2 && !onClick) { row.replaceChildren(); return; }
  const [, h, w] = shape();
  if (row.children.length !== n) {
    row.replaceChildren(...s.images.map((_, i) => {
      const f = document.createElement('figure');
      const cv = document.createElement('canvas');
      cv.className = 'map';
      cv.setAttribute('role', 'img');
      const cap = document.createElement('figcaption');
      if (onClick) {
        cv.tabIndex = 0;
        cv.addEventListener('click', () => onClick(i));
        cv.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onClick(i); } });
      }
      f.append(cv, cap);
      return f;
    }));
  }
  [...row.children].forEach((f, i) => {
    const [cv, cap] = f.children;
    paint(cv.id || (cv.id = `${id}-${i}`), s.rgbas[i], w, h);
    cv.setAttribute('aria-label', label(i));
    cap.textContent = onClick ? `${i}: ${s.activations[i].toFixed(2)}` : '';
  });
}

/** A class model image's text alternative: its class, its step, and where it is brightest. */
function classModelText(cls, s) {
  const [c, h, w] = shape();
  const image = perPixel(s.image, c);
  let lo = Infinity;
  for (const v of image) lo = Math.min(lo, v);
  const place = strongest(image, w, h, (v) => v - lo);
  return `Class model of ${nameOf(cls)} after ${s.steps} steps, p(c) ${s.probability.toFixed(3)}: `
    + (place ? `brightest at ${place}` : 'uniform');
}

/** Clears the class model views: they belong to the model before a switch. */
function clearClassModels() {
  ascentRun++;   // stops a running ascent
  ran.clear();
  delete $('cm-row').dataset.done;
  for (const c of document.querySelectorAll('#cm-image, #cm-curves, #cm-row canvas')) {
    c.getContext('2d').clearRect(0, 0, c.width, c.height);
  }
  forgetMaps(['cm-image']);
  delete $('cm-image').dataset.done;
  $('cm-images-row').replaceChildren();
  clearUnits();
  for (const id of ['cm-stepcount', 'cm-score', 'cm-prob', 'cm-objective-value']) $(id).textContent = '–';
  $('cm-range').textContent = 'display: black = min, white = max';
  describeMap('cm-image', 'class model image: not run yet');
  describeMap('cm-curves', 'S_c and p(c) over the steps: not run yet');
  for (let c = 0; c < names.length; c++) $(`cm-row-${c}`)?.setAttribute('aria-label', `class model of ${nameOf(c)}: not run yet`);
  $('cm-meta').textContent = '';
}

// --- units: activation maximisation for any unit, and a layer's atlas ----------------------
/** Layers whose units can be visualised: all but the input's normalisation, flatten and dropout. */
const visualisable = () => about.layers.filter((l) => !['normalize', 'flatten', 'dropout'].includes(l.kind));

function buildUnits() {
  const select = $('unit-layer');
  const layers = visualisable();
  select.replaceChildren(...layers.map((l) => {
    const o = document.createElement('option');
    o.value = l.name;
    o.textContent = `${l.name} (${l.output[0]} ${l.output[1] * l.output[2] > 1 ? 'channels' : 'units'})`;
    return o;
  }));
  // The first ReLU after a conv: its channels are what the conv detects.
  select.value = (layers.find((l) => l.kind === 'relu') ?? layers[0])?.name ?? '';
  limitUnit();
}

function limitUnit() {
  const layer = about.layers.find((l) => l.name === $('unit-layer').value);
  if (!layer) return;
  $('unit-index').max = String(layer.output[0] - 1);
  if (Number($('unit-index').value) > layer.output[0] - 1) $('unit-index').value = '0';
}
$('unit-layer').addEventListener('change', limitUnit);

function unitOptions() {
  return { ...classOptions(), images: 1, restarts: 1, at: $('unit-at').value };
}

/** Visualises unit `unit` of the chosen layer, painting each step. */
async function runUnit(unit = Number($('unit-index').value)) {
  const run = ++ascentRun;
  const layer = $('unit-layer').value;
  $('unit-index').value = String(unit);
  const t0 = performance.now();
  const [, h, w] = shape();
  try {
    const s = await ascend(null, unitOptions(), Number($('cm-steps').value), (s) => {
      if (run !== ascentRun) return false;
      paint('unit-image', s.rgba, w, h);
      const text = `${layer} unit ${unit} after ${s.steps} steps: activation ${s.activation.toFixed(3)}`;
      $('unit-caption').textContent = text;
      $('unit-image').setAttribute('aria-label', text);
      return true;
    }, { op: 'unitStart', args: { layer, unit } });
    if (run === ascentRun) {
      $('unit-meta').textContent = `${document.body.dataset.backend} · ${(performance.now() - t0).toFixed(0)} ms for ${s.steps} steps`;
      $('unit-image').dataset.done = String(s.steps);
    }
  } catch (e) {
    $('unit-meta').textContent = `error: ${e.message}`;
  }
}
$('unit-run').addEventListener('click', () => runUnit());

/** Every channel of the chosen layer at once: one batch, painted as it goes. */
async function runAtlas() {
  const run = ++ascentRun;
  const layer = $('unit-layer').value;
  const t0 = performance.now();
  delete $('unit-atlas-grid').dataset.done;
  $('unit-atlas-grid').replaceChildren();
  try {
    const s = await ascend(null, { ...unitOptions() }, Number($('cm-steps').value), (s) => {
      if (run !== ascentRun) return false;
      showBatch('unit-atlas-grid', s, (i) => `${layer} channel ${i}: activation ${s.activations[i].toFixed(3)}; activate to follow it alone`, (i) => runUnit(i));
      return true;
    }, { op: 'atlasStart', args: { layer } });
    if (run === ascentRun) {
      $('unit-meta').textContent = `${document.body.dataset.backend} · ${s.images.length} units of ${layer}, ${s.steps} steps in ${(performance.now() - t0).toFixed(0)} ms`;
      $('unit-atlas-grid').dataset.done = String(s.images.length);
    }
  } catch (e) {
    $('unit-meta').textContent = `error: ${e.message}`;
  }
}
$('unit-atlas').addEventListener('click', runAtlas);

function clearUnits() {
  $('unit-atlas-grid').replaceChildren();
  delete $('unit-atlas-grid').dataset.done;
  delete $('unit-image').dataset.done;
  $('unit-image').getContext('2d').clearRect(0, 0, $('unit-image').width, $('unit-image').height);
  $('unit-caption').textContent = 'not run yet';
  $('unit-image').setAttribute('aria-label', 'unit visualisation: not run yet');
  $('unit-meta').textContent = '';
}

let legendsDrawn = false;

// --- share links: what the page shows, in the URL's hash (www/state.js) -----------------------
const ran = new Set();   // the class-model views shown, as a link names them (share.RUNS)
let sharing = false;     // the hash follows the page once the first input is shown
let shareTimer = 0;

/** What the page shows, as a link holds it. */
function snapshot() {
  return {
    model,
    input: held && held.pixels === background && !strokes.length ? { gallery: held.index } : current && { pixels: current },
    class: pinned,
    settings: Object.fromEntries(share.SETTINGS.map((id) => [id, share.valueOf($(id))])),
    rules: $('composite').value === 'custom' ? currentRules() : null,
    run: share.RUNS.filter((r) => ran.has(r)),
  };
}

/** Puts the state into the hash now (replaceState: no history entry); a user's own model
 * stays out of links, so the hash is then empty. Returns the URL. */
function writeHash() {
  clearTimeout(shareTimer);
  shareTimer = 0;
  const url = new URL(location.href);
  url.hash = isUser(model) ? '' : share.encode(snapshot());
  if (url.href !== location.href) history.replaceState(null, '', url);
  return url;
}

/** Writes the hash soon, at most every 300 ms (browsers throttle replaceState), and not while
 * a stroke is drawn (replaceState takes milliseconds): the stroke's end asks again. */
function shareLater() {
  if (!sharing || shareTimer) return;
  shareTimer = setTimeout(() => {
    shareTimer = 0;
    if (!drawing) writeHash();
  }, 300);
}

// A setting goes into the link; a class-model setting leaves the views shown to another run.
for (const type of ['input', 'change']) {
  document.querySelector('.outputs').addEventListener(type, (e) => {
    if (e.target.id.startsWith('cm-')) ran.clear();
    shareLater();
  });
}

$('copy-link').addEventListener('click', async () => {
  const url = writeHash().href;
  const copied = isUser(model) ? 'link copied, without your own model (it stays in this page)' : 'link copied';
  const field = $('share-link');
  try {
    await navigator.clipboard.writeText(url);
    field.hidden = true;
    $('share-status').textContent = copied;
  } catch {
    // No clipboard here (an insecure origin, a refused permission): the link, selected.
    field.value = url;
    field.hidden = false;
    field.select();
    $('share-status').textContent = document.execCommand('copy') ? copied : 'copy the selected link';
  }
});

// Another link pasted into this tab changes only the hash: open it as any link opens.
addEventListener('hashchange', () => location.reload());

/** The state of the page's link, checked against its model's catalogues (asked of the worker):
 * {state, described, heldout}; null without a link, or with a notice saying what is wrong with
 * it, and the page opens as it does without one. */
async function readLink() {
  const read = share.decode(location.hash, (id) => document.getElementById(id) !== null);
  if (!read) return null;
  try {
    if (read.error) throw new Error(read.error);
    const s = read.state;
    if (!models.some((m) => m.name === s.model)) throw new Error(`unknown model ${JSON.stringify(s.model)}`);
    const { value: described } = await ask('describe', { model: s.model });
    const { value: heldoutOf } = await ask('heldout', { model: s.model });
    const controls = Object.fromEntries(share.SETTINGS.map((id) => [id, share.accepts($(id))]));
    const problem = share.check(s, {
      input: described.input,
      classes: described.classNames.length,
      heldout: heldoutOf.labels.length,
      rules: described.rules.map((r) => r.name),
      weighted: described.layers.filter((l) => l.weighted).length,
      // The model's own presets and classes: the page's pickers still show the model before.
      controls: { ...controls, composite: [...described.presets.map((p) => p.name), 'custom'], 'cm-class': described.classNames.map((_, c) => String(c)),
        'cm-preset': described.classModelPresets.map((p) => p.name) },
    });
    if (problem) throw new Error(problem);
    model = s.model;
    return { state: s, described, heldout: heldoutOf };
  } catch (e) {
    $('share-notice').textContent = `This link could not be opened: ${e.message}. The page opens as it does without one.`;
    return null;
  }
}

/** Sets control `id` to `value` as the reader would, so that what follows it follows. */
function setControl(id, value) {
  const control = $(id);
  const checkbox = control.type === 'checkbox';
  if (checkbox) control.checked = value === 'on';
  else control.value = value;
  control.dispatchEvent(new Event(checkbox || control.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
}

/** The first input: a link's state, or the opening held-out image; a drawing begun meanwhile stays. */
function showFirst(state) {
  sharing = true;
  if (state && heldout) {
    for (const [id, value] of Object.entries(state.settings)) setControl(id, value);
    state.rules?.forEach((rule, i) => setControl(`rule-${weighted()[i].name}`, rule));
    pinned = state.class;
    if (state.input?.bytes) useDigit(share.fromBytes(state.input.bytes), 'the input of a shared link');
    else pick(state.input?.gallery ?? galleryFirst, !state.input);
  } else if (heldout && !strokes.length && !background) {
    pick(galleryFirst, true);
  } else {
    update();
  }
}

// --- backend and model -----------------------------------------------------------------
/** The model switch: the shipped models, by title. */
function buildModelSelect() {
  const select = $('model-select');
  const mine = document.createElement('option');
  mine.value = 'user';
  mine.id = 'model-user';
  mine.textContent = 'your model…';
  select.replaceChildren(...models.map((m) => {
    const o = document.createElement('option');
    o.value = m.name;
    o.textContent = m.title;
    return o;
  }), mine);
  select.value = model;
}

/** The catalogue of model `m` becomes the page's; false when another model was chosen since. */
async function describe(m, described = null) {
  const value = described ?? (await ask('describe', { model: m })).value;
  if (m !== model) return false;
  about = value;
  names = value.classNames;
  buildModel();
  return true;
}

async function start(backend) {
  $('backend-status').textContent = `starting ${backend}…`;
  try {
    if (!models.length) {
      ({ value: models } = await ask('models'));
      if (!models.some((m) => m.name === model)) model = 'mnist';
      buildModelSelect();
    }
    await ask('init', { backend, model });
    if (!legendsDrawn) {
      const { value: l } = await ask('legend');
      paint('legend-sequential', l.sequential, 64, 1);
      paint('legend-signed', l.diverging, 64, 1);
      paint('legend-lrp', l.diverging, 64, 1);
      for (const c of document.querySelectorAll('canvas[data-legend]')) {
        c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(c.dataset.legend === 'sequential' ? l.sequential : l.diverging), 64, 1), 0, 0);
      }
      legendsDrawn = true;
    }
    const link = about ? null : await readLink();
    if (!about) {
      if (!await describe(model, link?.described)) return;
      relabel();
    }
    if (!isUser(model) && !heldout) await loadGallery(link?.heldout);
    if (sharing) update();
    else showFirst(link?.state);
    // The class-model views the link shows, run again (after the first analysis, in the worker's queue).
    for (const view of link?.state.run ?? []) await (view === 'class-model' ? runClassModel() : runAllClassModels());
  } catch (e) {
    if (e === unsupported) $('backend-status').textContent = `Cannot start: ${e.message}.`;
    showError(e);
  }
}

// Another model: its catalogue (the panels that follow the architecture), its class names,
// its gallery, and every panel again on its first held-out image (a drawing stays: it is just
// an input). A user's model has no gallery: the input before is carried over to its shape.
async function switchModel(next, described = null) {
  if (next === model || !(isUser(next) ? user?.model === next : models.some((m) => m.name === next))) return;
  const from = shape();
  model = next;
  pinned = null;
  held = null;
  explained = false;
  todo.clear();
  clearClassModels();
  try {
    if (!await describe(next, described)) return;
    await carryInput(from);
    if (next !== model) return;
    relabel();
    if (isUser(next)) {
      heldout = null;
      $('gallery').replaceChildren();
      update();
      return;
    }
    await loadGallery();
    if (next !== model || !heldout) return;
    if (strokes.length) update();
    else pick(galleryFirst);
  } catch (e) {
    showError(e);
  }
}

/** The input shown (of shape `from`) made into the new model's input: a grey model keeps the
 * drawing (converted again), anything else becomes the picture under the pad. */
async function carryInput(from) {
  const to = shape();
  if (sameShape(from, to)) return;
  const source = strokes.length && to[0] !== 1 ? current : background;
  if (to[0] !== 1) strokes.length = 0;
  background = source ? (await ask('fit', { pixels: source, from, to })).value : null;
  current = null;
  redraw();
}

$('model-select').addEventListener('change', (e) => {
  const next = e.target.value;
  $('user-model').hidden = next !== 'user' && !isUser(model);
  if (next === 'user') {
    $('user-model').hidden = false;
    if (user) {
      switchModel(user.model);
    } else if ($('user-model').dataset.state !== 'loading') {
      delete $('user-model').dataset.state;
      $('model-message').classList.remove('error');
      $('model-message').textContent = 'No model loaded yet: the one before stays in use until a file is read.';
    }
  } else {
    switchModel(next);
    if (next === model) relabel();   // "your model…" chosen and left again
  }
});

// --- your own model: a file dropped or chosen, read here, parsed and checked in the worker ----
function showUserModel(described) {
  const u = described.user;
  const [c, h, w] = described.input;
  const message = $('model-message');
  message.classList.remove('error');
  message.textContent = `${u.name}: ${u.format === 'onnx' ? 'ONNX' : 'safetensors'}, input ${c}×${h}×${w}, `
    + `${described.classNames.length} classes, ${described.layers.length} layers (the table below)`;
  $('model-notes').replaceChildren(...u.notes.map((note) => {
    const li = document.createElement('li');
    li.textContent = note;
    return li;
  }));
  $('model-user').textContent = `your model: ${u.name}`;
}

async function loadModelFile(file) {
  if (!file) return;
  const message = $('model-message');
  const box = $('user-model');
  box.hidden = false;
  box.dataset.state = 'loading';
  message.classList.remove('error');
  message.textContent = `reading ${file.name}…`;
  try {
    // The wasm's own limit, checked before the file is read into memory.
    const { value: limits } = await ask('limits');
    if (file.size > limits.fileBytes) {
      throw new Error(`model: the file is ${(file.size / 1e6).toFixed(1)} MB; at most ${limits.fileBytes / 1e6} MB is allowed`);
    }
    const bytes = await file.arrayBuffer();
    // Handed over, not copied: the worker keeps the only copy.
    const { value } = await ask('loadUserModel', { bytes, name: file.name }, [bytes]);
    const previous = user;
    user = { model: value.model, ...value.user };
    showUserModel(value);
    await switchModel(value.model, value);
    if (previous) ask('freeUserModel', { model: previous.model }).catch(() => {});
    box.dataset.state = 'loaded';
  } catch (e) {
    // The model before stays: nothing was changed.
    console.warn(e);
    message.textContent = `could not load ${file.name}: ${e.message}`;
    message.classList.add('error');
    box.dataset.state = 'error';
  }
}

$('model-file').addEventListener('change', (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  loadModelFile(file);
});
const drop = $('model-drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  e.dataTransfer.dropEffect = 'copy';
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  loadModelFile(e.dataTransfer.files[0]);
});
// A file dropped anywhere else must not make the browser leave the page for it.
for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
$('backend-select').addEventListener('change', (e) => start(e.target.value));
relabel();
start($('backend-select').value);
