// End-to-end: the guide (docs/guide), built by scripts/book.sh into a fresh folder and served
// under the sub-path /deep-inside/, as a static host would. Every chapter of SUMMARY.md opens;
// in each, every live figure renders, its formulas are MathML, and there is no console error,
// no request to another origin and none outside /deep-inside/. One browser for all chapters.
// mdBook's theme has inline scripts, so the book is served without the page's CSP (the
// element itself is tested under it in embed.test.mjs). The figures run on the CPU: Chromium
// has navigator.gpu even without WebGPU flags, and the book's figures (backend "auto") would
// each fetch and compile the 22 MB WebGPU build only to fall back. Screenshot: .e2e/book-sanity.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium } from '../../scripts/chromium.mjs';
import { startServer } from '../../scripts/serve.mjs';
import { SHOTS, checkClean } from './browser.mjs';

const BASE = '/deep-inside/';

/** Before the page's scripts: every figure asks for the CPU backend as it is parsed. */
const CPU_ONLY = () => new MutationObserver((records) => {
  for (const r of records) {
    for (const n of r.addedNodes) if (n.localName === 'deep-inside-demo') n.setAttribute('backend', 'cpu');
  }
}).observe(document, { childList: true, subtree: true });

/** The chapters, as SUMMARY.md lists them: "introduction.md" → "introduction.html". */
const chapters = [...readFileSync('docs/guide/src/SUMMARY.md', 'utf8').matchAll(/\]\(([^)]+)\.md\)/g)].map((m) => `${m[1]}.html`);

let dir, server, url, browser;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'deep-inside-book-'));
  try {
    execFileSync('bash', ['scripts/book.sh', path.join(dir, 'deep-inside')], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`scripts/book.sh failed:\n${e.stderr}`);
  }
  ({ server, url } = await startServer({ root: dir, port: 0, csp: false }));
  browser = await launchChromium({ webgpu: false });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Per figure: its method, backend, status line, and the canvases of its shadow root that are blank or one colour. */
const figures = (page) => page.evaluate(() => [...document.querySelectorAll('deep-inside-demo')].map((d) => ({
  method: d.getAttribute('method'),
  backend: d.dataset.backend,
  status: d.shadowRoot.querySelector('.status').textContent,
  unpainted: [...d.shadowRoot.querySelectorAll('canvas')].filter((c) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < data.length && seen.size < 2; i += 4) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`);
    return seen.size < 2;
  }).map((c) => c.getAttribute('aria-label') ?? 'a legend'),
})));

test('the guide builds, and SUMMARY.md lists the introduction and the eight chapters', () => {
  assert.equal(chapters.length, 9, `chapters: ${chapters}`);
  assert.equal(chapters[0], 'introduction.html');
});

for (const chapter of chapters) {
  test(`guide: ${chapter} renders every live figure, cleanly, under ${BASE}`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const origin = new URL(url).origin;
    const record = { errors: [], foreign: [], failed: [], outside: [] };
    try {
      await context.addInitScript(CPU_ONLY);
      const page = await context.newPage();
      page.on('console', (m) => { if (m.type() === 'error') record.errors.push(m.text()); });
      page.on('pageerror', (e) => record.errors.push(`page error: ${e.message}`));
      context.on('request', (r) => {
        const u = new URL(r.url());
        if (['data:', 'blob:'].includes(u.protocol)) return;
        if (u.origin !== origin) record.foreign.push(r.url());
        else if (!u.pathname.startsWith(BASE)) record.outside.push(u.pathname);
      });
      context.on('response', (r) => { if (r.status() >= 400) record.failed.push(`${r.status()} ${r.url()}`); });
      await page.goto(new URL(BASE + chapter, url).href);

      const count = await page.locator('deep-inside-demo').count();
      assert.ok(count > 0, 'every chapter has a live figure');
      await page.waitForFunction(() => [...document.querySelectorAll('deep-inside-demo')].every((d) => d.dataset.ready === '1'),
        null, { timeout: 60000 });
      // The legends come from the worker after the maps: poll until every canvas is painted.
      await page.waitForFunction(() => [...document.querySelectorAll('deep-inside-demo')].every((d) =>
        [...d.shadowRoot.querySelectorAll('canvas')].every((c) => {
          const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 4; i < data.length; i++) if (data[i] !== data[i % 4]) return true;
          return false;
        })), null, { timeout: 10000 }).catch(() => {});
      for (const f of await figures(page)) {
        assert.equal(f.status, '', `${f.method}: no error or hint in the status line`);
        assert.equal(f.backend, 'cpu');
        assert.deepEqual(f.unpainted, [], `${f.method}: every canvas painted`);
      }

      const maths = await page.evaluate(() => [...document.querySelectorAll('main math')].map((m) => m instanceof MathMLElement));
      assert.ok(maths.length > 0, 'the chapter has its formulas');
      assert.ok(maths.every(Boolean), 'and they are MathML elements');

      if (chapter === 'lrp.html') {
        // A bad composite shows the wasm's error in its figure and breaks nothing; a good one recovers.
        const status = () => page.evaluate(() => document.querySelector('deep-inside-demo').shadowRoot.querySelector('.status').textContent);
        await page.evaluate(() => document.querySelector('deep-inside-demo').setAttribute('composite', 'zbox, bogus'));
        await page.waitForFunction(() => document.querySelector('deep-inside-demo').shadowRoot.querySelector('.status.error'));
        assert.match(await status(), /^Error: .*composite/);
        await page.evaluate(() => document.querySelector('deep-inside-demo').setAttribute('composite', 'epsilon_plus'));
        await page.waitForFunction(() => !document.querySelector('deep-inside-demo').shadowRoot.querySelector('.status.error'));
        assert.equal(await status(), '');
      }
      if (chapter === 'sanity-check.html') {
        // The chapter's point: with fc2 random, guided backprop's map survives and the gradient's does not.
        const rho = await page.evaluate(() => Object.fromEntries([...document.querySelector('deep-inside-demo[stage="fc2"]')
          .shadowRoot.querySelectorAll('tbody tr')].map((tr) => [tr.querySelector('th').textContent,
          [...tr.querySelectorAll('td .sum')].map((s) => Number(s.textContent.replace('ρ ', '')))])));
        assert.deepEqual(Object.keys(rho), ['gradient', 'guided backprop']);
        assert.deepEqual(rho.gradient.length, 2, 'trained and fc2 random');
        assert.ok(rho['guided backprop'][1] > 0.5 && rho.gradient[1] < 0.2, `ρ with fc2 random: ${JSON.stringify(rho)}`);
        await page.screenshot({ path: path.join(SHOTS, 'book-sanity.png'), fullPage: true });
      }

      assert.deepEqual(record.failed, [], 'no request failed');
      assert.deepEqual(record.outside, [], `every request stays under ${BASE}`);
      await checkClean(page, record);
    } finally {
      await context.close();
    }
  });
}
