// The evaluation panel, as Quantus evaluates explanations (Hedström et al. 2023). UI only: the
// wasm measures (`evaluate`), sums up (`summarise`: means, 95 % bootstrap intervals, box-plot
// numbers, ranks) and names, groups and explains every metric (`evaluationCatalogue`); this
// module asks the worker for them and draws. Every table has one row per metric, grouped as
// Quantus groups them, and one column per method: it grows down, not sideways, as metrics are
// added, so that it fits the page's column.
// - Live: the metrics of the input shown, for its class. app.js computes the parts `LIVE` after
//   the first panels, as it does the faithfulness curves: for the newest input only, never
//   while the pen is down. They cost about as much as the first panels, and the next input
//   waits for them, so they are computed only while this panel is on screen (scrolled to, they
//   catch up). 'costly' (sensitivities, Lipschitz, efficient MPRT: they explain noisy copies or
//   randomised networks again) only while its toggle is on.
// - The held-out set: chunks of images, one worker call each, so that the page stays usable
//   (analyses queue between chunks), the progress shows, and cancel stops between chunks; a
//   later click goes on from the image it stopped at, since the values so far stay in this tab.

import { csv, download, showTable } from './export.js';

const $ = (id) => document.getElementById(id);

/** The live parts, in the order app.js computes them. */
export const LIVE = ['metrics', 'costly'];

/** Images per whole-set chunk: a progress step every 2 % of the set, at most 20 images. */
const chunkOf = (count) => Math.max(1, Math.min(20, Math.round(count / 50)));

/** Method colours in the box plots: Okabe & Ito's eight, which the common colour-vision
 * deficiencies tell apart (their black as grey, for the random control). */
const COLOURS = ['#e69f00', '#56b4e9', '#009e73', '#f0e442', '#0072b2', '#d55e00', '#cc79a7', '#888888'];

/** Three significant digits; whole numbers (counts) as they are; a dash where undefined. */
const fmt = (v) => (!Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3))));
const thousands = (n) => n.toLocaleString('en');

function seconds(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${(ms / 1000).toFixed(s < 10 ? 1 : 0)} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const hidden = (text) => element('span', 'visually-hidden', text);

let hooks = null;       // app.js: {ask, later, model(), heldout(), nameOf(class)}
let catalogue = null;   // the wasm's evaluationCatalogue(), once asked

async function catalogueOf() {
  catalogue ??= (await hooks.ask('catalogue')).value;
  return catalogue;
}

const costlyOn = () => $('eval-costly').checked;
const names = (list) => list.map((m) => m.name);

/** A metric's Quantus name and its arrow: ↑ where higher is better, ↓ where lower is. */
function nameOf(m) {
  const arrow = element('span', 'better', m.better === 'higher' ? ' ↑' : ' ↓');
  arrow.setAttribute('aria-hidden', 'true');
  return [element('span', 'name', m.quantus), arrow];
}

/** The metric's row header: its Quantus name, which way is better, and what that means. */
function metricHeader(m) {
  const th = element('th');
  th.scope = 'row';
  const label = element('span', 'label');
  label.append(...nameOf(m));
  th.append(label, hidden(` (${m.better} is better)`), element('span', 'meaning', m.meaning));
  return th;
}

/** Fills `table`: a caption, one column per method, one row per metric in tbodies by group.
 * `cell(j, metric)` gives a method's cell: {score (lower is better; not finite: no value),
 * nodes, value (for data-value)}; the best score of each row is marked. `foot`: an optional
 * last row, {label, cells: [{score, nodes}]}. */
function fill(table, { caption, methods, metrics, cell, foot }) {
  const head = element('tr');
  const corner = element('th', '', 'metric');
  corner.scope = 'col';
  head.append(corner, ...methods.map((m) => {
    const th = element('th', m.name === 'random' ? 'random' : '', m.title);
    th.scope = 'col';
    return th;
  }));
  const thead = element('thead');
  thead.append(head);
  const row = (header, cells) => {
    const tr = element('tr');
    const finite = cells.filter((c) => Number.isFinite(c.score));
    const best = finite.length ? Math.min(...finite.map((c) => c.score)) : NaN;
    tr.append(header, ...cells.map((c, j) => {
      const td = element('td', methods[j].name === 'random' ? 'random' : '');
      td.dataset.method = methods[j].name;
      td.dataset.title = methods[j].title;
      if (c.value !== undefined) td.dataset.value = String(c.value);
      if (c.score === best) {
        td.classList.add('best');
        const strong = element('strong');
        strong.append(...c.nodes);
        td.append(strong, hidden(' (best)'));
      } else {
        td.append(...c.nodes);
      }
      return td;
    }));
    return tr;
  };
  const bodies = [];
  for (const m of metrics) {
    let body = bodies.at(-1);
    if (body?.dataset.group !== m.group) {
      body = element('tbody');
      body.dataset.group = m.group;
      const th = element('th', '', m.group);
      th.scope = 'rowgroup';
      th.colSpan = methods.length + 1;
      const tr = element('tr', 'group');
      tr.append(th);
      body.append(tr);
      bodies.push(body);
    }
    const tr = row(metricHeader(m), methods.map((_, j) => cell(j, m)));
    tr.dataset.metric = m.name;
    body.append(tr);
  }
  const parts = [element('caption', '', caption), thead, ...bodies];
  if (foot) {
    const tfoot = element('tfoot');
    const th = element('th', '', foot.label);
    th.scope = 'row';
    tfoot.append(row(th, foot.cells));
    parts.push(tfoot);
  }
  table.replaceChildren(...parts);
}

/** A value's score for marking the best: lower is better. */
const scoreOf = (v, better) => (better === 'higher' ? -v : v);

// --- live: the input shown -----------------------------------------------------------------
let live = null;         // {class, cheap: evaluate's result, costly: its result or null}
let onScreen = false;    // the panel is (partly) on screen
let behind = false;      // a live part was skipped off screen: the table is of an older input

/** Live part `part`, as app.js's `ask` resolves: {value, backend}; `value.skipped` says why
 * nothing was computed ('hidden': off screen; 'off': the costly toggle is off). */
export async function request(part) {
  const skip = (why) => ({ value: { model: hooks.model(), skipped: why } });
  if (!onScreen) return skip('hidden');
  const cat = await catalogueOf();
  if (part === 'costly' && !costlyOn()) return skip('off');
  const metrics = cat.metrics.filter((m) => m.costly === (part === 'costly'));
  return hooks.ask('evaluate', { metrics: names(metrics) });
}

/** Shows live part `part`'s result (`request`'s value, so the catalogue is here). */
export function show(part, value, backend) {
  if (value.skipped) {
    behind ||= value.skipped === 'hidden';
    $(`${part}-meta`).textContent = value.skipped === 'off' ? 'off' : 'computed while this panel is on screen';
    return;
  }
  // The metrics run on the CPU, on a copy of the model where it is on WebGPU.
  const meta = `${part === 'metrics' ? 'This input' : 'Costly metrics'}: class ${hooks.nameOf(value.class)} · `
    + `${value.methods.length} methods × ${value.metrics.length} metrics · `
    + `${backend === 'cpu' ? 'cpu' : `cpu, a copy of the ${backend} model`} · ${seconds(value.ms)}`;
  if (part === 'metrics') {
    // The costly part follows for the same input (at once where the worker kept its values).
    live = { class: value.class, cheap: value, costly: null };
    $('metrics-meta').textContent = meta;
  } else {
    if (live) live.costly = value;
    $('costly-meta').textContent = meta;
  }
  drawLive();
}

/** The live table from `live`: the cheap metrics, then (toggle on) the costly ones, "…" until
 * they come. */
function drawLive() {
  if (!live) return;
  const cat = catalogue;
  const results = [live.cheap, ...(costlyOn() && live.costly ? [live.costly] : [])];
  const shown = new Map();
  for (const r of results) r.metrics.forEach((name, k) => shown.set(name, { r, k }));
  const metrics = cat.metrics.filter((m) => shown.has(m.name) || (m.costly && costlyOn()));
  const methods = live.cheap.methods.map((name) => cat.methods.find((m) => m.name === name));
  const value = (j, m) => {
    const at = shown.get(m.name);
    return at ? at.r.values[j * at.r.metrics.length + at.k] : undefined;
  };
  fill($('eval-live'), {
    caption: `This input, explained for class ${hooks.nameOf(live.class)}: one row per metric, one column per method; bold: the best in its row`,
    methods,
    metrics,
    cell: (j, m) => {
      const v = value(j, m);
      if (v === undefined) return { score: NaN, nodes: ['…'] };
      return { score: scoreOf(v, m.better), nodes: [fmt(v)], value: v };
    },
  });
  showTable('eval-live', {
    name: 'metrics of this input', file: `metrics-class${live.class}`,
    header: ['metric', ...methods.map((m) => m.name)],
    rows: metrics.filter((m) => shown.has(m.name)).map((m) => [m.name, ...methods.map((_, j) => value(j, m))]),
  });
}

/** Blanks the live table: the input it measured is gone. */
export function clear() {
  live = null;
  $('eval-live').replaceChildren();
  showTable('eval-live', null);
}

// --- the held-out set ------------------------------------------------------------------------
// The run so far: {model, metrics, methods, count, done, values: Float64Array[], ms, running,
// cancel}. Kept while the tab lives, so that a cancelled run can go on.
let run = null;

/** The images asked for, within the model's held-out set (0 where it has none). */
function wanted() {
  const size = hooks.heldout()?.labels.length ?? 0;
  const asked = Math.round(Number($('eval-count').value));
  return Math.min(size, Number.isFinite(asked) && asked >= 1 ? asked : size);
}

/** Whether a click goes on with `run`: same model, same metrics, fewer images done than asked. */
const resumable = (metrics) => run && !run.running && run.model === hooks.model() && run.done > 0
  && run.done < wanted() && run.metrics.join() === metrics.join();

/** The metric names a whole-set run measures now. */
async function setMetrics() {
  const cat = await catalogueOf();
  return names(cat.metrics.filter((m) => costlyOn() || !m.costly));
}

/** The run button's words (and whether it can run) for the model, images and metrics chosen. */
export async function relabel() {
  const button = $('eval-run');
  if (run?.running) return;
  const size = hooks.heldout()?.labels.length ?? 0;
  $('eval-count').max = String(size || 1000);
  if (!size) {
    button.disabled = true;
    button.textContent = hooks.model().startsWith('user-') ? 'Your model has no held-out set to evaluate on'
      : 'Evaluate on the held-out images (loading them…)';
    return;
  }
  const n = wanted();
  let metrics;
  try {
    metrics = await setMetrics();
  } catch {
    return;
  }
  button.disabled = false;
  button.textContent = resumable(metrics) ? `Go on: ${thousands(run.done)} of ${thousands(n)} images done`
    : n === size ? `Evaluate on the ${thousands(n)} held-out images`
      : n === 1 ? 'Evaluate on one held-out image' : `Evaluate on ${thousands(n)} held-out images, spread over the set`;
}

function progress() {
  const bar = $('eval-progress');
  bar.max = run.count;
  bar.value = run.done;
  const left = run.done ? (run.ms / run.done) * (run.count - run.done) : NaN;
  $('eval-status').textContent = `${thousands(run.done)} / ${thousands(run.count)} images · ${seconds(run.ms)}`
    + (run.done < run.count && Number.isFinite(left) ? ` · about ${seconds(left)} left` : '');
}

/** Runs (or goes on with) the whole-set evaluation, chunk by chunk. */
async function evaluateSet() {
  const metrics = await setMetrics();
  const model = hooks.model();
  if (!wanted() || run?.running) return;
  if (!resumable(metrics)) {
    run = { model, metrics, costly: costlyOn(), methods: null, count: 0, done: 0, values: [], ms: 0 };
  }
  run.count = wanted();
  run.running = true;
  run.cancel = false;
  $('eval-run').disabled = true;
  $('eval-cancel').disabled = false;
  const chunk = chunkOf(run.count);
  progress();
  try {
    while (run.done < run.count && !run.cancel) {
      const t0 = performance.now();
      const { value } = await hooks.ask('evaluate', { model, metrics, first: run.done, count: Math.min(chunk, run.count - run.done), size: run.count });
      run.ms += performance.now() - t0;
      run.methods = value.methods;
      run.values.push(value.values);
      run.done += value.values.length / (value.methods.length * value.metrics.length);
      progress();
    }
    const complete = run.done === run.count;
    $('eval-status').textContent += complete ? ' · done' : ' · cancelled: click again to go on from here (while this tab stays open)';
    if (complete) record();
    await summarise();
  } catch (e) {
    console.warn(e);
    $('eval-status').textContent = `error after ${thousands(run.done)} images: ${e.message}`;
  } finally {
    run.running = false;
    $('eval-cancel').disabled = true;
    document.body.dataset.evaluations = String(Number(document.body.dataset.evaluations ?? 0) + 1);
    relabel();
  }
}

/** The values gathered so far, in one array. */
function gathered() {
  const all = new Float64Array(run.values.reduce((n, v) => n + v.length, 0));
  let at = 0;
  for (const v of run.values) {
    all.set(v, at);
    at += v.length;
  }
  return all;
}

/** Notes a finished run's wall time (the time in its chunks, pauses left out). */
function record() {
  const li = element('li', '', `${run.model}: ${thousands(run.done)} images × ${run.methods.length} methods × `
    + `${run.metrics.length} metrics (${run.costly ? 'costly ones included' : 'the cheap ones'}) in ${seconds(run.ms)}, `
    + `${(run.ms / run.done).toFixed(0)} ms an image`);
  Object.assign(li.dataset, { ms: String(run.ms), images: String(run.done), metrics: run.metrics.join() });
  $('eval-times').append(li);
}

let summary = null;   // {run, cat, value}: what the results show

async function summarise() {
  if (!run.done) return;
  const cat = await catalogueOf();
  const { value } = await hooks.ask('summarise', { values: gathered(), methods: run.methods, metrics: run.metrics });
  summary = { run, cat, value };
  drawSummary();
}

function drawSummary() {
  const { run: r, cat, value } = summary;
  const methods = value.methods.map((s) => ({ ...cat.methods.find((m) => m.name === s.method), s }));
  const metrics = r.metrics.map((name) => cat.metrics.find((m) => m.name === name));
  const of = `${thousands(value.images)} held-out images (${r.model}${r.done < r.count ? `, the first ${thousands(r.done)} of ${thousands(r.count)}` : ''})`;
  fill($('eval-means'), {
    caption: `Means over ${of}, with 95 % bootstrap intervals (${thousands(value.resamples)} resamples); bold: the best mean in its row`,
    methods,
    metrics,
    cell: (j, m) => {
      const s = methods[j].s.metrics[m.name];
      return { score: Number.isFinite(s.mean) ? methods[j].s.ranks[m.name] : NaN, value: s.mean,
               nodes: [fmt(s.mean), element('span', 'interval', `[${fmt(s.low)}, ${fmt(s.high)}]`)] };
    },
  });
  const ranked = [...methods].sort((a, b) => a.s.meanRank - b.s.meanRank);
  fill($('eval-ranks'), {
    caption: `Ranks over ${of}: 1 is the best mean in its row, ties share; the methods from the best mean rank`,
    methods: ranked,
    metrics,
    cell: (j, m) => ({ score: ranked[j].s.ranks[m.name], value: ranked[j].s.ranks[m.name], nodes: [fmt(ranked[j].s.ranks[m.name])] }),
    foot: { label: 'mean rank', cells: ranked.map((m) => ({ score: m.s.meanRank, nodes: [fmt(m.s.meanRank)] })) },
  });
  $('eval-legend').replaceChildren(...methods.map((m, j) => {
    const li = element('li');
    const swatch = element('span', 'swatch');
    swatch.style.background = COLOURS[j % COLOURS.length];
    li.append(swatch, m.title);
    return li;
  }));
  $('eval-boxes').replaceChildren(...metrics.map((m) => {
    const f = element('figure');
    const canvas = element('canvas', 'box-plot');
    canvas.setAttribute('role', 'img');
    const stats = methods.map((x) => x.s.metrics[m.name]);
    canvas.setAttribute('aria-label', `${m.quantus} (${m.better} is better), medians and quartiles: `
      + methods.map((x, j) => `${x.title} ${fmt(stats[j].median)} (${fmt(stats[j].q1)} to ${fmt(stats[j].q3)})`).join(', '));
    const cap = element('figcaption');
    cap.append(...nameOf(m));
    f.append(canvas, cap);
    return f;
  }));
  // Drawn once laid out: a canvas takes its bitmap size from its CSS size.
  const canvases = $('eval-boxes').querySelectorAll('canvas');
  $('eval-results').hidden = false;
  metrics.forEach((m, i) => boxPlot(canvases[i], methods.map((x) => x.s.metrics[m.name])));
}

/** Box plots side by side, in the methods' colours: whiskers from min to max, the box from q1
 * to q3, the median as a line. */
function boxPlot(canvas, stats) {
  const { width: w, height: h } = canvas.getBoundingClientRect();
  const scale = devicePixelRatio || 1;
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  const g = canvas.getContext('2d');
  g.scale(scale, scale);
  const ok = stats.filter((s) => s.n > 0 && Number.isFinite(s.min));
  if (!ok.length) return;
  let lo = Math.min(...ok.map((s) => s.min));
  let hi = Math.max(...ok.map((s) => s.max));
  if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  g.font = '10px system-ui, sans-serif';
  const left = 5 + Math.max(g.measureText(fmt(hi)).width, g.measureText(fmt(lo)).width), right = 4, top = 6, bottom = 6;
  const y = (v) => top + ((hi - v) / (hi - lo)) * (h - top - bottom);
  g.fillStyle = '#555';
  g.textAlign = 'right';
  g.textBaseline = 'top';
  g.fillText(fmt(hi), left - 3, top - 2);
  g.textBaseline = 'bottom';
  g.fillText(fmt(lo), left - 3, h - bottom + 2);
  g.strokeStyle = '#ccc';
  g.lineWidth = 1;
  g.strokeRect(left + 0.5, top + 0.5, w - left - right - 1, h - top - bottom - 1);
  if (lo < 0 && hi > 0) {
    g.setLineDash([3, 3]);
    g.beginPath();
    g.moveTo(left, y(0));
    g.lineTo(w - right, y(0));
    g.stroke();
    g.setLineDash([]);
  }
  const slot = (w - left - right) / stats.length;
  stats.forEach((s, i) => {
    if (!(s.n > 0)) return;
    const x = left + slot * (i + 0.5);
    const half = slot * 0.3;
    g.strokeStyle = '#333';
    g.beginPath();
    g.moveTo(x, y(s.min));
    g.lineTo(x, y(s.max));
    g.moveTo(x - half / 2, y(s.min));
    g.lineTo(x + half / 2, y(s.min));
    g.moveTo(x - half / 2, y(s.max));
    g.lineTo(x + half / 2, y(s.max));
    g.stroke();
    g.fillStyle = COLOURS[i % COLOURS.length];
    const top3 = y(s.q3);
    const height = Math.max(1, y(s.q1) - top3);
    g.fillRect(x - half, top3, 2 * half, height);
    g.strokeRect(x - half, top3, 2 * half, height);
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(x - half, y(s.median));
    g.lineTo(x + half, y(s.median));
    g.stroke();
    g.lineWidth = 1;
  });
}

/** Every value as CSV: image (its index in the held-out set), method, metric, value. */
function valuesCsv() {
  const { run: r } = summary;
  const all = gathered();
  const rows = [['image', 'method', 'metric', 'value']];
  const k = r.metrics.length;
  const per = r.methods.length * k;
  for (let i = 0; i < all.length; i++) {
    rows.push([Math.floor(i / per), r.methods[Math.floor(i / k) % r.methods.length], r.metrics[i % k], all[i]]);
  }
  return csv(rows);
}

/** Per method and metric: the summary's numbers and the rank. */
function summaryCsv() {
  const { run: r, value } = summary;
  const fields = ['n', 'mean', 'low', 'high', 'min', 'q1', 'median', 'q3', 'max'];
  const rows = [['method', 'metric', ...fields, 'rank', 'meanRank']];
  for (const s of value.methods) {
    for (const name of r.metrics) rows.push([s.method, name, ...fields.map((f) => s.metrics[name][f]), s.ranks[name], s.meanRank]);
  }
  return csv(rows);
}

/** Sets the panel up. `app`: {ask (the worker call), later (schedules live parts), model()
 * (the model shown), heldout() (its held-out set {labels, pixels}, null without one),
 * nameOf(class) (a class's name)}. */
export function setupEvaluation(app) {
  hooks = app;
  new IntersectionObserver((entries) => {
    onScreen = entries.at(-1).isIntersecting;
    if (onScreen && behind) {
      behind = false;
      hooks.later(LIVE);
    }
  }).observe($('evaluation-title').closest('.panel'));
  $('eval-costly').addEventListener('change', async () => {
    relabel();
    if (costlyOn()) {
      hooks.later(['costly']);
    } else {
      $('costly-meta').textContent = 'off';
      drawLive();
    }
  });
  $('eval-count').addEventListener('input', relabel);
  $('eval-run').addEventListener('click', evaluateSet);
  $('eval-cancel').addEventListener('click', () => {
    if (!run?.running) return;
    run.cancel = true;
    $('eval-cancel').disabled = true;
    $('eval-status').textContent += ' · stopping after this chunk…';
  });
  for (const [id, file, make] of [['eval-csv-values', 'values', valuesCsv], ['eval-csv-summary', 'summary', summaryCsv]]) {
    $(id).addEventListener('click', () => {
      download(new Blob([make()], { type: 'text/csv' }), `${summary.run.model}-evaluation-${file}-${summary.value.images}.csv`);
    });
  }
}
