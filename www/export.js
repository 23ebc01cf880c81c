// Exports and fair comparison of the page's maps (UI only: every colour comes from the wasm's
// `mapToRgba`, through the worker).
// - Each map canvas the page shows through `showMap` can be downloaded as .npy (NPY 1.0, '<f4',
//   C order) and CSV of its raw values; the faithfulness and sanity tables (`showTable`) as CSV;
//   each panel as a PNG at 4× its CSS size, with its legends and caption text. One "export" menu
//   per panel lists them.
// - Pointing at a map, or focusing it (the arrow keys then move a cursor pixel), reads out the
//   pixel (x, y from 0, as a[y, x] of the .npy), its value, its rank among the map's values
//   (1 = the largest: magnitude maps hold magnitudes, signed maps rank the most positive, the
//   most "for the class", first, as the faithfulness curves do) and the input pixel.
// - "One colour scale for all maps": comparable maps share one limit, the largest magnitude over
//   them, so that a colour means one value across them. The groups, by what their values
//   measure: `gradient` (∂S_c/∂x: the gradient, DeconvNet, guided backprop, |SmoothGrad| and the
//   signed gradient) and `attribution` (shares of S_c: gradient × input, Integrated Gradients,
//   LRP at the pixels). Deeper LRP layers and the sanity grid keep a scale per map: the layers
//   differ in their number of units, and the sanity check compares rankings (Spearman ρ) of
//   networks whose gradients differ by orders of magnitude.

const $ = (id) => document.getElementById(id);

// --- file formats ------------------------------------------------------------------------

/** The bytes of an .npy file (format 1.0) of float32 `values`, C order, of `shape`: the magic,
 * the version, the header's length (u16, little-endian), then the header, a Python dict literal
 * padded with spaces and ended by a newline so that the data starts at a multiple of 64 bytes. */
export function npy(values, shape) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  const unpadded = 10 + dict.length + 1;
  const header = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const bytes = new Uint8Array(10 + header.length + 4 * values.length);
  const ascii = (text) => Array.from(text, (c) => c.charCodeAt(0));
  bytes.set([0x93, ...ascii('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8, ...ascii(header)]);
  const data = new DataView(bytes.buffer, 10 + header.length);
  values.forEach((v, i) => data.setFloat32(4 * i, v, true));
  return bytes;
}

/** The shortest decimal that reads back as the same float32 (numpy's repr of a float32). */
export function f32Text(v) {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (Object.is(v, -0)) return '-0';
  for (let digits = 1; digits < 9; digits++) {
    const text = String(Number(v.toPrecision(digits)));
    if (Math.fround(Number(text)) === v) return text;
  }
  return String(Number(v.toPrecision(9)));
}

/** CSV text of `rows` (arrays of cells); cells with a comma, quote or newline are quoted. */
export function csv(rows) {
  const cell = (c) => {
    const s = typeof c === 'number' ? String(c) : c;
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return `${rows.map((r) => r.map(cell).join(',')).join('\n')}\n`;
}

/** A map's values as CSV: one line per row of the last axis ([c, h, w]: the channels' rows one
 * after another, as numpy's `loadtxt(...).reshape(c, h, w)` reads them back). */
function mapCsv(values, shape) {
  const w = shape[shape.length - 1];
  const rows = [];
  for (let i = 0; i < values.length; i += w) rows.push(Array.from(values.subarray(i, i + w), f32Text));
  return csv(rows);
}

/** Saves `blob` as `name` through a download link, and lets its URL go after. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// --- a panel as a PNG ----------------------------------------------------------------------
// Not part of the figure: buttons, sliders, this module's menu and readout, hidden text. Labels,
// outputs and the chosen options of the menus stay: they say the settings the maps were made with.
const NOT_FIGURE = 'button, input, textarea, summary, details.export, .readout, .visually-hidden, [hidden]';

/** Sets `g`'s text style to element `el`'s; false where its text is not shown. */
function textStyle(g, el) {
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden') return false;
  g.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  g.letterSpacing = style.letterSpacing === 'normal' ? '0px' : style.letterSpacing;
  g.fillStyle = style.color;
  return style.textTransform;
}

/** A PNG of `panel` at `scale` × its CSS size: its canvases (maps nearest-neighbour, as the page
 * shows them with image-rendering: pixelated) and its text (title, captions, legends, tables,
 * settings) where they are on screen, on white. */
export function panelPng(panel, scale = 4) {
  const box = panel.getBoundingClientRect();
  const out = document.createElement('canvas');
  out.width = Math.round(box.width * scale);
  out.height = Math.round(box.height * scale);
  const g = out.getContext('2d');
  g.scale(scale, scale);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, box.width, box.height);
  for (const c of panel.querySelectorAll('canvas')) {
    const r = c.getBoundingClientRect();
    if (!r.width || !r.height || c.closest(NOT_FIGURE)) continue;
    g.imageSmoothingEnabled = getComputedStyle(c).imageRendering !== 'pixelated';
    g.drawImage(c, r.left - box.left, r.top - box.top, r.width, r.height);
  }
  g.textBaseline = 'middle';
  const draw = (text, r, transform) => {
    g.fillText(transform === 'uppercase' ? text.toUpperCase() : text, r.left - box.left, r.top - box.top + r.height / 2);
  };
  for (const select of panel.querySelectorAll('select')) {
    const r = select.getBoundingClientRect();
    const transform = r.width && !select.closest(NOT_FIGURE) && textStyle(g, select);
    if (transform) draw(select.selectedOptions[0]?.text ?? '', { left: r.left + 4, top: r.top, height: r.height }, transform);
  }
  const walker = document.createTreeWalker(panel, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent.closest(`${NOT_FIGURE}, select`)) continue;
    const transform = textStyle(g, parent);
    if (!transform) continue;
    // Word by word, so that wrapped lines land where the page wrapped them.
    for (const word of node.textContent.matchAll(/\S+/g)) {
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const r = range.getClientRects()[0];
      if (r) draw(word[0], r, transform);
    }
  }
  return new Promise((resolve) => out.toBlob(resolve, 'image/png'));
}

// --- the maps and tables shown -----------------------------------------------------------
/** canvas → {values, rgba, width, height, shape, kind, group, name, file, cls, pixels, stack,
 * max, limit}: what `showMap` was last given for it. Canvases the page has since rebuilt drop out. */
const maps = new Map();
/** table element → {name, file, header, rows} */
const tables = new Map();
let ask = null;         // the page's worker call
let inputOf = null;     // () => {pixels, shape}: the input the maps explain
let oneScale = false;   // the toggle
const generation = { gradient: 0, attribution: 0 };
let shown = 0;           // maps shown so far: which is the newest

const maxAbs = (values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const modelName = () => document.body.dataset.model ?? 'model';

function paint(canvas, rgba, width, height, limit) {
  if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  canvas.dataset.limit = String(limit);
}

/** Paints canvas `id` with a map and keeps its values for the readout and the exports.
 * `map`: values (Float32Array), rgba (the worker's colours at the map's own scale), width,
 * height, shape (of the .npy; default [height, width]), kind ('sequential' | 'diverging'; none:
 * an image, no readout), group (a shared-scale group), name, file, cls (the explained class),
 * pixels (true: the map is the input's size, so the readout shows the input pixel), stack (maps
 * exported together as [stages, h, w]: their name). */
export function showMap(id, map) {
  const canvas = $(id);
  if (!canvas) return;
  const entry = { ...map, max: maxAbs(map.values), input: inputOf().pixels, shownAt: ++shown };
  entry.limit = entry.max || 1;
  canvas.dataset.max = String(entry.max);
  maps.set(canvas, entry);
  // In a shared scale, painted once the group's colours come back: no flash of its own first.
  if (oneScale && entry.group) recolour(entry.group);
  else paint(canvas, entry.rgba, entry.width, entry.height, entry.limit);
  if (entry.kind) watch(canvas);
  if (readout.canvas === canvas) readOut(canvas, readout.x, readout.y, document.activeElement === canvas || canvas.matches(':hover'));
}

/** Forgets the maps of canvases `ids` (the page blanked them). */
export function forgetMaps(ids) {
  for (const id of ids) {
    const canvas = $(id);
    if (!canvas) continue;
    maps.delete(canvas);
    delete canvas.dataset.max;
    delete canvas.dataset.limit;
  }
}

/** Keeps table `id`'s raw numbers for its CSV: {name, file, header, rows}; null forgets it. */
export function showTable(id, table) {
  if (table) tables.set($(id), table);
  else tables.delete($(id));
}

const live = () => {
  for (const canvas of maps.keys()) if (!canvas.isConnected) maps.delete(canvas);
  return [...maps];
};

// --- one colour scale ----------------------------------------------------------------------
// The legends of each group: its sequential and diverging colour bars.
const LEGENDS = {
  gradient: ['#legend-sequential', '#legend-signed', '[aria-labelledby="attributions-title"] canvas[data-legend="sequential"]'],
  attribution: ['[aria-labelledby="attributions-title"] canvas[data-legend="diverging"]'],
};

/** The group's maps recoloured at one limit: the largest magnitude over those of the newest
 * input and class (a slower map still showing the input before is recoloured, not counted). */
async function recolour(group) {
  const run = ++generation[group];
  await Promise.resolve();   // every map shown in this task first, then one call for them all
  if (run !== generation[group]) return;
  const members = live().filter(([, e]) => e.group === group);
  if (!members.length) return;
  const newest = members.reduce((a, b) => (b[1].shownAt > a[1].shownAt ? b : a), members[0])[1];
  const limit = members.filter(([, e]) => e.input === newest.input && e.cls === newest.cls)
    .reduce((m, [, e]) => Math.max(m, e.max), 0) || 1;
  try {
    const { value } = await ask('colour', { maps: members.map(([, e]) => ({ values: e.values, kind: e.kind })), limit });
    if (run !== generation[group] || !oneScale) return;
    members.forEach(([canvas, e], i) => paint(canvas, value[i], e.width, e.height, limit));
    showLimit(group, limit);
  } catch (e) {
    console.warn(e);
    for (const [canvas, e] of members) paint(canvas, e.rgba, e.width, e.height, e.limit);
  }
}

/** The group's legends (and notes) say the shared limit, or (null) "max" again. */
function showLimit(group, limit) {
  const text = limit === null ? null : String(Number(limit.toPrecision(3)));
  for (const selector of LEGENDS[group]) {
    const spans = document.querySelector(selector)?.nextElementSibling?.querySelectorAll('span');
    if (!spans) continue;
    const [lo, , hi] = spans;
    for (const span of [lo, hi]) {
      span.dataset.label ??= span.textContent;
      const label = span.dataset.label;
      if (text === null || label === '0') span.textContent = label;
      else span.textContent = span === lo ? `−${text}` : label.startsWith('+') ? `+${text}` : text;
    }
  }
  if (group === 'attribution') {
    $('lrp-scale').textContent = text === null ? ''
      : `One colour scale: the relevance at the pixels shares the attributions' scale (±${text}); each deeper layer keeps its own.`;
  }
}

function setOneScale(on) {
  oneScale = on;
  for (const note of document.querySelectorAll('.scale-note')) note.hidden = !on;
  for (const group of Object.keys(generation)) {
    if (on) {
      recolour(group);
    } else {
      generation[group]++;
      for (const [canvas, e] of live()) if (e.group === group) paint(canvas, e.rgba, e.width, e.height, e.limit);
      showLimit(group, null);
    }
  }
}

// --- the readout -------------------------------------------------------------------------
const readout = { canvas: null, x: 0, y: 0 };
const watched = new WeakSet();
const fmt = (v) => String(Number(v.toPrecision(4)));

// The readout lines: one under the maps of each panel that has maps to read, there from the
// start so that screen readers announce its changes.
const READOUTS = ['map-gradient', 'map-gradient-input', 'lrp-maps', 'sanity-grid'];
const readoutOf = (canvas) => canvas.closest('.panel').querySelector('.readout');

/** The cursor over a map: a square around pixel (x, y), or hidden (null). */
function showCursor(canvas, at) {
  const host = canvas.parentElement;
  let cursor = host.querySelector(':scope > .map-cursor');
  if (!cursor) {
    cursor = document.createElement('div');
    cursor.className = 'map-cursor';
    cursor.setAttribute('aria-hidden', 'true');
    host.classList.add('map-host');
    host.append(cursor);
  }
  cursor.hidden = !at;
  if (!at) return;
  const { width, height } = maps.get(canvas);
  const [sx, sy] = [canvas.clientWidth / width, canvas.clientHeight / height];
  cursor.style.left = `${canvas.offsetLeft + canvas.clientLeft + at[0] * sx}px`;
  cursor.style.top = `${canvas.offsetTop + canvas.clientTop + at[1] * sy}px`;
  cursor.style.width = `${sx}px`;
  cursor.style.height = `${sy}px`;
}

/** Reads pixel (x, y) of `canvas`'s map out: where, its value, its rank, the input pixel; with
 * the cursor shown there unless `cursor` is false. */
function readOut(canvas, x, y, cursor = true) {
  const e = maps.get(canvas);
  if (!e) return;
  x = Math.min(e.width - 1, Math.max(0, x));
  y = Math.min(e.height - 1, Math.max(0, y));
  Object.assign(readout, { canvas, x, y });
  const i = y * e.width + x;
  const v = e.values[i];
  let above = 0;
  for (const u of e.values) above += u > v;
  const where = e.height === 1 ? `unit ${x}` : `x ${x}, y ${y}`;
  const parts = [`${e.name} (${where}): ${fmt(v)}`,
    `rank ${above + 1} of ${e.values.length}, ${e.kind === 'diverging' ? 'most positive' : 'largest'} first`];
  const input = inputOf();
  if (e.pixels && input.pixels) {
    const [c, h, w] = input.shape;
    if (e.width === w && e.height === h) {
      parts.push(c === 1 ? `input ${fmt(input.pixels[i])}`
        : `input ${['r', 'g', 'b'].map((k, ch) => `${k} ${fmt(input.pixels[ch * h * w + i])}`).join(' ')}`);
    }
  }
  const line = readoutOf(canvas);
  if (line) line.textContent = parts.join(' · ');
  showCursor(canvas, cursor && [x, y]);
}

/** The pixel of the largest value (rank 1). */
function top(e) {
  let best = 0;
  e.values.forEach((v, i) => { if (v > e.values[best]) best = i; });
  return [best % e.width, Math.floor(best / e.width)];
}

const STEPS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** Pointer and keyboard readout on `canvas`; it becomes focusable. */
function watch(canvas) {
  if (watched.has(canvas)) return;
  watched.add(canvas);
  canvas.tabIndex = 0;
  canvas.setAttribute('aria-describedby', 'map-keys');
  const at = (ev) => {
    const e = maps.get(canvas);
    const r = canvas.getBoundingClientRect();
    return [Math.floor(((ev.clientX - r.left) / r.width) * e.width), Math.floor(((ev.clientY - r.top) / r.height) * e.height)];
  };
  const point = (ev) => {
    if (!maps.has(canvas)) return;
    const [x, y] = at(ev);
    if (readout.canvas !== canvas || readout.x !== x || readout.y !== y) readOut(canvas, x, y);
  };
  canvas.addEventListener('pointermove', point);
  canvas.addEventListener('pointerdown', point);
  canvas.addEventListener('pointerleave', () => { if (document.activeElement !== canvas) showCursor(canvas, null); });
  canvas.addEventListener('focus', () => {
    const e = maps.get(canvas);
    if (!e) return;
    if (readout.canvas === canvas) readOut(canvas, readout.x, readout.y);
    else readOut(canvas, ...top(e));
  });
  canvas.addEventListener('blur', () => showCursor(canvas, null));
  canvas.addEventListener('keydown', (ev) => {
    const e = maps.get(canvas);
    if (!e || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key in STEPS) {
      ev.preventDefault();
      const [dx, dy] = STEPS[ev.key];
      const n = ev.shiftKey ? 5 : 1;
      readOut(canvas, readout.x + dx * n, readout.y + dy * n);
    } else if (ev.key === 'Home') {
      ev.preventDefault();
      readOut(canvas, ...top(e));
    }
  });
}

// --- the export menus ----------------------------------------------------------------------
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** What panel `panel`'s menu offers now: [label, () => Promise<[Blob, file name]>]. */
function offers(panel) {
  const title = slug(panel.querySelector('h2')?.firstChild?.textContent ?? 'panel');
  const items = [['PNG of this panel (4×)', async () => [await panelPng(panel), `${modelName()}-${title}.png`]]];
  const stacks = new Map();
  const inPanel = live().filter(([canvas]) => panel.contains(canvas) && canvas.closest('[hidden]') === null)
    .sort(([a], [b]) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  const name = (e, file) => `${modelName()}-${file}${e.cls === undefined ? '' : `-class${e.cls}`}`;
  for (const [, e] of inPanel) {
    if (e.stack) {
      if (!stacks.has(e.stack)) stacks.set(e.stack, []);
      stacks.get(e.stack).push(e);
      continue;
    }
    const shape = e.shape ?? [e.height, e.width];
    items.push([`${e.name}: .npy`, () => [new Blob([npy(e.values, shape)]), `${name(e, e.file)}.npy`]]);
    items.push([`${e.name}: CSV`, () => [new Blob([mapCsv(e.values, shape)], { type: 'text/csv' }), `${name(e, e.file)}.csv`]]);
  }
  for (const [stack, list] of stacks) {
    // One map per stage: [stages, h, w].
    const shape = [list.length, list[0].height, list[0].width];
    const values = new Float32Array(list.length * list[0].values.length);
    list.forEach((e, i) => values.set(e.values, i * e.values.length));
    items.push([`${stack}, every stage: .npy`, () => [new Blob([npy(values, shape)]), `${name(list[0], `sanity-${slug(stack)}`)}.npy`]]);
    items.push([`${stack}, every stage: CSV`, () => [new Blob([mapCsv(values, shape)], { type: 'text/csv' }), `${name(list[0], `sanity-${slug(stack)}`)}.csv`]]);
  }
  for (const [table, t] of tables) {
    if (!panel.contains(table)) continue;
    items.push([`${t.name}: CSV`, () => [new Blob([csv([t.header, ...t.rows])], { type: 'text/csv' }), `${modelName()}-${t.file}.csv`]]);
  }
  return items;
}

/** One "export" menu at the top of `panel`: a disclosure whose buttons are made when it opens. */
function addMenu(panel) {
  const menu = document.createElement('details');
  menu.className = 'export';
  const summary = document.createElement('summary');
  const hidden = document.createElement('span');
  hidden.className = 'visually-hidden';
  hidden.textContent = ` ${panel.querySelector('h2')?.firstChild?.textContent.trim() ?? ''}`;
  summary.append('export', hidden);
  const list = document.createElement('div');
  list.className = 'export-items';
  list.setAttribute('role', 'group');
  list.setAttribute('aria-label', `export ${hidden.textContent.trim()}`);
  const status = document.createElement('p');
  status.className = 'export-status';
  status.setAttribute('role', 'status');
  menu.append(summary, list, status);
  menu.addEventListener('toggle', () => {
    if (!menu.open) return;
    list.replaceChildren(...offers(panel).map(([label, make]) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.addEventListener('click', async () => {
        try {
          const [blob, file] = await make();
          download(blob, file);
          status.textContent = `saved ${file}`;
        } catch (e) {
          console.warn(e);
          status.textContent = `could not export: ${e.message}`;
        }
      });
      return b;
    }));
  });
  menu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && menu.open) {
      menu.open = false;
      summary.focus();
    }
  });
  panel.querySelector('h2').before(menu);
}

/** Sets the module up: `call` is the page's worker call; `input()` gives the input explained
 * now ({pixels, shape}). Adds the export menus, the keyboard hint and the scale toggle. */
export function setupExports(call, input) {
  ask = call;
  inputOf = input;
  for (const panel of document.querySelectorAll('.outputs .panel')) {
    if (panel.querySelector('canvas, table')) addMenu(panel);
  }
  for (const id of READOUTS) {
    const line = document.createElement('p');
    line.className = 'readout caption';
    line.setAttribute('aria-live', 'polite');
    line.textContent = 'Point at a map, or focus it and use the arrow keys: its pixel, value and rank.';
    ($(id).closest('.maps, table') ?? $(id)).after(line);
  }
  const hint = document.createElement('p');
  hint.id = 'map-keys';
  hint.className = 'visually-hidden';
  hint.textContent = 'The arrow keys move a cursor pixel (Shift: 5 pixels; Home: the largest value); its value, rank and input pixel are read out below the maps.';
  document.querySelector('.outputs').append(hint);
  const notes = [['lrp-scale', $('legend-lrp').closest('figure')],
    ['sanity-scale', $('sanity-grid').closest('.panel').querySelector('.legends')]];
  for (const [id, after] of notes) {
    const note = document.createElement('p');
    note.id = id;
    note.className = 'caption scale-note';
    note.hidden = true;
    after.after(note);
  }
  $('sanity-scale').textContent = 'One colour scale does not apply here: each map keeps its own, since the check compares rankings (Spearman ρ) of networks whose gradients differ by orders of magnitude.';
  const toggle = $('one-scale');
  toggle.addEventListener('change', () => setOneScale(toggle.checked));
}
