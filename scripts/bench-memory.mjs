// Memory over many explanations, per backend: `node scripts/bench-memory.mjs [--n N] [--write]`
// (after scripts/build.sh). Runs tests/e2e/fuzz.html's `memory(n, build)` in headless Chromium:
// N consecutive explanations with every method (see tests/e2e/fuzz.js), and reports how much
// the wasm memory grew after 200 warm-up ones. The CPU figure for N = 10,000 is also asserted
// by the e2e tests; on WebGPU (SwiftShader here) it is a benchmark. GPU buffers are read from
// burn's device allocator (`memoryUsage()`: bytes reserved and in use), before and after.
// With --write, the table replaces the memory section of BENCHMARKS.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { launchChromium } from './chromium.mjs';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const n = Number(args[args.indexOf('--n') + 1] || 0) || 1000;
const write = args.includes('--write');

const { server, url } = await startServer({ port: 0, csp: true });
const browser = await launchChromium();
const rows = [];
try {
  for (const build of ['cpu', 'webgpu']) {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error('console:', m.text()); });
    await page.goto(`${url}tests/e2e/fuzz.html?calls=1`);
    const r = await page.evaluate(([count, b]) => window.memory(count, b), [n, build]);
    const gpu = r.device ? `${(r.device.reserved / 1e6).toFixed(1)} MB reserved, ${(r.device.inUse / 1e6).toFixed(1)} MB in use | ${r.device.growth} bytes` : 'not reported (no device pool) | –';
    const line = `| ${build === 'cpu' ? 'CPU' : 'WebGPU'} | ${r.n} | ${(r.ms / 1000).toFixed(0)} s | ${(r.bytes / 1e6).toFixed(1)} MB | ${r.growth} bytes | ${gpu} |`;
    console.log(line);
    rows.push(line);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
const report = [
  `Measured ${new Date().toISOString().slice(0, 10)} by \`node scripts/bench-memory.mjs --n ${n}\` ` +
    '(headless Debian Chromium; WebGPU is SwiftShader). Each explanation: `explain`, LRP (presets in turn), ' +
    'localisation, and every fourth one SmoothGrad, Integrated Gradients, faithfulness curves (k = 64) or the sanity check in turn.',
  '', '| backend | explanations after warm-up | time | wasm memory | wasm growth | device allocator | device growth |', '|---|---|---|---|---|---|---|', ...rows,
].join('\n');
console.log(report);
if (write) {
  const md = readFileSync('BENCHMARKS.md', 'utf8');
  const begin = '<!-- memory:begin -->', end = '<!-- memory:end -->';
  const i = md.indexOf(begin), j = md.indexOf(end);
  const next = i >= 0 && j > i
    ? `${md.slice(0, i + begin.length)}\n${report}\n${md.slice(j)}`
    : `${md.trimEnd()}\n\n## Memory over many explanations\n\n${begin}\n${report}\n${end}\n`;
  writeFileSync('BENCHMARKS.md', next);
  console.log('wrote BENCHMARKS.md');
}
