// The benchmark command: `node scripts/bench.mjs [--runs N] [--write]` (after scripts/build.sh).
// Opens www/bench.html in headless Chromium: every operation on both MNIST networks (the small
// net and the deeper one) and both backends, in one run (WebGPU through SwiftShader, a software adapter, so
// WebGPU figures here prove correctness, not speed), prints a table of medians and p90s, then
// measures the page itself: bytes downloaded before the first prediction, and the time from
// navigation to it. With --write, the tables replace the "measured" section of BENCHMARKS.md.
// Then, in the same run, the same network in TF.js (scripts/bench-tfjs.mjs, same --runs and
// --write): checked equal to ours, timed, and set against ours. `--no-tfjs` skips that part.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 100;
const write = args.includes('--write');
const gpu = args.includes('--gpu');

const { server, url } = await startServer({ port: 0, csp: true });
const browser = await launchChromium({ gpu });

try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error('console:', m.text()); });
  await page.goto(`${url}www/bench.html?runs=${runs}`);
  const results = await page.evaluate(() => window.results);
  if (gpu && !/hardware adapter/.test(results.webgpu?.reason ?? '')) {
    // A software adapter (SwiftShader, lavapipe) must not pass for a GPU.
    throw new Error(`no hardware WebGPU adapter: ${results.webgpu?.reason ?? results.webgpu?.error ?? 'WebGPU not run'}`);
  }

  const ops = [['predict', 'predict'], ['gradient', 'saliency (gradient)'], ['deconvnet', 'DeconvNet'],
    ['guided', 'guided backprop'], ['lrp', 'LRP, all layers'], ['classModelStep', 'class-model step ("paper")'],
    ['classModelStepReadable', 'class-model step ("readable")'], ['classModelStepLucid', 'class-model step ("lucid")'],
    ['atlasStep', 'conv1 atlas step ("readable", every channel)'],
    ['fullPanel', 'full panel (explain + LRP + localise)'],
    ['explain', 'explain: one trace, 3 maps + gradient × input'],
    ['smoothGrad', 'SmoothGrad, 32 samples (one batch)'],
    ['integratedGradients', 'Integrated Gradients, 32 steps (one batch)'],
    ['faithfulness', 'deletion + insertion curves, 5 maps + random, k = 16 (20 runs)'],
    ['sanity', 'sanity check: 5 methods × every stage (20 runs)']];
  // Both MNIST networks: the small one (`mnist`) and the deeper one (`mnist-deep`).
  const NETS = ['mnist', 'mnist-deep'];
  const net = (backend, name) => results[backend]?.[name];
  const lines = ['| operation | network | CPU median | CPU p90 | WebGPU median | WebGPU p90 |', '|---|---|---|---|---|---|'];
  const f = (s) => (s ? s.toFixed(2) : '–');
  for (const [key, name] of ops) {
    for (const n of NETS) {
      const c = net('cpu', n)?.[key], g = net('webgpu', n)?.[key];
      lines.push(`| ${name} | ${n} | ${f(c?.median)} | ${f(c?.p90)} | ${f(g?.median)} | ${f(g?.p90)} |`);
    }
  }
  for (const n of NETS) {
    for (const [key, name] of [['classModel200', '"paper"'], ['classModel200Readable', '"readable"'], ['classModel200Lucid', '"lucid"'], ['atlas200', 'conv1 atlas']]) {
      lines.push(`| 200 steps: ${name} | ${n} | ${f(net('cpu', n)?.[key])} | | ${f(net('webgpu', n)?.[key])} | |`);
    }
  }
  lines.push(`| start: import + init | | ${f(results.cpu.importMs)} | | ${f(results.webgpu?.importMs)} | |`);
  for (const n of NETS) {
    lines.push(`| create (weights loaded onto the device) | ${n} | ${f(net('cpu', n)?.createMs)} | | ${f(net('webgpu', n)?.createMs)} | |`);
  }
  const table = lines.join('\n');
  const lever = (name, key, than, thanName) => NETS.map((n) => {
    const cell = (r) => (r?.[key] && r?.[than] ? `${f(r[key].median)} vs ${f(r[than].median)} (${(r[key].median / r[than].median).toFixed(1)}×)` : '–');
    return `| ${name} | ${thanName} | ${n} | ${cell(net('cpu', n))} | ${cell(net('webgpu', n))} |`;
  }).join('\n');
  const levers = [
    '| lever: the slow way | the way we do it | network | CPU ms | WebGPU ms |', '|---|---|---|---|---|',
    lever('3 maps by 3 calls (3 forward passes)', 'threeCalls', 'explain', '`explain`: 1 forward pass, 4 maps'),
    lever('32 gradients by 32 calls', 'serial32', 'smoothGrad', 'SmoothGrad: 32 images in 1 batch'),
    lever('a predict on a fresh instance (weights uploaded again)', 'create', 'predict', 'a predict, weights kept on the device'),
  ].join('\n');
  const backends = `CPU: ${results.cpu.reason}; WebGPU: ${results.webgpu?.reason ?? results.webgpu?.error ?? 'not run'}`;

  // The page: what it downloads before the first prediction, and how long that takes.
  const page2 = await browser.newPage();
  const fetched = new Map();
  page2.on('requestfinished', (r) => {
    const u = new URL(r.url());
    if (u.origin === new URL(url).origin) fetched.set(u.pathname, performance.now());
  });
  await page2.goto(url);
  await page2.waitForFunction(() => document.getElementById('prediction').textContent !== '–', null, { timeout: 60000, polling: 10 });
  const shownAt = performance.now();
  const firstMs = await page2.evaluate(() => performance.now());
  let raw = 0, gz = 0;
  const files = [];
  for (const [p, at] of fetched) {
    if (at > shownAt) continue;   // fetched after the first prediction was on screen
    const file = path.join(process.cwd(), p === '/' ? 'index.html' : p);
    try {
      const bytes = readFileSync(file);
      raw += bytes.length;
      gz += gzipSync(bytes, { level: 9 }).length;
      files.push(p);
    } catch { /* not a file */ }
  }
  const wasm = ['cpu', 'webgpu'].map((b) => {
    try {
      const bytes = readFileSync(`pkg/${b}/deep_inside_bg.wasm`);
      return `| pkg/${b} | ${(bytes.length / 1e6).toFixed(2)} MB | ${(gzipSync(bytes, { level: 9 }).length / 1e6).toFixed(2)} MB |`;
    } catch { return `| pkg/${b} | not built | |`; }
  });
  const startup = [
    `| navigation → first prediction (index.html, CPU) | ${firstMs.toFixed(0)} ms |`,
    `| downloaded before it | ${(raw / 1e6).toFixed(2)} MB raw, ${(gz / 1e6).toFixed(2)} MB gzipped (${files.length} files) |`,
  ];
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`node scripts/bench.mjs --runs ${runs}${gpu ? ' --gpu' : ''}\` ` +
      `(headless Chromium ${browser.version()}, ${os.cpus().length} CPU cores; ms, median and p90 of ${runs} runs after 5 warm-up runs).`,
    '', backends, '', table, '', levers, '',
    '| wasm | raw | gzipped |', '|---|---|---|', ...wasm, '',
    '| start-up | |', '|---|---|', ...startup,
  ].join('\n');
  console.log(report);
  if (write) {
    const md = readFileSync('BENCHMARKS.md', 'utf8');
    const section = gpu ? 'bench-gpu' : 'bench';
    const begin = `<!-- ${section}:begin -->`, end = `<!-- ${section}:end -->`;
    const i = md.indexOf(begin), j = md.indexOf(end);
    if (i < 0 || j < 0) throw new Error('BENCHMARKS.md lacks the bench markers');
    writeFileSync('BENCHMARKS.md', `${md.slice(0, i + begin.length)}\n${report}\n${md.slice(j)}`);
    console.log('wrote BENCHMARKS.md');
  }
} finally {
  await browser.close();
  server.close();
}
if (!args.includes('--no-tfjs') && !gpu) {
  const tfjs = spawnSync(process.execPath, ['scripts/bench-tfjs.mjs', '--runs', String(runs), ...(write ? ['--write'] : [])],
    { stdio: 'inherit' });
  process.exitCode = tfjs.status ?? 1;
}
