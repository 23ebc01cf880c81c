// Against TF.js: `node scripts/bench-tfjs.mjs [--runs N] [--load N] [--write]` (after scripts/build.sh and
// `npm install`). Opens www/bench-tfjs.html in headless Chromium, which builds the same network
// with TF.js 4 (backends 'wasm' and, where WebGPU has an adapter, 'webgpu') from the weights our
// API's `weights()` hands out, checks on held-out digits that its logits and ∂S_c/∂x equal ours, then
// times predict and the gradient saliency map for TF.js and for our CPU and WebGPU builds.
// Prints Markdown; with --write it replaces the section between <!-- tfjs:begin --> and
// <!-- tfjs:end --> in BENCHMARKS.md (creating the file or the section if missing). Exits 1, and
// writes nothing, when an equality check fails or TF.js 'wasm' does not run.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { launchChromium } from './chromium.mjs';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = (runsAt >= 0 && Number(args[runsAt + 1])) || 100;
const write = args.includes('--write');

// `--load N`: N busy processes beside the browser for the whole run, as on the loaded machine
// where issue 18 saw the slow tail (load average 3.9 there).
const loadAt = args.indexOf('--load');
const busy = Array.from({ length: (loadAt >= 0 && Number(args[loadAt + 1])) || 0 },
  () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));

// Isolated, for Chromium's 5 µs timer.
const { server, url } = await startServer({ port: 0, isolate: true });
const browser = await launchChromium();

let failed = false;
try {
  const page = await browser.newPage();
  // Failed loads are reported by URL below; pkg/webgpu is optional and the favicon absent.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) console.error('console:', m.text());
  });
  page.on('response', (res) => {
    const p = new URL(res.url()).pathname;
    if (res.status() >= 400 && p !== '/favicon.ico' && !p.startsWith('/pkg/webgpu/')) console.error(`HTTP ${res.status()}: ${p}`);
  });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${url}www/bench-tfjs.html?runs=${runs}`);
  const load = loadavg()[0];
  const r = await page.evaluate(() => window.results);

  const f = (v, digits = 2) => (typeof v === 'number' ? v.toFixed(digits) : '–');
  const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '–');
  const tableOf = (cols) => {
    const lines = [
      '| operation | ours CPU | TF.js wasm | ours / TF.js wasm | ours WebGPU | TF.js webgpu | ours / TF.js webgpu |',
      '|---|---:|---:|---:|---:|---:|---:|',
    ];
    for (const [key, name] of [['predict', 'predict'], ['gradient', 'saliency (gradient)']]) {
      for (const stat of ['median', 'p90', 'p99', 'mean']) {
        const [oc, tw, og, tg] = cols.map((c) => c?.[key]?.[stat]);
        lines.push(`| ${name}, ${stat} | ${f(oc)} | ${f(tw)} | ${ratio(oc, tw)} | ${f(og)} | ${f(tg)} | ${ratio(og, tg)} |`);
      }
    }
    return lines.join('\n');
  };
  const cols = [r.ours.cpu, r.tfjs.wasm, r.ours.webgpu, r.tfjs.webgpu];
  const table = [
    `**Warmed up**, as a page is before a user's next click: ours after \`warmUp(${r.warmRounds})\` ` +
      `(what the page's worker runs once its first result is out), TF.js after ${r.warmRounds} calls of each ` +
      `operation; then ${r.idleMs} ms without calls, then ${r.warmup} warm-up calls and the ${r.runs} timed ones:`, '',
    tableOf(cols.map((c) => c?.warm)), '',
    `**Cold**: the first ${r.runs} calls after ${r.warmup} warm-up calls, right after the model is created ` +
      '(each column times its predict, then its gradient):', '',
    tableOf(cols),
  ].join('\n');

  // The equality checks, done before any timing.
  const e = (v) => (typeof v === 'number' ? v.toExponential(1) : '–');
  const checked = [['TF.js wasm', r.tfjs.wasm], ['TF.js webgpu', r.tfjs.webgpu], ['ours WebGPU (vs ours CPU)', r.ours.webgpu]];
  const checks = [
    `| check, against ours (CPU) | ${checked.map(([n]) => n).join(' | ')} |`,
    `|---|${checked.map(() => '---:').join('|')}|`,
    `| max \\|Δ logits\\| | ${checked.map(([, c]) => e(c?.check?.logits)).join(' | ')} |`,
    `| max \\|Δ ∂S_c/∂x\\| / max \\|ours\\|, digits + ${r.jitter} noise | ${checked.map(([, c]) => e(c?.check?.gradient)).join(' | ')} |`,
    `| the same, raw digits, TF.js max pool gradient to the first tie (ours) | ${checked.map(([, c]) => e(c?.check?.gradientRawFirstTie)).join(' | ')} |`,
    `| the rows above ≤ ${r.tolerance} | ${checked.map(([, c]) => (c?.check ? (c.check.pass ? 'yes' : '**NO**') : 'not run')).join(' | ')} |`,
    `| not checked: the same, raw digits (TF.js: plain \`tf.maxPool\`, gradient to the last tie) | ${checked.map(([, c]) => e(c?.check?.gradientRaw)).join(' | ')} |`,
  ].join('\n');

  const notRun = (name, c) => (c?.error ? `${name}: not run (${c.error}).` : null);
  const w = r.tfjs.wasm;
  const notes = [
    w?.error ? null : `TF.js 'wasm' backend: SIMD ${w.simd ? 'on' : 'off'}, threads ${w.threads ? 'on' : 'off'}` +
      `${w.threads ? ', set to 1 thread, as ours has one' : ''}. Ours: ${r.ours.cpu.reason}.`,
    `WebGPU adapter: ${r.adapter ?? 'none'}. Here WebGPU is SwiftShader, a software rasteriser on the CPU: ` +
      'the WebGPU figures prove correctness, not speed.',
    notRun('ours WebGPU', r.ours.webgpu), notRun('TF.js wasm', r.tfjs.wasm), notRun('TF.js webgpu', r.tfjs.webgpu),
  ].filter(Boolean);

  const digits = r.checkDigits.map((d) => `#${d.index} (class ${d.class})`).join(', ');
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`node scripts/bench-tfjs.mjs --runs ${r.runs}` +
      `${busy.length ? ` --load ${busy.length}` : ''}\` ` +
      `(headless Debian Chromium, 2-core machine, one page; TF.js ${r.tfjsVersion}; ` +
      `ms, median, p90, p99 and mean of ${r.runs} runs after ${r.warmup} warm-up runs, each awaiting the result in JS; ` +
      `held-out digit #${r.timed.index}, class ${r.timed.class}; ` +
      `${busy.length ? `${busy.length} busy processes beside it, ` : ''}load average ${load.toFixed(1)} at the start). ` +
      (r.isolated ? 'The page is cross-origin isolated, so performance.now() has 5 µs steps. '
        : 'Chromium rounds performance.now() to 0.1 ms here (no cross-origin isolation), so sub-millisecond ' +
          'medians are coarse; the mean, from the summed times, is finer. ') +
      'The same network and weights in both: TF.js builds it from the weights our API\'s `weights()` hands out ' +
      '(www/bench-tfjs.js) with fused conv/matmul + bias + ReLU for predict and `tf.grad` of S_c for the map; ' +
      'ours predict also computes the softmax.',
    '', ...notes.flatMap((n) => [n, '']),
    table, '',
    `Equality checks before timing, on held-out digits ${digits}, each map for the digit's class. ` +
      '∂S_c/∂x is not unique where a 2×2 max pool window holds equal maxima, which raw digits have ' +
      'plenty of (on the blank background every conv1 output is its bias): ours sends the gradient ' +
      'to the first maximum of the window, `tf.maxPool` to the last. So the maps are compared on the ' +
      `digits mixed with a little noise, (1 − ${r.jitter})·x + ${r.jitter}·u, u ~ U[0, 1), where no ` +
      'window ties and the gradient is unique, and on the raw digits with a TF.js max pool whose ' +
      'gradient follows our rule (a `tf.customGrad`, used for this check only).', '',
    checks,
  ].join('\n');
  console.log(report);

  const mustPass = [r.tfjs.wasm, r.tfjs.webgpu, r.ours.webgpu].filter((c) => c?.check);
  failed = !!r.tfjs.wasm?.error || mustPass.some((c) => !c.check.pass);
  if (failed) {
    console.error('bench-tfjs: an equality check failed or TF.js wasm did not run; BENCHMARKS.md left as it is');
  } else if (write) {
    const begin = '<!-- tfjs:begin -->', end = '<!-- tfjs:end -->';
    const section = `## Against TF.js\n\n${begin}\n${end}\n`;
    let md = existsSync('BENCHMARKS.md') ? readFileSync('BENCHMARKS.md', 'utf8') : '';
    let i = md.indexOf(begin), j = md.indexOf(end);
    if (i < 0 || j < i) {
      md = md ? `${md.trimEnd()}\n\n${section}` : section;
      i = md.indexOf(begin);
      j = md.indexOf(end);
    }
    writeFileSync('BENCHMARKS.md', `${md.slice(0, i + begin.length)}\n${report}\n${md.slice(j)}`);
    console.log('wrote BENCHMARKS.md');
  }
} finally {
  await browser.close();
  server.close();
  for (const p of busy) p.kill();
}
process.exit(failed ? 1 : 0);
