// Measurement only: does www/coi-sw.js isolate a page served WITHOUT COOP/COEP, and what does
// the extra reload cost? `node scripts/coi-check.mjs [--bench]`. Each case in a fresh context
// (no service worker yet), 5 times: first load to an isolated page via the SW (no headers), against the
// same page served with the headers (isolated on the first load).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bench = process.argv.includes('--bench');
const plain = await startServer({ root, port: 0, isolate: false });
const iso = await startServer({ root, port: 0, isolate: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const out = { sw: [], headers: [], swSecondVisit: [] };
try {
  for (let i = 0; i < 5; i++) {
    for (const [name, srv] of [['sw', plain], ['headers', iso]]) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      page.on('console', (m) => console.error(`[${name}] console.${m.type()}: ${m.text()}`));
      let navs = 0;
      page.on('framenavigated', (f) => { if (f === page.mainFrame()) navs++; });
      const t0 = Date.now();
      await page.goto(`${srv.url}www/coi.html${bench && i === 0 ? '?bench=1' : ''}`);
      // The first document may reload itself: wait for the final one.
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'done', null, { timeout: 120000 });
      const info = await page.evaluate(() => window.coi);
      info.wallMs = Date.now() - t0;
      info.navigations = navs;
      out[name].push(info);
      if (name === 'sw') {
        // A second visit in the same context: the SW already controls it, so no reload.
        const t1 = Date.now();
        await page.evaluate(() => sessionStorage.clear());
        await page.goto(`${srv.url}www/coi.html`);
        await page.waitForFunction(() => document.getElementById('status')?.textContent === 'done');
        const again = await page.evaluate(() => window.coi);
        again.wallMs = Date.now() - t1;
        out.swSecondVisit.push(again);
      }
      await ctx.close();
    }
  }
} finally {
  await browser.close();
  plain.server.close();
  iso.server.close();
}
console.log(JSON.stringify(out, null, 1));
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
for (const k of Object.keys(out)) {
  console.log(`${k}: isolated ${out[k].map((r) => r.isolated).join(',')}; wall ms median ${med(out[k].map((r) => r.wallMs))} (${out[k].map((r) => r.wallMs).join(', ')}); navigations ${out[k].map((r) => r.navigations).join(',')}`);
}
