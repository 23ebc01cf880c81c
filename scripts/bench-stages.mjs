// Where a call's time goes (issue 18): `node scripts/bench-stages.mjs [--runs N] [--load N]`
// (after scripts/build.sh). Opens www/bench-stages.html in headless Chromium, cross-origin
// isolated for its 5 µs timer: predict and the gradient map on the CPU build with the wasm's
// stage marks on, first as after `DeepInside.create` (10 warm-up calls), then after
// `warmUp(--warm R, default 100)` and `--idle MS` (default 1000) without calls, as the page's
// worker warms up once its first result is out; and the worker's message hop. Prints, per stage, the median,
// p90, p99 and mean, and what the slowest 2 % of the calls spent their time on.
// `--load N` runs N busy processes beside the browser (the issue's table had load average 3.9).
// `--js-flags F` passes V8 flags (for example --no-liftoff), for experiments only.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const value = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const runs = Number(value('--runs', 200));
const busy = Array.from({ length: Number(value('--load', 0)) },
  () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
const jsFlags = value('--js-flags', null);
const rounds = Number(value('--warm', 100));
const idle = Number(value('--idle', 1000));

const { server, url } = await startServer({ port: 0, csp: true, isolate: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-precise-memory-info', ...(jsFlags ? [`--js-flags=${jsFlags}`] : [])],
});
const f = (v) => v.toFixed(3);
try {
  const out = [];
  for (const warm of [0, rounds]) {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${url}www/bench-stages.html?runs=${runs}&warm=${warm}&idle=${idle}`);
    const load = loadavg()[0];
    const r = await page.evaluate(() => window.results);
    await page.close();
    if (!r.isolated) throw new Error('the page is not cross-origin isolated');
    const when = warm ? `after warmUp(${warm}) and ${idle} ms idle, then 10 calls` : 'after create + 10 calls';
    out.push(`### ${when} (load average ${load.toFixed(1)}${busy.length ? `, ${busy.length} busy processes` : ''})`, '',
      '| call | stage | median | p90 | p99 | mean |', '|---|---|---:|---:|---:|---:|');
    for (const call of ['predict', 'saliency']) {
      for (const [stage, s] of Object.entries(r[call].stages)) {
        out.push(`| ${call} | ${stage === 'total' ? '**total**' : stage} | ${f(s.median)} | ${f(s.p90)} | ${f(s.p99)} | ${f(s.mean)} |`);
      }
    }
    if (!warm) {
      out.push(`| worker | message there | ${f(r.worker.there.median)} | ${f(r.worker.there.p90)} | ${f(r.worker.there.p99)} | ${f(r.worker.there.mean)} |`);
      out.push(`| worker | message back | ${f(r.worker.back.median)} | ${f(r.worker.back.p90)} | ${f(r.worker.back.p99)} | ${f(r.worker.back.mean)} |`);
    }
    out.push('', `The slowest ${r.predict.slowest.length} of ${r.runs} calls each (ms; the stage that took most; GC: the JS heap shrank in the call; grow: wasm memory grew):`, '');
    for (const call of ['predict', 'saliency']) {
      const slow = r[call].slowest.map((s) => {
        const [stage, ms] = Object.entries(s.stages).sort((a, b) => b[1] - a[1])[0];
        return `#${s.run} ${f(s.total)} (${stage} ${f(ms)}${s.gc ? ', GC' : ''}${s.grew ? ', grow' : ''})`;
      });
      out.push(`- ${call}: ${slow.join('; ')}`);
    }
    out.push('');
  }
  console.log([`Measured ${new Date().toISOString().slice(0, 10)} by \`node scripts/bench-stages.mjs --runs ${runs}` +
    `${busy.length ? ` --load ${busy.length}` : ''}${args.includes('--warm') ? ` --warm ${rounds}` : ''}` +
    `${args.includes('--idle') ? ` --idle ${idle}` : ''}${jsFlags ? ` --js-flags ${jsFlags}` : ''}\` (headless Chromium ` +
    `${browser.version()}, CPU build, main thread, ms).`, '', ...out].join('\n'));
} finally {
  await browser.close();
  server.close();
  for (const p of busy) p.kill();
}
