// The CPU path in every browser engine here: `node scripts/bench-engines.mjs [--runs N] [--write]`
// (after scripts/build.sh; WebKitGTK needs a display, so run it as `xvfb-run -a node …`).
// Opens www/bench.html?nets=mnist&webgpu=0 in Chromium (playwright-core), Firefox ESR and
// WebKitGTK (WebDriver, scripts/webdriver.mjs), one after the other on the same machine, and
// prints the mean time of `explain`, LRP, a class-model step and predict (the loop's time over
// its runs: per-call medians are meaningless where the timer steps by 1 ms), with each engine's
// timer resolution (the smallest step of performance.now() it shows). With --write, the table
// replaces the "bench-engines" section of BENCHMARKS.md.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { launchChromium } from './chromium.mjs';
import { startServer } from './serve.mjs';
import { launch } from './webdriver.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 100;
const write = args.includes('--write');

const OPS = [['explain', 'explain: one trace, 3 maps + gradient × input'], ['lrp', 'LRP, all layers'],
  ['classModelStep', 'class-model step'], ['predict', 'predict']];

// The smallest nonzero step between two readings of performance.now(), in ms.
const RESOLUTION = () => {
  let best = Infinity;
  for (let i = 0; i < 200; i++) {
    const a = performance.now();
    let b = a;
    while (b === a) b = performance.now();
    best = Math.min(best, b - a);
  }
  return best;
};

const { server, url } = await startServer({ port: 0, csp: true });
const page = `${url}www/bench.html?runs=${runs}&nets=mnist&webgpu=0`;
const results = {};
try {
  for (const engine of ['chromium', 'firefox', 'webkit']) {
    let opened;
    if (engine === 'chromium') {
      const browser = await launchChromium({ webgpu: false });
      const p = await browser.newPage();
      opened = { page: p, close: () => browser.close() };
    } else {
      opened = await launch(engine, { webgpu: false });
    }
    try {
      await opened.page.goto(page);
      const r = await opened.page.evaluate(() => window.results);
      const version = await opened.page.evaluate(() => navigator.userAgent);
      results[engine] = { ...r.cpu.mnist, resolution: await opened.page.evaluate(RESOLUTION), version };
      console.log(`${engine}: done (${version})`);
    } finally {
      await opened.close();
    }
  }
} finally {
  server.close();
}

const ms = (v) => (v == null ? '–' : v.toFixed(2));
const engines = Object.keys(results);
const lines = [
  `| operation (MNIST net, CPU, mean ms over ${runs} runs) | ${engines.join(' | ')} |`,
  `|---|${engines.map(() => '---:').join('|')}|`,
  ...OPS.map(([key, name]) => {
    const means = engines.map((e) => results[e][key]?.mean);
    const fastest = Math.min(...means);
    return `| ${name} | ${means.map((m) => `${ms(m)} (${(m / fastest).toFixed(1)}×)`).join(' | ')} |`;
  }),
  `| timer resolution (ms) | ${engines.map((e) => results[e].resolution.toFixed(3)).join(' | ')} |`,
];
const table = lines.join('\n');
console.log(table);
console.log(`\n${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);

if (write) {
  const file = 'BENCHMARKS.md';
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- bench-engines:begin -->';
  const end = '<!-- bench-engines:end -->';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < 0) throw new Error(`${file}: no ${begin} … ${end} section`);
  writeFileSync(file, `${text.slice(0, a + begin.length)}\n${table}\n${text.slice(b)}`);
  console.log(`wrote ${file}`);
}
