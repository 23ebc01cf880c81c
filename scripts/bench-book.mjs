// The guide's numbers: `node scripts/bench-book.mjs [--runs N] [--write]` (after scripts/build.sh
// or scripts/serve.sh have built pkg/cpu and pkg/webgpu, and scripts/setup.sh has installed mdbook).
// - build: scripts/book.sh into a fresh folder, N times (the first into an empty folder); the
//   size of what it writes, by part.
// - time to the first live figure of each chapter, served under /deep-inside/ as a static host
//   would (Cache-Control: max-age=600 with an ETag, as GitHub Pages sends; scripts/serve.mjs sends
//   no-cache without validators, which would make every load cold): navigation start to the first
//   `data-ready="1"` of the page's <deep-inside-demo> elements, and to the last. Cold: a fresh
//   browser context (empty HTTP and code caches); warm: the same context, reloaded. Headless
//   Chromium without WebGPU, so the figures run on the CPU, as most readers' first figure does.
// With --write, the tables replace the guide's section of BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';
import { MIME_TYPES } from './serve.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 3;
const write = args.includes('--write');
const BASE = '/deep-inside/';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Bytes and files under `dir`, by the first path component (the book's own files as "book"). */
function sizes(dir) {
  const parts = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      const rel = path.relative(dir, p).split(path.sep);
      const part = ['www', 'assets'].includes(rel[0]) ? rel[0] : rel[0] === 'pkg' ? `pkg/${rel[1]}` : 'book';
      parts[part] ??= { bytes: 0, files: 0 };
      parts[part].bytes += statSync(p).size;
      parts[part].files++;
    }
  };
  walk(dir);
  return parts;
}

// The machine is shared: the report gives its load, which these timings depend on.
const loads = [loadavg()[0]];

// --- build -------------------------------------------------------------------------------
const root = mkdtempSync(path.join(tmpdir(), 'deep-inside-bench-book-'));
const out = path.join(root, 'deep-inside');
const builds = [];
for (let i = 0; i < Math.max(runs, 3); i++) {
  const t0 = performance.now();
  execFileSync('bash', ['scripts/book.sh', out], { stdio: 'ignore' });
  builds.push(performance.now() - t0);
}
const parts = sizes(out);
const total = Object.values(parts).reduce((a, p) => ({ bytes: a.bytes + p.bytes, files: a.files + p.files }), { bytes: 0, files: 0 });
const mdbook = execFileSync('mdbook', ['--version'], { encoding: 'utf8' }).trim();

// --- a static host under /deep-inside/ -----------------------------------------------------
const server = createServer((req, res) => {
  const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  let file = pathname.startsWith(BASE) ? path.join(out, path.normalize(pathname.slice(BASE.length))) : null;
  if (file && !file.startsWith(out)) file = null;
  let info;
  try {
    info = file && statSync(file);
    if (info?.isDirectory()) { file = path.join(file, 'index.html'); info = statSync(file); }
  } catch { info = null; }
  if (!info) { res.writeHead(404).end(); return; }
  const etag = `"${info.size}-${info.mtimeMs}"`;
  const headers = { 'Cache-Control': 'max-age=600', ETag: etag, 'Content-Type': MIME_TYPES[path.extname(file)] ?? 'application/octet-stream' };
  if (req.headers['if-none-match'] === etag) { res.writeHead(304, headers).end(); return; }
  res.writeHead(200, { ...headers, 'Content-Length': info.size });
  createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}${BASE}`;

const chapters = [...readFileSync('docs/guide/src/SUMMARY.md', 'utf8').matchAll(/\]\(([^)]+)\.md\)/g)].map((m) => `${m[1]}.html`);

// Before the page's scripts: the time of each figure's first data-ready="1", from navigation start.
const WATCH = () => {
  window.__ready = [];
  new MutationObserver((records) => {
    for (const r of records) if (r.target.dataset.ready === '1' && !r.target.__seen) { r.target.__seen = true; window.__ready.push(performance.now()); }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
};
const readyTimes = async (page) => {
  await page.waitForFunction(() => [...document.querySelectorAll('deep-inside-demo')].every((d) => d.dataset.ready === '1')
    && window.__ready.length === document.querySelectorAll('deep-inside-demo').length, null, { timeout: 120000 });
  const t = await page.evaluate(() => window.__ready);
  return { first: Math.min(...t), last: Math.max(...t) };
};

const browser = await launchChromium({ webgpu: false });
const version = browser.version();
const rows = [];
try {
  for (const chapter of chapters) {
    const cold = [], warm = [];
    for (let r = 0; r < runs; r++) {
      const context = await browser.newContext();
      await context.addInitScript(WATCH);
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`${chapter}: ${e.message}`));
      await page.goto(url + chapter);
      cold.push(await readyTimes(page));
      await page.reload();
      warm.push(await readyTimes(page));
      await context.close();
    }
    const figures = (readFileSync(path.join(out, chapter), 'utf8').match(/<deep-inside-demo\b/g) ?? []).length;
    const row = {
      chapter, figures,
      coldFirst: median(cold.map((t) => t.first)), coldLast: median(cold.map((t) => t.last)),
      warmFirst: median(warm.map((t) => t.first)), warmLast: median(warm.map((t) => t.last)),
    };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
} finally {
  await browser.close();
  server.close();
  rmSync(root, { recursive: true, force: true });
}

// --- report ------------------------------------------------------------------------------
loads.push(loadavg()[0]);
const ms = (t) => `${Math.round(t)} ms`;
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} by \`node scripts/bench-book.mjs --runs ${runs}\` (${mdbook}; headless Chromium ${version} without WebGPU, so every figure runs on the CPU; 2 CPU cores, load average ${loads.map((l) => l.toFixed(1)).join(' at the start, ')} at the end; medians of ${runs} runs).`,
  '',
  `Build: \`scripts/book.sh\` takes ${ms(median(builds))} (median of ${builds.length}; the first, into an empty folder, ${ms(builds[0])}).`,
  '',
  '| part of the built folder | size | files |',
  '|---|---|---|',
  ...['book', 'www', 'pkg/cpu', 'pkg/webgpu', 'assets'].filter((p) => parts[p]).map((p) => `| ${p === 'book' ? 'the book (mdBook: HTML, theme, fonts, search index)' : p} | ${mb(parts[p].bytes)} | ${parts[p].files} |`),
  `| total | ${mb(total.bytes)} | ${total.files} |`,
  '',
  '| chapter | figures | cold: first figure | cold: all figures | warm: first figure | warm: all figures |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.chapter} | ${r.figures} | ${ms(r.coldFirst)} | ${ms(r.coldLast)} | ${ms(r.warmFirst)} | ${ms(r.warmLast)} |`),
];
console.log(lines.join('\n'));
if (write) {
  const file = 'BENCHMARKS.md';
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- book:begin -->', end = '<!-- book:end -->';
  const a = text.indexOf(begin), b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${begin} … ${end} section`);
  writeFileSync(file, `${text.slice(0, a + begin.length)}\n${lines.join('\n')}\n${text.slice(b)}`);
  console.log(`wrote ${file}`);
}
