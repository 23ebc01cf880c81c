// Where Chromium's slow tail comes from (issue 18): `node scripts/bench-tail.mjs [--runs N]`
// (after scripts/build.sh). Opens www/bench.html?nets=mnist&webgpu=0 in Chromium as it is, and
// again with V8's baseline wasm compiler (Liftoff) turned off, so that every function runs
// optimised (TurboFan) from its first call; and once more with one garbage-collector thread.
// Prints the median, p90 and mean of predict, explain, LRP and a class-model step for each. The
// flags exist for this measurement only: a page cannot set them.
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 100;
const VARIANTS = [
  ['as shipped', []],
  ['no Liftoff (TurboFan from the first call)', ['--js-flags=--no-liftoff']],
  ['one GC thread', ['--js-flags=--single-threaded-gc']],
];
const OPS = [['predict', 'predict'], ['explain', 'explain'], ['lrp', 'LRP'], ['classModelStep', 'class-model step']];

const { server, url } = await startServer({ port: 0, csp: true });
const rows = ['| Chromium | operation | median | p90 | mean |', '|---|---|---:|---:|---:|'];
try {
  for (const [name, flags] of VARIANTS) {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', ...flags],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${url}www/bench.html?runs=${runs}&nets=mnist&webgpu=0`);
      const r = (await page.evaluate(() => window.results)).cpu.mnist;
      for (const [key, op] of OPS) {
        rows.push(`| ${name} | ${op} | ${r[key].median.toFixed(2)} | ${r[key].p90.toFixed(2)} | ${r[key].mean.toFixed(2)} |`);
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  server.close();
}
console.log(rows.join('\n'));
