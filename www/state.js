// Share links: what the page shows, in the URL's hash, so that a link opens the same view.
//
//   #v=1&model=mnist&g=3&class=3&quantile=0.9&sg-samples=32&…&composite=custom&rules=zb.gamma.epsilon.zero&run=class-model
//
// - `v`: the format's version (1).
// - `model`: a shipped model's name (a user's own model never goes in a link: it stays in the page).
// - The input: `g`, the index of a held-out image shown unchanged; or `x`, the input itself as
//   base64url of one byte per value (c·h·w bytes, value = byte / 255). Neither: the model's
//   opening image. The page explains inputs quantised to k/255 (`quantise`), so the bytes are
//   exactly what was explained and a link restores the same maps, bit for bit, on the CPU.
// - `class`: the pinned explained class (absent: the prediction's).
// - One key per setting, named as the page's control (`SETTINGS`); `rules`: the custom
//   composite's rule per weighted layer.
// - `run`: the class-model views shown (they are computed on demand): `class-model`, `all-classes`.
// Lists are joined with '.', which URLs leave as it is (rule names are letters and digits).
//
// Reading is strict and bounded: a hash longer than `MAX_HASH` is refused before it is parsed,
// and every field is checked against the catalogues (the models, the model's classes, input
// shape and held-out images, the LRP presets and rules, the options of the page's controls).
// Anything wrong makes the whole link refused, with a sentence saying what: the page then opens
// as it does without one.

export const VERSION = '1';

/** The page's controls that a link carries, by id (their values as `valueOf` reads them). */
export const SETTINGS = ['one-scale', 'quantile', 'sg-samples', 'sg-sigma', 'ig-steps', 'ig-baseline', 'faith-k', 'composite', 'pool',
  'cm-preset', 'cm-class', 'cm-start', 'cm-objective', 'cm-lambda', 'cm-step', 'cm-steps', 'cm-clip', 'cm-sigmoid', 'cm-adam',
  'cm-jitter', 'cm-scale', 'cm-rotate', 'cm-tv', 'cm-blur', 'cm-fourier', 'cm-restarts', 'cm-images', 'cm-diversity'];

/** The class-model views a link can ask to be run again. */
export const RUNS = ['class-model', 'all-classes'];

/** The longest hash read (characters): a 3×64×64 input (16,384 characters) and the settings. */
export const MAX_HASH = 20000;

const KEYS = new Set(['v', 'model', 'g', 'x', 'class', 'rules', 'run', ...SETTINGS]);
const INDEX = /^(0|[1-9]\d{0,8})$/;
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

const byte = (v) => Math.round(255 * Math.min(1, Math.max(0, v)));

/** `pixels` (values in [0, 1]) at the k/255 steps a link can hold: what the page explains. */
export const quantise = (pixels) => Float32Array.from(pixels, (v) => byte(v) / 255);

/** The values of bytes from a link, as `quantise` makes them. */
export const fromBytes = (bytes) => Float32Array.from(bytes, (b) => b / 255);

function toBase64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Bytes from base64url without padding; null for anything else. */
function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The hash (without '#') for `state`: {model, input: {gallery} | {pixels} | null, class,
 * settings: {id: value}, rules: [rule] | null, run: [view]}. */
export function encode(state) {
  const p = new URLSearchParams({ v: VERSION, model: state.model });
  if (state.input?.gallery != null) p.set('g', String(state.input.gallery));
  else if (state.input?.pixels) p.set('x', toBase64url(Uint8Array.from(state.input.pixels, byte)));
  if (state.class != null) p.set('class', String(state.class));
  for (const id of SETTINGS) if (state.settings[id] != null) p.set(id, state.settings[id]);
  if (state.rules) p.set('rules', state.rules.join('.'));
  if (state.run.length) p.set('run', state.run.join('.'));
  return p.toString();
}

/** The state a hash holds, read but not yet checked against the catalogues: {state}, {error}
 * (a sentence) or null (no hash, or one that names a place in the page: `isPlace(id)`). */
export function decode(hash, isPlace = () => false) {
  if (hash.length > MAX_HASH) return { error: `the link's state is ${hash.length.toLocaleString('en')} characters long; at most ${MAX_HASH.toLocaleString('en')} are read` };
  const text = hash.replace(/^#/, '');
  if (!text || isPlace(text)) return null;
  const p = new URLSearchParams(text);
  const keys = [...p.keys()];
  const unknown = keys.find((k) => !KEYS.has(k));
  if (unknown !== undefined) return { error: `unknown field ${JSON.stringify(unknown.slice(0, 40))}` };
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice) return { error: `the field ${twice} appears twice` };
  if (p.get('v') !== VERSION) return { error: p.has('v') ? `version ${JSON.stringify(p.get('v').slice(0, 20))} is not one this page reads (${VERSION})` : 'no version (v=1)' };
  const model = p.get('model');
  if (!model || !NAME.test(model)) return { error: model ? `the model name ${JSON.stringify(model.slice(0, 40))} is not a name` : 'no model' };
  const state = { model, input: null, class: null, settings: {}, rules: null, run: [] };
  if (p.has('g') && p.has('x')) return { error: 'both a held-out image (g) and an input (x)' };
  if (p.has('g')) {
    if (!INDEX.test(p.get('g'))) return { error: `the held-out image ${JSON.stringify(p.get('g').slice(0, 20))} is not an index` };
    state.input = { gallery: Number(p.get('g')) };
  } else if (p.has('x')) {
    const bytes = fromBase64url(p.get('x'));
    if (!bytes) return { error: 'the input (x) is not base64url' };
    state.input = { bytes };
  }
  if (p.has('class')) {
    if (!INDEX.test(p.get('class'))) return { error: `the class ${JSON.stringify(p.get('class').slice(0, 20))} is not an index` };
    state.class = Number(p.get('class'));
  }
  for (const id of SETTINGS) if (p.has(id)) state.settings[id] = p.get(id);
  if (p.has('rules')) state.rules = p.get('rules').split('.');
  if (p.has('run')) {
    state.run = p.get('run').split('.');
    const bad = state.run.find((r) => !RUNS.includes(r));
    if (bad !== undefined || new Set(state.run).size !== state.run.length) return { error: `run=${JSON.stringify(p.get('run').slice(0, 40))}: the views are ${RUNS.join(', ')}` };
  }
  return { state };
}

/** A control's value as a link holds it: a checkbox's is "on" or "off". */
export const valueOf = (control) => (control.type === 'checkbox' ? (control.checked ? 'on' : 'off') : control.value);

/** What a control accepts: a checkbox's two values, a select's enabled options, or a range's {min, max, step}. */
export function accepts(control) {
  if (control.type === 'checkbox') return ['on', 'off'];
  if (control.tagName === 'SELECT') return [...control.options].filter((o) => !o.disabled).map((o) => o.value);
  return { min: Number(control.min), max: Number(control.max), step: Number(control.step) };
}

/** Whether `text` is a value that `accepted` (from `accepts`) allows. */
function allowed(text, accepted) {
  if (Array.isArray(accepted)) return accepted.includes(text);
  if (!/^-?\d{1,6}(\.\d{1,12})?$/.test(text)) return false;
  const v = Number(text);
  const steps = (v - accepted.min) / accepted.step;
  return v >= accepted.min && v <= accepted.max && Math.abs(steps - Math.round(steps)) < 1e-6;
}

/** What is wrong with `state` (from `decode`, of a known model) for its model's catalogues, as
 * a sentence, or null. `catalogue`: {input: [c, h, w], classes, heldout (how many held-out
 * images), rules: [rule name], weighted (how many layers take a rule), controls: {id: accepts(control)}}. */
export function check(state, catalogue) {
  const { input, classes, heldout, controls } = catalogue;
  if (state.input?.gallery != null && state.input.gallery >= heldout) {
    return `held-out image ${state.input.gallery} does not exist (${state.model} has ${heldout})`;
  }
  const size = input.reduce((a, b) => a * b, 1);
  if (state.input?.bytes && state.input.bytes.length !== size) {
    return `the input has ${state.input.bytes.length} values; ${state.model} takes ${input.join('×')} = ${size}`;
  }
  if (state.class != null && state.class >= classes) return `class ${state.class} does not exist (${state.model} has ${classes})`;
  for (const [id, value] of Object.entries(state.settings)) {
    if (!allowed(value, controls[id])) return `${id}=${JSON.stringify(value.slice(0, 40))} is not a value it takes`;
  }
  const custom = state.settings.composite === 'custom';
  if (custom !== (state.rules != null)) return custom ? 'a custom composite without its rules' : 'rules without the custom composite';
  if (state.rules) {
    if (state.rules.length !== catalogue.weighted) return `${state.rules.length} rules for ${catalogue.weighted} layers`;
    const bad = state.rules.find((r) => !catalogue.rules.includes(r));
    if (bad !== undefined) return `unknown rule ${JSON.stringify(bad.slice(0, 40))}`;
  }
  return null;
}
