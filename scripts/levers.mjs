// Times and sizes the CPU-build variants in pkg-levers/ (made by scripts/levers.sh): for each,
// www/bench.html?pkg=… in headless Chromium, CPU only. `--runs N` (default 100), `--write`
// replaces the levers section of BENCHMARKS.md.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { launchChromium } from './chromium.mjs';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 100;
const write = args.includes('--write');
const order = ['shipped', 'wasm-opt-Oz', 'wasm-opt-O3', 'no-simd', 'opt-level-z', 'opt-level-s'];
const variants = order.filter((v) => existsSync(`pkg-levers/${v}/deep_inside_bg.wasm`))
  .concat(existsSync('pkg-levers') ? readdirSync('pkg-levers').filter((v) => !order.includes(v)) : []);

const { server, url } = await startServer({ port: 0 });
const browser = await launchChromium({ webgpu: false });
const f = (s) => (s ? s.median.toFixed(2) : '–');
const lines = ['| CPU build | raw | gzipped | predict | saliency | LRP | SmoothGrad (32) | class-model step | full panel | start |',
  '|---|---|---|---|---|---|---|---|---|---|'];
try {
  for (const v of variants) {
    const bytes = readFileSync(`pkg-levers/${v}/deep_inside_bg.wasm`);
    const page = await browser.newPage();
    await page.goto(`${url}www/bench.html?runs=${runs}&webgpu=0&nets=mnist&pkg=pkg-levers/${v}`);
    const cpu = (await page.evaluate(() => window.results)).cpu;
    const r = { ...cpu.mnist, startMs: cpu.importMs + cpu.mnist.createMs };
    await page.close();
    const line = `| ${v} | ${(bytes.length / 1e6).toFixed(2)} MB | ${(gzipSync(bytes, { level: 9 }).length / 1e6).toFixed(2)} MB | ` +
      `${f(r.predict)} | ${f(r.gradient)} | ${f(r.lrp)} | ${f(r.smoothGrad)} | ${f(r.classModelStep)} | ${f(r.fullPanel)} | ${r.startMs.toFixed(0)} |`;
    console.log(line);
    lines.push(line);
  }
} finally {
  await browser.close();
  server.close();
}
const report = [`Measured ${new Date().toISOString().slice(0, 10)} by \`bash scripts/levers.sh\` (CPU build variants; ` +
  `ms, medians of ${runs} runs in headless Chromium; start = import + init + create).`, '', ...lines].join('\n');
console.log(report);
if (write) {
  const md = readFileSync('BENCHMARKS.md', 'utf8');
  const begin = '<!-- levers:begin -->', end = '<!-- levers:end -->';
  const i = md.indexOf(begin), j = md.indexOf(end);
  if (i < 0 || j < i) throw new Error('BENCHMARKS.md lacks the levers markers');
  writeFileSync('BENCHMARKS.md', `${md.slice(0, i + begin.length)}\n${report}\n${md.slice(j)}`);
  console.log('wrote BENCHMARKS.md');
}
