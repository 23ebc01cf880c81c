// <deep-inside-demo>: the demo as one custom element, for documentation sites.
//
//   <script type="module" src="/path/to/www/deep-inside-demo.js"></script>
//   <deep-inside-demo method="saliency" digit="8" backend="auto"></deep-inside-demo>
//
// method:  "saliency" (default) | "lrp" | "class-model" | "predict" | "localisation" (the
//          saliency map's box) | "attributions" (SmoothGrad, gradient × input, Integrated
//          Gradients) | "faithfulness" (deletion and insertion curves) | "sanity" (the
//          model-randomisation cascade)
// maps:    which maps to show, comma-separated, in the order given (default: all the method has):
//          saliency "gradient,deconvnet,guided"; attributions "gradient,smoothGrad,gradientInput,
//          integratedGradients"; faithfulness "gradient,deconvnet,guided,gradientInput,smoothGrad,
//          integratedGradients,lrp"; sanity "gradient,gradientInput,deconvnet,guided,lrp".
//          Unknown names are skipped.
// target:  the class to explain (0-based index); default: the predicted class. The class model
//          ascends this class instead of the held-out image's label.
// composite: LRP's rules: a preset ("recommended" (default), "epsilon", "zplus", "alpha2beta1",
//          "epsilon_plus") or one rule per conv/dense layer, comma-separated ("zbox, gamma(0.25),
//          epsilon, zero"). Used by "lrp", and by "faithfulness" for its LRP curve.
// quantile: "localisation": the saliency quantile above which pixels count (default 0.95).
// sigma, samples: "attributions"/"faithfulness": SmoothGrad's noise (fraction of the pixel range,
//          default 0.15) and number of noisy copies (default 32).
// steps:   "attributions"/"faithfulness": Integrated Gradients' steps m (default 32).
// preset:  "class-model": the ascent's preset, a name of the wasm's `classModelPresets()`:
//          "paper" (default: §2 as published), "readable" or "lucid".
// stage:   "sanity": show only the trained network and this stage of the cascade (a layer name:
//          "fc2" is the stage with the top layer random; "conv1" has every layer random);
//          default: every stage.
// digit:   0..9, the class of the held-out digit shown first (default 8)
// model:   a shipped model (the wasm's `models()`): "mnist" (digits, default), "mnist-deep"
//          (a deeper net on the same digits) or "fashion" (Fashion-MNIST clothes; `digit` is
//          then the class index of the first item shown)
// backend: "auto" (default) | "cpu" | "webgpu". One worker serves every element of the page,
//          so this is page-wide: the first element to connect starts the worker with its value,
//          and changing the attribute later switches the worker for all elements.
// model-src: the URL of your own model (.onnx, or the .safetensors of scripts/export_pytorch.py),
//          relative to the page; same origin, or another that allows it (CORS, and the page's
//          CSP connect-src). Fetched once per page, read in the worker (nothing is uploaded),
//          and shown in place of `model`. It has no held-out images: the inputs shown first are
//          the held-out MNIST digits (`digit` picks the first), made into its input shape.
//
// Works under `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'`:
// no inline styles (the shadow root links deep-inside-demo.css), no innerHTML. Needs worker.js,
// support.js and curves.js beside this file and ../pkg/cpu/ (and ../pkg/webgpu/ for WebGPU, ../assets/<model>/ for the
// models the wasm does not embed) served with it, or a bundler that follows `new URL(…, import.meta.url)`
// and `import()` (Vite; the npm package `deep-inside-demo`: docs/npm-package.md).
//
// For tests and embedders: `data-updates` counts repaints, `data-ready="1"` follows the first
// (for the slower methods, once their maps are painted), `data-backend` names the backend of the
// last result, `data-steps` the class model's steps.

import { checkSupport } from './support.js';
import { plotCurves } from './curves.js';

// `?no-inline` has a bundler (Vite) emit the file instead of a data: URL, which the CSP's
// style-src 'self' refuses; the request goes without it.
const CSS_URL = new URL('./deep-inside-demo.css?no-inline', import.meta.url);
CSS_URL.search = '';

const METHODS = ['saliency', 'lrp', 'class-model', 'predict', 'localisation', 'attributions', 'faithfulness', 'sanity'];
/** The maps each method can show (its `maps` attribute picks among them). */
const MAPS = {
  saliency: ['gradient', 'deconvnet', 'guided'],
  attributions: ['gradient', 'smoothGrad', 'gradientInput', 'integratedGradients'],
  faithfulness: ['gradient', 'deconvnet', 'guided', 'gradientInput', 'smoothGrad', 'integratedGradients', 'lrp'],
  sanity: ['gradient', 'gradientInput', 'deconvnet', 'guided', 'lrp'],
};
const MAP_NAMES = {
  gradient: 'gradient', deconvnet: 'DeconvNet', guided: 'guided backprop', gradientInput: 'gradient × input',
  smoothGrad: 'SmoothGrad', integratedGradients: 'Integrated Gradients', lrp: 'LRP', random: 'random order',
};
/** The worker op that follows 'analyse' for the slower methods; it works on that analysis. */
const EXTRA_OP = { attributions: 'attributions', faithfulness: 'faithfulness', sanity: 'sanity' };
const FAITHFULNESS_K = 16;   // pixels per step, as the page's default
const BOX_SCALE = 6;         // the localisation canvas: 6 backing-store pixels per input pixel
const BACKENDS = ['auto', 'cpu', 'webgpu'];
const NOUNS = { mnist: 'digit', fashion: 'item' };   // data set → what one image is called
const CLASS_MODEL_STEPS = 150;
const CLASS_MODEL_CHUNK = 10;
const PAD = 280;          // the pad's backing store; 140 CSS pixels, so sharp on 2× screens
const INK_WIDTH = 22;     // in backing-store pixels, as on the full page

// --- one worker for the page -------------------------------------------------------------
// Requests of every element share one id counter and one pending map; the worker answers
// them in the order they were sent.

let shared = null;

/** A failed call as an Error with the wasm's `name` (ArgumentError, …) and `argument`. */
function workerError({ error, name, argument }) {
  const e = new Error(error);
  if (name) e.name = name;
  if (argument) e.argument = argument;
  return e;
}

function connection(backend) {
  if (shared) return shared;
  const pending = new Map();
  const listeners = new Set();
  let nextId = 0;
  let broken = null;
  let worker;
  const fail = (error) => {
    broken = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  try {
    checkSupport();
    // Written out in full so that a bundler (Vite) finds the worker and bundles it.
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  } catch (e) {
    broken = new Error(`could not start the worker: ${e.message}`);
  }
  if (worker) {
    worker.onmessage = ({ data }) => {
      if (data?.event === 'backend') {
        shared.backend = data.backend;
        shared.reason = data.reason;
        for (const l of listeners) l(data);
        return;
      }
      const p = pending.get(data?.id);
      if (!p) return;
      pending.delete(data.id);
      if (data.ok) p.resolve({ value: data.value, ms: data.ms, backend: data.backend });
      else p.reject(workerError(data));
    };
    worker.onerror = (e) => {
      e.preventDefault?.();
      fail(new Error(`the worker failed${e.message ? `: ${e.message}` : ' to load'}`));
    };
    worker.onmessageerror = () => fail(new Error('a message from the worker could not be read'));
  }

  const ask = (op, args = {}, transfer = []) => {
    if (broken) return Promise.reject(broken);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ id, op, args }, transfer);
      } catch (e) {
        pending.delete(id);
        reject(e);
      }
    });
  };

  shared = { ask, listeners, backend: null, reason: '', requested: backend };
  shared.ready = ask('init', { backend });
  shared.ready.catch(() => {});   // every element awaits it and shows the error itself
  const once = (op) => {
    const cache = new Map();
    return (model = 'mnist') => {
      if (!cache.has(model)) cache.set(model, shared.ready.then(() => ask(op, { model })).then((r) => r.value));
      return cache.get(model);
    };
  };
  shared.heldout = once('heldout');   // 1000 images per model: fetched once for the whole page
  // Users' models by URL: fetched here, read and kept in the worker, once for the whole page.
  const users = new Map();
  shared.userModel = (url) => {
    if (!users.has(url)) {
      const loaded = shared.ready.then(async () => {
        let response;
        try {
          response = await fetch(url);
        } catch (e) {
          throw new Error(`could not fetch the model ${url}: ${e.message}`);
        }
        if (!response.ok) throw new Error(`could not fetch the model ${url} (HTTP ${response.status})`);
        // The wasm's own limit, checked before the body is read when the server says its size.
        const { value: limits } = await ask('limits');
        const size = Number(response.headers.get('content-length'));
        if (size > limits.fileBytes) {
          throw new Error(`model: ${url} is ${(size / 1e6).toFixed(1)} MB; at most ${limits.fileBytes / 1e6} MB is allowed`);
        }
        const bytes = await response.arrayBuffer();
        const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'model');
        const { value } = await ask('loadUserModel', { bytes, name }, [bytes]);
        return value;
      });
      users.set(url, loaded);
      loaded.catch(() => users.delete(url));   // a later element tries again
    }
    return users.get(url);
  };
  shared.describe = once('describe');   // the model's catalogue: class names, layers, …
  shared.legend = once('legend');
  shared.models = once('models');
  return shared;
}

function switchBackend(backend) {
  if (!shared || shared.requested === backend) return;
  shared.requested = backend;
  shared.ready = shared.ask('init', { backend });
  shared.ready.catch(() => {});
}

// The worker keeps one class model ascent at a time: runs of different elements take turns.
let ascentTail = Promise.resolve();
let ascents = 0;   // running or waiting
function exclusive(fn) {
  ascents++;
  const run = ascentTail.then(fn).finally(() => { ascents--; });
  ascentTail = run.catch(() => {});
  return run;
}

// --- small DOM helpers -------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('aria-') || k === 'role' || k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

function canvas(width, height, cls, label) {
  return el('canvas', { width, height, class: cls, role: 'img', 'aria-label': label });
}

function paint(c, rgba, width, height) {
  if (c.width !== width || c.height !== height) { c.width = width; c.height = height; }
  c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
}

// Text with S_c (and ∂S_c) set as S<sub>c</sub>, built as nodes: no markup is parsed.
function setText(node, text) {
  node.replaceChildren(...text.split(/(S_c)/).filter(Boolean).map((part) =>
    (part === 'S_c' ? el('span', { class: 'sc' }, 'S', el('sub', { text: 'c' })) : part)));
}

const backendName = (b) => (b === 'webgpu' ? 'WebGPU' : b === 'cpu' ? 'CPU' : String(b ?? '?'));
const ms = (t) => `${t.toFixed(t < 10 ? 1 : 0)} ms`;
const num = (v, d = 3) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(1) : v.toFixed(d));

/** A sanity stage's column heading: "trained", then "fc2 random", "+ fc1", … */
const stageName = (stage, i) => (i === 0 ? stage : i === 1 ? `${stage} random` : `+ ${stage}`);


function legend(kind, labels) {
  const c = el('canvas', { width: 64, height: 1, 'aria-hidden': 'true' });
  const caption = el('figcaption', {}, ...labels.map((t) => el('span', { text: t })));
  const f = el('figure', { class: 'legend', 'data-kind': kind }, c, caption);
  return { figure: f, canvas: c, caption };
}

// --- the element -------------------------------------------------------------------------

const TITLES = {
  saliency: 'Saliency maps',
  lrp: 'Layer-wise relevance propagation',
  'class-model': 'Class model visualisation',
  predict: 'Prediction',
  localisation: 'Weakly supervised localisation',
  attributions: 'SmoothGrad and Integrated Gradients',
  faithfulness: 'Deletion and insertion curves',
  sanity: 'Model-randomisation sanity check',
};

class DeepInsideDemo extends HTMLElement {
  static observedAttributes = ['method', 'digit', 'backend', 'model', 'model-src', 'maps', 'stage',
    'target', 'composite', 'quantile', 'sigma', 'samples', 'steps', 'preset'];

  #root;
  #ui = null;            // the built shadow DOM
  #panel = null;         // the method's panel: { method, ...elements }
  #conn = null;
  #ink = null;
  #strokes = [];         // each: [[x, y], ...] in backing-store pixels
  #drawing = null;
  #background = null;    // a held-out digit (the model's input: c·h·w values in [0, 1]) under the strokes
  #index = -1;           // which held-out digit that is
  #heldout = null;
  #names = null;         // the class names of the model of #heldout
  #presets = [];         // its LRP presets' names
  #ascentPresets = [];   // its class model presets' names
  #stages = [];          // its sanity stages: "trained", then the layers from the top
  #model = 'mnist';      // the model of #heldout and #names ("user-N" for model-src)
  #user = null;          // for model-src: {name, format, notes} of the file
  #dataset = 'mnist';    // its data set
  #shape = [1, 28, 28];  // [channels, height, width] of its input
  #size = [28, 28];      // [width, height] of its input: the size of its maps
  #dirty = false;        // the input or the method changed: compute again
  #busy = false;
  #seed = 0;             // class model: "run again" takes a new seed
  #started = false;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
  }

  get method() {
    const m = this.getAttribute('method');
    return METHODS.includes(m) ? m : 'saliency';
  }

  get digit() {
    const d = Number(this.getAttribute('digit') ?? 8);
    return Number.isInteger(d) && d >= 0 && d <= 9 ? d : 8;
  }

  get model() {
    return this.getAttribute('model') ?? 'mnist';
  }

  get backend() {
    const b = this.getAttribute('backend');
    return BACKENDS.includes(b) ? b : 'auto';
  }

  /** The maps the `maps` attribute names, in its order, or all the method has. */
  get maps() {
    const all = MAPS[this.method] ?? [];
    const asked = (this.getAttribute('maps') ?? '').split(',').map((m) => m.trim()).filter((m) => all.includes(m));
    return asked.length ? [...new Set(asked)] : all;
  }

  /** The class to explain: `target` where it is a class of the model shown, else -1 (the predicted one). */
  get target() {
    const c = this.#number('target', -1, 0, (this.#names?.length ?? 10) - 1);
    return Number.isInteger(c) ? c : -1;
  }

  /** LRP's rules: a preset name, or one rule text per weighted layer (commas inside a rule's
   * parentheses, as in "zbox(0,1)", stay in it). */
  get composite() {
    const rules = (this.getAttribute('composite') ?? '').split(/,(?![^(]*\))/).map((r) => r.trim()).filter(Boolean);
    if (!rules.length) return 'recommended';
    return rules.length === 1 && this.#presets.includes(rules[0]) ? rules[0] : rules;
  }

  /** The class model's preset: the `preset` attribute where the wasm knows it, else "paper". */
  get preset() {
    const p = this.getAttribute('preset');
    return this.#ascentPresets.includes(p) ? p : 'paper';
  }

  /** The sanity stage the `stage` attribute names (not "trained"), or null: every stage. */
  get stage() {
    const s = this.getAttribute('stage');
    return this.#stages.indexOf(s) > 0 ? s : null;
  }

  /** A number attribute within [lo, hi], else `fallback`: bad values never reach the worker. */
  #number(name, fallback, lo, hi) {
    const raw = this.getAttribute(name);
    const v = raw === null || raw.trim() === '' ? NaN : Number(raw);
    return Number.isFinite(v) && v >= lo && v <= hi ? v : fallback;
  }

  /** The options of SmoothGrad and Integrated Gradients, from `samples`, `sigma` and `steps`. */
  #attributionOptions() {
    const samples = Math.round(this.#number('samples', 32, 1, 256));
    const steps = Math.round(this.#number('steps', 32, 1, 254));
    return {
      smoothGrad: { samples, sigma: this.#number('sigma', 0.15, 0, 1) },
      integratedGradients: { steps, baseline: 'black' },
    };
  }

  /** The absolute URL of `model-src`, or null. */
  get modelSrc() {
    const src = this.getAttribute('model-src');
    if (!src) return null;
    try {
      return new URL(src, document.baseURI).href;
    } catch {
      return src;   // fetch says what is wrong with it
    }
  }

  connectedCallback() {
    this.#conn = connection(this.backend);
    if (!this.#ui) this.#build();
    if (!this.#started) {
      this.#started = true;
      this.#start();
    } else {
      this.#schedule();
    }
  }

  disconnectedCallback() {
    this.#drawing = null;   // running loops see !isConnected and stop
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.#ui) return;
    if (name === 'method' || name === 'maps' || name === 'stage') {
      this.#buildPanel();
      this.#schedule();
    } else if (['target', 'composite', 'quantile', 'sigma', 'samples', 'steps', 'preset'].includes(name)) {
      this.#schedule();
    } else if (name === 'digit') {
      if (this.#heldout) this.#useHeldout(this.#firstOf(this.digit));
    } else if (name === 'model' || name === 'model-src') {
      if (this.#started && (name === 'model-src' || !this.modelSrc)) this.#provideModel().catch((e) => this.#fail(e));
    } else if (name === 'backend' && this.isConnected) {
      switchBackend(this.backend);
      this.#schedule();
    }
  }

  // --- building ---------------------------------------------------------------------------

  #build() {
    const link = el('link', { rel: 'stylesheet', href: CSS_URL.href });
    const box = el('div', { class: 'demo', role: 'group' });
    // Hidden until the stylesheet is in, so that nothing flashes unstyled.
    box.style.visibility = 'hidden';
    const show = () => { box.style.visibility = ''; };
    link.addEventListener('load', show);
    link.addEventListener('error', show);

    const title = el('p', { class: 'title', id: 'title' });
    box.setAttribute('aria-labelledby', 'title');

    const pad = canvas(PAD, PAD, 'pad', 'drawing pad');
    this.#ink = pad.getContext('2d', { willReadFrequently: true });
    const clear = el('button', { type: 'button', text: 'clear', 'aria-label': 'clear the drawing pad' });
    const next = el('button', { type: 'button' });
    const seen = el('p', { class: 'seen' });
    const input = el('div', { class: 'input' }, pad, el('div', { class: 'buttons' }, clear, next), seen);

    const panel = el('div', { class: 'panel' });
    const status = el('p', { class: 'status', role: 'status', 'aria-live': 'polite', text: 'loading…' });
    box.append(title, el('div', { class: 'body' }, input, panel), status);
    this.#root.append(link, box);
    this.#ui = { box, title, pad, clear, next, seen, panel, status };
    this.#nameNext();

    pad.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      if (this.#shape[0] !== 1) {
        this.#ui.status.textContent = 'This model takes colour pictures: the pad draws grey ink, so it only shows the input here.';
        return;
      }
      pad.setPointerCapture?.(e.pointerId);
      this.#drawing = [this.#point(e)];
      this.#strokes.push(this.#drawing);
      this.#redraw();
      this.#schedule();
    });
    pad.addEventListener('pointermove', (e) => {
      if (!this.#drawing) return;
      for (const c of e.getCoalescedEvents?.() ?? [e]) this.#drawing.push(this.#point(c));
      this.#redraw();
      this.#schedule();
    });
    const end = () => { this.#drawing = null; };
    pad.addEventListener('pointerup', end);
    pad.addEventListener('pointercancel', end);
    clear.addEventListener('click', () => {
      this.#strokes.length = 0;
      this.#background = null;
      this.#redraw();
      this.#describePad();
      this.#schedule();
    });
    next.addEventListener('click', () => {
      if (this.#heldout) this.#useHeldout((this.#index + 1) % this.#heldout.labels.length);
    });
    this.#buildPanel();
  }

  #buildPanel() {
    const method = this.method;
    const { panel, title } = this.#ui;
    title.textContent = TITLES[method];
    panel.replaceChildren();
    panel.dataset.method = method;
    const caption = el('p', { class: 'caption' });
    const what = el('span', { class: 'what' });
    const meta = el('span', { class: 'meta' });
    caption.append(what, ' ', meta);
    const p = { method, caption, what, meta };

    const SEQUENTIAL = ['0', 'magnitude', 'max'];
    const DIVERGING = ['−max', '0', '+max'];
    if (method === 'saliency') {
      setText(what, '|∂S_c/∂x|: how much each pixel moves the class score; DeconvNet and guided backprop change only the rule at ReLU.');
      const maps = el('div', { class: 'maps' });
      p.maps = this.#figures(maps, this.maps, (m) => `${MAP_NAMES[m]} saliency map`);
      p.legends = [legend('sequential', SEQUENTIAL)];
      panel.append(caption, maps);
    } else if (method === 'lrp') {
      setText(what, 'The class score S_c redistributed layer by layer: the relevance entering each layer (red: for the class, blue: against).');
      // One map per conv and dense layer of the model, made with its first result.
      p.layerMaps = el('div', { class: 'maps' });
      p.layers = {};
      p.legends = [legend('diverging', ['−limit', '0', '+limit'])];
      panel.append(caption, p.layerMaps);
    } else if (method === 'localisation') {
      setText(what, 'The pixels whose saliency |∂S_c/∂x| lies above a quantile, their largest connected region, and its box.');
      const maps = el('div', { class: 'maps' });
      p.maps = this.#figures(maps, ['gradient'], () => 'gradient saliency map');
      p.box = canvas(28 * BOX_SCALE, 28 * BOX_SCALE, 'map large', 'localisation: the region and its box');
      p.boxText = el('span', { class: 'sum' });
      maps.append(el('figure', {}, p.box, el('figcaption', {}, el('span', { text: 'region and box' }), p.boxText)));
      p.legends = [legend('sequential', SEQUENTIAL)];
      panel.append(caption, maps);
    } else if (method === 'attributions') {
      setText(what, 'SmoothGrad averages the gradient over noisy copies; Integrated Gradients sums the gradient along the path from a black image, times the change, and adds up to S_c(x) − S_c(black).');
      const maps = el('div', { class: 'maps' });
      p.maps = this.#figures(maps, this.maps, (m) => `${MAP_NAMES[m]} map`);
      const signed = this.maps.filter((m) => m === 'gradientInput' || m === 'integratedGradients');
      p.legends = [
        ...(signed.length < this.maps.length ? [legend('sequential', SEQUENTIAL)] : []),
        ...(signed.length ? [legend('diverging', DIVERGING)] : []),
      ];
      panel.append(caption, maps);
      // Integrated Gradients' check: Σ IG against S_c(x) − S_c(baseline).
      if (this.maps.includes('integratedGradients')) {
        p.completeness = el('p', { class: 'caption' });
        panel.append(p.completeness);
      }
    } else if (method === 'faithfulness') {
      setText(what, `p(c) as the pixels each map ranks highest are deleted (set to black) or inserted into a black image, ${FAITHFULNESS_K} per step, against a random order.`);
      const plots = el('div', { class: 'maps' });
      p.plots = {};
      for (const m of this.maps) {
        const c = el('canvas', { width: 176, height: 110, class: 'plot', role: 'img', 'aria-label': `deletion and insertion curves of ${MAP_NAMES[m]}` });
        const auc = el('span', { class: 'sum' });
        plots.append(el('figure', {}, c, el('figcaption', {}, el('span', { text: MAP_NAMES[m] }), auc)));
        p.plots[m] = { canvas: c, auc };
      }
      const key = el('p', { class: 'key' }, el('span', { class: 'deletion', text: '— deletion' }), ' ',
        el('span', { class: 'insertion', text: '— insertion' }), ' ', el('span', { class: 'random', text: '- - random order' }));
      panel.append(caption, plots, key);
    } else if (method === 'sanity') {
      setText(what, 'Each map as the layers are re-initialised from the top, with its Spearman rank correlation ρ to the trained network\'s map.');
      // Made with the first result, which names the stages.
      p.grid = el('table', { class: 'grid' });
      p.legends = [legend('sequential', SEQUENTIAL), legend('diverging', DIVERGING)];
      panel.append(caption, p.grid);
    } else if (method === 'class-model') {
      setText(what, 'Gradient ascent on the input from noise, x ← x + α∂(S_c − λ‖x‖²)/∂x: the image the network scores highest for a class.');
      p.image = canvas(28, 28, 'map', 'class model image');
      p.range = el('span', { class: 'sum', text: 'display: black = min, white = max' });
      p.progress = el('p', { class: 'progress', text: `step 0 of ${CLASS_MODEL_STEPS}` });
      p.again = el('button', { type: 'button', text: 'run again', 'aria-label': 'run again: a new class model from new noise' });
      p.again.addEventListener('click', () => { this.#seed++; this.#schedule(); });
      const figure = el('figure', {}, p.image, el('figcaption', {}, p.range));
      panel.append(caption, el('div', { class: 'maps' }, figure, el('div', { class: 'cm-side' }, p.progress, p.again)));
    } else {
      setText(what, 'p(c|x): the softmax of the class scores S_c(x).');
      const bars = el('div', { class: 'bars', role: 'img', 'aria-label': 'class probabilities' });
      p.bars = [];
      for (let c = 0; c < (this.#names?.length ?? 10); c++) {
        const fill = el('span', { class: 'fill' });
        const value = el('span', { class: 'value', text: '–' });
        const label = el('span', { class: 'label', text: this.#name(c) });
        const row = el('div', { class: 'bar' }, label, el('span', { class: 'track' }, fill), value);
        bars.append(row);
        p.bars.push({ row, label, fill, value });
      }
      p.barsBox = bars;
      panel.append(caption, bars);
    }
    this.#panel = p;
    if (p.legends) {
      panel.append(el('div', { class: 'legends' }, ...p.legends.map((l) => l.figure)));
      for (const l of p.legends) this.#paintLegend(l);
    }
  }

  /** One figure per map name into `box`: a canvas and a line under it, by name. */
  #figures(box, names, label) {
    const out = {};
    for (const m of names) {
      const c = canvas(28, 28, 'map', label(m));
      const value = el('span', { class: 'sum' });
      box.append(el('figure', {}, c, el('figcaption', {}, el('span', { text: MAP_NAMES[m] }), value)));
      out[m] = { canvas: c, value };
    }
    return out;
  }

  async #paintLegend(l) {
    try {
      const value = await this.#conn.legend();
      paint(l.canvas, l.figure.dataset.kind === 'sequential' ? value.sequential : value.diverging, 64, 1);
    } catch {
      // The status line shows what went wrong with the worker.
    }
  }

  // --- the pad ----------------------------------------------------------------------------

  #point(e) {
    const pad = this.#ui.pad;
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }

  #redraw() {
    const ink = this.#ink;
    const { pad } = this.#ui;
    ink.clearRect(0, 0, pad.width, pad.height);
    if (this.#background) {
      // Grey: white ink of that opacity on the black pad; colour: the picture itself.
      const [c, h, w] = this.#shape;
      const n = h * w;
      const img = new ImageData(w, h);
      const byte = (v) => Math.round(255 * Math.min(1, Math.max(0, v)));
      const bg = this.#background;
      for (let i = 0; i < n; i++) {
        img.data.set(c === 3 ? [byte(bg[i]), byte(bg[n + i]), byte(bg[2 * n + i]), 255] : [255, 255, 255, byte(bg[i])], 4 * i);
      }
      const small = new OffscreenCanvas(w, h);
      small.getContext('2d').putImageData(img, 0, 0);
      ink.imageSmoothingEnabled = true;
      ink.drawImage(small, 0, 0, pad.width, pad.height);
    }
    ink.lineCap = ink.lineJoin = 'round';
    ink.lineWidth = INK_WIDTH;
    ink.strokeStyle = '#fff';
    for (const s of this.#strokes) {
      ink.beginPath();
      ink.moveTo(s[0][0], s[0][1]);
      for (const [x, y] of s) ink.lineTo(x, y);
      if (s.length === 1) ink.lineTo(s[0][0] + 0.1, s[0][1]);
      ink.stroke();
    }
  }

  // Class c by name ("3", "sneaker") for the model shown.
  #name(c) {
    return this.#names?.[c] ?? String(c);
  }

  // What one image of the model's data set is called.
  #one() {
    return NOUNS[this.#dataset] ?? 'image';
  }

  // What the held-out image shown is, in words.
  #sample() {
    const label = this.#name(this.#heldout.labels[this.#index]);
    return this.#user ? `sample: MNIST digit #${this.#index}` : `held-out #${this.#index}, label ${label}`;
  }

  #nameNext() {
    const one = this.#one();
    this.#ui.next.textContent = `next ${one}`;
    this.#ui.next.setAttribute('aria-label', `next ${one}: show another held-out ${one}`);
  }

  #describePad() {
    const { pad, seen } = this.#ui;
    const one = this.#one();
    let what;
    if (this.#strokes.length) what = 'your drawing';
    else if (this.#background) what = this.#user ? `MNIST digit #${this.#index} as a sample input` : `held-out ${one} #${this.#index}, labelled ${this.#name(this.#heldout.labels[this.#index])}`;
    else what = 'empty';
    pad.setAttribute('aria-label', this.#shape[0] === 1 ? `drawing pad: draw ${/^[aeiou]/.test(one) ? 'an' : 'a'} ${one} with a mouse, pen or finger; shows ${what}`
      : `the input picture: ${what}`);
    seen.textContent = this.#strokes.length ? 'your drawing' : this.#background ? this.#sample() : '';
  }

  #firstOf(label) {
    const i = this.#heldout.labels.indexOf(label);
    return i < 0 ? 0 : i;
  }

  async #useHeldout(i) {
    const { labels, pixels } = this.#heldout;
    if (!labels.length) return;
    let image = Float32Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
    const shape = this.#shape;
    if (shape.join() !== '1,28,28') {
      // A user's model of another input shape: the digit made into it by the worker.
      try {
        image = (await this.#conn.ask('fit', { pixels: image, from: [1, 28, 28], to: shape })).value;
      } catch (e) {
        this.#fail(e);
        return;
      }
      if (shape !== this.#shape) return;   // the model changed meanwhile
    }
    this.#index = i;
    this.#background = image;
    this.#strokes.length = 0;
    this.#redraw();
    this.#describePad();
    this.#schedule();
  }

  // --- computing --------------------------------------------------------------------------

  async #start() {
    try {
      this.#conn.listeners.add((e) => { this.dataset.backend = e.backend; });
      await this.#conn.ready;
      await this.#provideModel();
    } catch (e) {
      this.#fail(e);
    }
  }

  // The held-out images and class names of the `model` attribute, then its first image; or,
  // with `model-src`, the user's model from that URL, with the held-out MNIST digits as inputs.
  async #provideModel() {
    const src = this.modelSrc;
    if (src) {
      this.#ui.status.classList.remove('error');
      this.#ui.status.textContent = 'loading the model…';
      const [heldout, about] = await Promise.all([this.#conn.heldout('mnist'), this.#conn.userModel(src)]);
      if (src !== this.modelSrc) return;   // changed again meanwhile
      return this.#adopt(about.model, about, heldout, null);
    }
    const asked = this.model;
    const entry = (await this.#conn.models()).find((m) => m.name === asked);
    const model = entry ? asked : 'mnist';   // an unknown name: the default model
    const [heldout, about] = await Promise.all([this.#conn.heldout(model), this.#conn.describe(model)]);
    if (asked !== this.model || this.modelSrc) return;   // changed again meanwhile
    return this.#adopt(model, about, heldout, entry);
  }

  #adopt(model, about, heldout, entry) {
    const recount = about.classNames.length !== this.#names?.length;
    if (about.input.join() !== this.#shape.join()) {
      // The image shown has the shape of the model before: none until the new one is made.
      this.#background = null;
      this.#strokes.length = 0;
    }
    this.#model = model;
    this.#user = about.user ?? null;
    this.#dataset = entry?.dataset ?? 'mnist';
    this.#heldout = heldout;
    this.#names = about.classNames;
    this.#presets = about.presets.map((p) => p.name);
    this.#ascentPresets = about.classModelPresets.map((p) => p.name);
    this.#stages = about.sanityStages;
    this.#shape = about.input;
    this.#size = [about.input[2], about.input[1]];
    this.#ui.pad.classList.toggle('locked', about.input[0] !== 1);
    this.#nameNext();
    if (recount && this.#panel?.bars) this.#buildPanel();
    this.#panel?.bars?.forEach((b, c) => { b.label.textContent = this.#name(c); });
    this.#useHeldout(this.#firstOf(this.digit));
  }

  #schedule() {
    this.#dirty = true;
    if (!this.#busy && this.#heldout) this.#loop();
  }

  // At most one computation in flight per element; the newest input wins.
  async #loop() {
    this.#busy = true;
    try {
      while (this.#dirty && this.isConnected) {
        this.#dirty = false;
        try {
          await this.#refresh();
        } catch (e) {
          this.#fail(e);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  // The 784 pixels to explain: the held-out digit itself while nothing is drawn on it,
  // else the pad's ink made into an MNIST digit by the worker. null: the pad is empty.
  async #input() {
    if (!this.#strokes.length) return this.#background ? Float32Array.from(this.#background) : null;
    const { pad } = this.#ui;
    const rgba = this.#ink.getImageData(0, 0, pad.width, pad.height).data;
    const gray = new Float32Array(pad.width * pad.height);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i + 3] / 255;
    const { value } = await this.#conn.ask('toMnist', { gray, width: pad.width, height: pad.height, input: this.#shape }, [gray.buffer]);
    return value;
  }

  async #refresh() {
    await this.#conn.ready;
    const pixels = await this.#input();
    if (!pixels) {
      this.#ui.status.textContent = 'Draw a digit in the black box.';
      return;
    }
    const p = this.#panel;
    if (p.method === 'class-model') return this.#classModel(pixels);
    const model = this.#model;
    // Only the methods that show LRP take the `composite` attribute: a bad one breaks no other.
    const composite = ['lrp', 'faithfulness'].includes(p.method) ? this.composite : 'recommended';
    const analysed = this.#conn.ask('analyse', {
      model, pixels, class: this.target, composite, pool: 'max', quantile: this.#number('quantile', 0.95, 0, 1),
    });
    // The slower methods' op works on the worker's last analysis: asked in the same turn, so
    // that no other element's analysis comes between the two.
    const op = EXTRA_OP[p.method];
    const extra = op && this.#conn.ask(op, op === 'sanity' ? {} : { ...this.#attributionOptions(), k: FAITHFULNESS_K });
    extra?.catch(() => {});   // when the analysis fails, its error is the one shown
    const { value: a, backend } = await analysed;
    // The method or the model changed meanwhile.
    const stale = () => p !== this.#panel || model !== this.#model;
    if (stale()) { this.#dirty = true; return; }
    this.#showPrediction(a.prediction);
    const cls = a.prediction.class;
    if (p.method === 'saliency') this.#showSaliency(p, a.saliency, cls, backend);
    else if (p.method === 'lrp') this.#showRelevance(p, a.lrp, cls, backend);
    else if (p.method === 'localisation') this.#showLocalisation(p, a.saliency, cls, backend);
    else if (p.method === 'predict') this.#showProbabilities(p, a.prediction, backend);
    else {
      p.meta.textContent = `Class ${this.#name(cls)} · computing…`;
      const { value: x, backend: b } = await extra;
      if (stale() || this.#dirty) { this.#dirty = true; return; }
      if (p.method === 'attributions') this.#showAttributions(p, a, x, b);
      else if (p.method === 'faithfulness') this.#showFaithfulness(p, x, b);
      else this.#showSanity(p, x, b);
      return this.#repainted(b);
    }
    this.#repainted(backend);
  }

  #showPrediction(pr) {
    const { seen } = this.#ui;
    const base = this.#strokes.length ? 'your drawing' : this.#sample();
    seen.textContent = `${base} · predicted ${this.#name(pr.predicted)} (p ${pr.probabilities[pr.predicted].toFixed(3)})`;
  }

  #showSaliency(p, s, cls, backend) {
    for (const [m, { canvas: c, value }] of Object.entries(p.maps)) {
      paint(c, s.methods[m].rgba, ...this.#size);
      value.textContent = `max ${num(s.methods[m].max)}`;
    }
    p.meta.textContent = `Class ${this.#name(cls)} · ${backendName(backend)} · ${ms(s.ms)}`;
  }

  // One figure per weighted layer of the model shown: made again when the layers change.
  #relevanceMaps(p, layers) {
    if (layers.map((l) => l.name).join() === Object.keys(p.layers).join()) return;
    p.layers = {};
    p.layerMaps.replaceChildren(...layers.map((l, i) => {
      const label = `${l.name} in (${i === 0 ? 'pixels' : l.perUnit ? `${l.width} units` : `${l.width}×${l.height}`})`;
      const c = canvas(l.width, l.height, l.perUnit ? 'map wide' : 'map', `relevance entering ${label}`);
      const sum = el('span', { class: 'sum' });
      p.layers[l.name] = { canvas: c, sum };
      return el('figure', {}, c, el('figcaption', {}, el('span', { text: label }), sum));
    }));
  }

  #showRelevance(p, r, cls, backend) {
    this.#relevanceMaps(p, r.layers);
    for (const l of r.layers) {
      const view = p.layers[l.name];
      paint(view.canvas, l.rgba, l.width, l.height);
      setText(view.sum, `ΣR/S_c = ${(l.total / r.score).toFixed(3)}`);
      view.canvas.setAttribute('aria-label', `relevance entering ${l.name}; colour limit ±${num(l.limit ?? 1)}`);
    }
    setText(p.meta, `Class ${this.#name(cls)}, S_c = ${r.score.toFixed(2)} · ${backendName(backend)} · ${ms(r.ms)}`);
  }

  #showProbabilities(p, pr, backend) {
    pr.probabilities.forEach((q, c) => {
      const b = p.bars[c];
      b.fill.style.width = `${(100 * q).toFixed(1)}%`;
      b.value.textContent = q.toFixed(3);
      b.row.classList.toggle('top', c === pr.predicted);
    });
    p.barsBox.setAttribute('aria-label', `class probabilities: ${Array.from(pr.probabilities, (q, c) => `${this.#name(c)}: ${q.toFixed(2)}`).join(', ')}`);
    p.meta.textContent = `${backendName(backend)} · ${ms(pr.ms)}`;
  }

  // The saliency map, and beside it (larger, so that the box is sharp) the region above the
  // quantile over the digit in grey, with its box.
  #showLocalisation(p, s, cls, backend) {
    const [w, h] = this.#size;
    const { canvas: c, value } = p.maps.gradient;
    paint(c, s.methods.gradient.rgba, w, h);
    const q = this.#number('quantile', 0.95, 0, 1);
    value.textContent = `quantile ${(100 * q).toFixed(1)} %`;
    const { box, rgba } = s.localisation;
    const small = new OffscreenCanvas(w, h);
    small.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), w, h), 0, 0);
    if (p.box.width !== w * BOX_SCALE || p.box.height !== h * BOX_SCALE) { p.box.width = w * BOX_SCALE; p.box.height = h * BOX_SCALE; }
    const ctx = p.box.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, p.box.width, p.box.height);
    if (box) {
      ctx.strokeStyle = '#ff2d95';
      ctx.lineWidth = 3;
      ctx.strokeRect(box.x * BOX_SCALE, box.y * BOX_SCALE, box.width * BOX_SCALE, box.height * BOX_SCALE);
    }
    p.box.dataset.box = box ? `${box.x},${box.y},${box.width},${box.height}` : '';
    p.boxText.textContent = box ? `x ${box.x}, y ${box.y}, ${box.width}×${box.height}` : 'no pixel above the threshold';
    p.box.setAttribute('aria-label', box ? `localisation for class ${this.#name(cls)}: the pixels above the ${(100 * q).toFixed(1)} % quantile of the saliency, boxed at x ${box.x}, y ${box.y}, ${box.width} by ${box.height} pixels`
      : `localisation for class ${this.#name(cls)}: no pixel above the ${(100 * q).toFixed(1)} % quantile of the saliency`);
    p.meta.textContent = `Class ${this.#name(cls)} · ${backendName(backend)} · ${ms(s.ms)}`;
  }

  // The gradient and gradient × input come with the analysis; SmoothGrad and Integrated
  // Gradients with the worker's 'attributions'.
  #showAttributions(p, a, x, backend) {
    const shown = {
      gradient: [a.saliency.methods.gradient.rgba, `max ${num(a.saliency.methods.gradient.max)}`],
      smoothGrad: [x.smoothGrad.rgba, `n ${x.options.smoothGrad.samples}, σ ${x.options.smoothGrad.sigma}`],
      gradientInput: [a.gradientInput.rgba, `Σ = ${num(a.gradientInput.total)}`],
      integratedGradients: [x.integratedGradients.rgba, `m ${x.options.integratedGradients.steps}, Σ = ${num(x.integratedGradients.total)}`],
    };
    for (const [m, { canvas: c, value }] of Object.entries(p.maps)) {
      paint(c, shown[m][0], ...this.#size);
      value.textContent = shown[m][1];
    }
    const ig = x.integratedGradients;
    if (p.completeness) setText(p.completeness, `Completeness: Σ IG = ${num(ig.total)} vs S_c(x) − S_c(black) = ${num(ig.difference)}, error ${(100 * ig.error).toFixed(2)} %`);
    p.meta.textContent = `Class ${this.#name(x.class)} · ${backendName(backend)} · SmoothGrad ${ms(x.smoothGrad.ms)}, Integrated Gradients ${ms(ig.ms)}`;
  }

  #showFaithfulness(p, f, backend) {
    const random = f.curves.find((c) => c.name === 'random');
    for (const c of f.curves) {
      const plot = p.plots[c.name];
      if (!plot) continue;
      plotCurves(plot.canvas, c, random, f.k, f.pixels);
      plot.auc.textContent = `AUC deletion ${c.deletionAuc.toFixed(3)} · insertion ${c.insertionAuc.toFixed(3)}`;
      plot.canvas.setAttribute('aria-label', `${MAP_NAMES[c.name]}: deletion AUC ${c.deletionAuc.toFixed(3)}, insertion AUC ${c.insertionAuc.toFixed(3)}; random order: ${random.deletionAuc.toFixed(3)}, ${random.insertionAuc.toFixed(3)}`);
    }
    p.meta.textContent = `Class ${this.#name(f.class)} · random order: deletion ${random.deletionAuc.toFixed(3)}, insertion ${random.insertionAuc.toFixed(3)} · ${backendName(backend)} · ${ms(f.ms)}`;
  }

  // One row per method, one column per stage shown: all of them, or the trained network and
  // the `stage` attribute's. Made again when those change.
  #showSanity(p, s, backend) {
    const chosen = this.stage;
    const columns = s.stages.map((_, i) => i).filter((i) => !chosen || i === 0 || s.stages[i] === chosen);
    const methods = this.maps.map((m) => s.methods.find((x) => x.name === m)).filter(Boolean);
    const layout = `${methods.map((m) => m.name)}|${columns.map((i) => s.stages[i])}`;
    if (p.layout !== layout) {
      p.layout = layout;
      p.cells = {};
      const head = el('tr', {}, el('th', { scope: 'col', text: 'method' }),
        ...columns.map((i) => el('th', { scope: 'col', text: stageName(s.stages[i], i) })));
      const rows = methods.map((m) => el('tr', {}, el('th', { scope: 'row', text: MAP_NAMES[m.name] }), ...columns.map((i) => {
        const c = canvas(28, 28, 'map small', `${MAP_NAMES[m.name]}, ${stageName(s.stages[i], i)}`);
        const rho = el('span', { class: 'sum' });
        p.cells[`${m.name}/${i}`] = { canvas: c, rho };
        return el('td', {}, c, rho);
      })));
      p.grid.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
    }
    for (const m of methods) {
      for (const i of columns) {
        const { canvas: c, rho } = p.cells[`${m.name}/${i}`];
        paint(c, m.rgba[i], ...this.#size);
        rho.textContent = `ρ ${m.spearman[i].toFixed(2)}`;
        c.setAttribute('aria-label', `${MAP_NAMES[m.name]}, ${stageName(s.stages[i], i)}: Spearman ρ ${m.spearman[i].toFixed(2)} with the trained network's map`);
      }
    }
    p.meta.textContent = `Class ${this.#name(s.class)} · ${backendName(backend)} · ${ms(s.ms)} for ${s.stages.length} networks`;
  }

  // The class model of the class shown: the held-out digit's label, or what the network
  // reads in a drawing. Steps come in chunks so that the image grows as it ascends.
  async #classModel(pixels) {
    const p = this.#panel;
    let cls;
    // The `target` class; else for a drawing, or a user's model (the sample's label is a digit,
    // not its class), the class the network reads.
    if (this.target >= 0) {
      cls = this.target;
    } else if (this.#strokes.length || this.#user) {
      const { value: a } = await this.#conn.ask('analyse', {
        model: this.#model, pixels, class: -1, composite: 'recommended', pool: 'max', quantile: 0.95,
      });
      this.#showPrediction(a.prediction);
      cls = a.prediction.predicted;
    } else {
      cls = this.#heldout.labels[this.#index];
    }
    const stale = () => this.#dirty || !this.isConnected || p !== this.#panel;
    if (stale()) return;
    if (ascents > 0) this.#ui.status.textContent = 'Waiting for another class model on this page…';
    await exclusive(async () => {
      if (stale()) return;
      if (this.#ui.status.textContent.startsWith('Waiting')) this.#ui.status.textContent = '';
      const options = { preset: this.preset, start: 'noise', seed: this.#seed };
      let spent = (await this.#conn.ask('classModelStart', { model: this.#model, class: cls, options })).ms;
      for (let done = 0; done < CLASS_MODEL_STEPS; done += CLASS_MODEL_CHUNK) {
        if (stale()) return;
        const { value: s, ms: t, backend } = await this.#conn.ask('classModelStep', { n: Math.min(CLASS_MODEL_CHUNK, CLASS_MODEL_STEPS - done) });
        spent += t;
        if (p !== this.#panel) return;
        paint(p.image, s.rgba, ...this.#size);
        p.image.setAttribute('aria-label', `class model image of ${this.#name(cls)} after ${s.steps} steps`);
        p.range.textContent = `display: black = ${s.lo.toFixed(2)}, white = ${s.hi.toFixed(2)}`;
        setText(p.progress, `class ${this.#name(cls)} · step ${s.steps} of ${CLASS_MODEL_STEPS} · p(${this.#name(cls)}) = ${s.probability.toFixed(4)} · S_c = ${s.score.toFixed(2)}`);
        p.meta.textContent = `${backendName(backend)} · ${ms(spent)} for ${s.steps} steps`;
        this.dataset.steps = String(s.steps);
        this.#repainted(backend);
      }
    });
  }

  #repainted(backend) {
    if (backend) this.dataset.backend = backend;
    if (this.#ui.status.textContent) this.#ui.status.textContent = '';
    this.#ui.status.classList.remove('error');
    this.dataset.updates = String(Number(this.dataset.updates ?? 0) + 1);
    this.dataset.ready = '1';
  }

  #fail(e) {
    if (!this.#ui) return;
    this.#ui.status.textContent = `Error: ${e?.message ?? e}`;
    this.#ui.status.classList.add('error');
  }
}

if (!customElements.get('deep-inside-demo')) customElements.define('deep-inside-demo', DeepInsideDemo);
