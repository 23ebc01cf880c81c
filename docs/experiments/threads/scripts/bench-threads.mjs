// Measurement only (docs/experiments/threads/README.md): `node scripts/bench-threads.mjs [variant...]`,
// variants `cpu`, `cpu-threads:1`, `cpu-threads:2` (default: all three, each on a fresh page
// load in one browser), served with COOP/COEP. Prints JSON and a table of medians.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const variants = process.argv.slice(2).length ? process.argv.slice(2) : ['cpu', 'cpu-threads:1', 'cpu-threads:2'];
const { server, url } = await startServer({ root, port: 0, isolate: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const all = {};
const load = () => readFileSync('/proc/loadavg', 'utf8').trim();
try {
  for (const v of variants) {
    const [pkg, n] = v.split(':');
    const page = await browser.newPage();
    page.on('console', (m) => console.error(`[${v}] console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => console.error(`[${v}] pageerror: ${e.message}`));
    const before = load();
    await page.goto(`${url}www/bench-threads.html?pkg=${pkg}&n=${n ?? 0}`);
    const r = await page.evaluate(() => window.results);
    r.loadavgBefore = before;
    r.loadavgAfter = load();
    all[v] = r;
    console.error(`[${v}] done: ${r.error ?? 'ok'}; loadavg ${before} -> ${r.loadavgAfter}`);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(all, null, 1));
const ops = ['predict', 'smoothGrad', 'integratedGradients', 'curves', 'fullPanel', 'explain', 'relevance'];
console.log(`| operation | ${variants.join(' | ')} |`);
console.log(`|---|${variants.map(() => '---').join('|')}|`);
for (const op of ops) {
  console.log(`| ${op} | ${variants.map((v) => all[v].ms?.[op]?.median?.toFixed(2) ?? '–').join(' | ')} |`);
}
