// Users' models: `node scripts/bench-user.mjs [--runs N] [--write]` (after scripts/build.sh and
// `npm install`). Opens www/bench-user.html in headless Chromium (WebGPU on SwiftShader: its
// figures prove correctness, not speed): loadModel on each reference fixture, every page
// operation on the 3×32×32 reference model and on a 1 M-parameter 3×32×32 model, on both
// backends, and the same models in TF.js, checked equal to ours, then timed. Prints Markdown;
// --write replaces the section between <!-- bench-user:begin --> and <!-- bench-user:end --> in
// BENCHMARKS.md. Exits 1 when a TF.js check fails.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { launchChromium } from './chromium.mjs';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = (runsAt >= 0 && Number(args[runsAt + 1])) || 50;
const write = args.includes('--write');

const { server, url } = await startServer({ port: 0 });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.text().startsWith('bench-user:')) console.error(m.text()); });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${url}www/bench-user.html?runs=${runs}`);
  const r = await page.evaluate(() => window.results);
  const f = (v) => (typeof v === 'number' ? v.toFixed(2) : '–');
  const load = ['| file | size | loadModel median (ms) | p90 |', '|---|---:|---:|---:|',
    ...Object.entries(r.load).map(([n, s]) => `| ${n} | ${(s.bytes / 1e3).toFixed(0)} kB | ${f(s.median)} | ${f(s.p90)} |`)];
  const ops = [['predict', 'predict'], ['gradient', 'saliency (gradient)'], ['guided', 'guided backprop'],
    ['lrp', 'LRP, all layers'], ['fullPanel', 'full panel (explain + LRP + localise)'], ['classModelStep', 'class-model step'],
    ['smoothGrad', 'SmoothGrad, 32 samples'], ['integratedGradients', 'Integrated Gradients, 32 steps'],
    ['faithfulness', 'deletion + insertion curves, 5 maps + random'], ['sanity', 'sanity check']];
  const models = Object.keys(r.models);
  const head = models.map((n) => `${n} (${r.models[n].parameters?.toLocaleString('en')} parameters) CPU | WebGPU`).join(' | ');
  const table = [`| operation, median ms | ${head} |`, `|---|${models.map(() => '---:|---:').join('|')}|`,
    ...ops.map(([k, name]) => `| ${name} | ${models.map((n) => `${f(r.models[n].cpu?.[k]?.median)} | ${f(r.models[n].webgpu?.[k]?.median)}`).join(' | ')} |`)];
  const tfjs = ['| model | operation | ours CPU | TF.js wasm | ours / TF.js | ours WebGPU | TF.js webgpu | check: rel. Δ logits, ∂S_c/∂x (wasm; webgpu) |',
    '|---|---|---:|---:|---:|---:|---:|---|'];
  let failed = false;
  for (const n of models) {
    const t = r.tfjs[n];
    const e = (c) => (c?.check ? `${c.check.logits.toExponential(1)}, ${c.check.gradient.toExponential(1)}` : (c?.error ?? '–'));
    for (const [k, name] of [['predict', 'predict'], ['gradient', 'saliency (gradient)']]) {
      for (const stat of ['median', 'p90', 'mean']) {
        const oc = r.models[n].cpu?.[k]?.[stat], tw = t.wasm?.[k]?.[stat];
        tfjs.push(`| ${n} | ${name}, ${stat} | ${f(oc)} | ${f(tw)} | ${oc && tw ? (oc / tw).toFixed(2) + '×' : '–'} | ${f(r.models[n].webgpu?.[k]?.[stat])} | ${f(t.webgpu?.[k]?.[stat])} | ${k === 'predict' && stat === 'median' ? `${e(t.wasm)}; ${e(t.webgpu)}` : ''} |`);
      }
    }
    if (!t.wasm?.check?.pass) failed = true;
  }
  const backends = `CPU: ${r.models.big?.cpu?.reason}; WebGPU: ${r.models.big?.webgpu?.reason ?? r.models.big?.webgpu?.error ?? 'not run'}`;
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`node scripts/bench-user.mjs --runs ${runs}\` (headless Chromium ` +
      `${browser.version()}, ${os.cpus().length} CPU cores, load ${os.loadavg()[0].toFixed(1)}; median of ${runs} runs, 10 for the slow ones, after 5 warm-up runs; TF.js ${r.tfjsVersion}).`,
    '', backends, '', ...load, '', ...table, '', ...tfjs,
  ].join('\n');
  console.log(report);
  if (failed) {
    console.error('bench-user: a TF.js check failed');
    process.exitCode = 1;
  } else if (write) {
    const md = readFileSync('BENCHMARKS.md', 'utf8');
    const begin = '<!-- bench-user:begin -->', end = '<!-- bench-user:end -->';
    const i = md.indexOf(begin), j = md.indexOf(end);
    if (i < 0 || j < 0) throw new Error('BENCHMARKS.md lacks the bench-user markers');
    writeFileSync('BENCHMARKS.md', `${md.slice(0, i + begin.length)}\n${report}\n${md.slice(j)}`);
    console.log('wrote BENCHMARKS.md');
  }
} finally {
  await browser.close();
  server.close();
}
