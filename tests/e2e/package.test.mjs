// End-to-end: the npm package (scripts/pack.mjs). The tarball is installed offline into a fresh
// folder and used as a user would: served as installed, the element's script by its package path;
// and bundled by Vite from `import 'deep-inside-demo'`, with no Vite config. Both pages render
// under the strict CSP, with nothing from another origin. The package's TypeScript types are
// checked against the element (tsc).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { open, checkClean } from './browser.mjs';

const DIR = mkdtempSync(path.join(os.tmpdir(), 'deep-inside-package-'));
const APP = path.join(DIR, 'app');
const INSTALLED = path.join(APP, 'node_modules', 'deep-inside-demo');

// Three elements: the embedded MNIST net, a model whose files the worker fetches (assets/), and
// a user's ONNX file, read by the reader module (pkg/reader) that the worker imports.
const ELEMENTS = `
  <deep-inside-demo method="saliency" digit="8" backend="cpu"></deep-inside-demo>
  <deep-inside-demo method="predict" model="fashion" backend="cpu"></deep-inside-demo>
  <deep-inside-demo method="saliency" model-src="model.onnx" backend="cpu"></deep-inside-demo>`;
const html = (script) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>deep-inside-demo from npm</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<script type="module" src="${script}"></script></head>
<body>${ELEMENTS}
</body>
</html>
`;

before(() => {
  const tarball = execFileSync('node', ['scripts/pack.mjs', '--out', path.join(DIR, 'out')], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  }).split('\n')[0];
  mkdirSync(path.join(APP, 'public'), { recursive: true });
  writeFileSync(path.join(APP, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  // The icon the browser asks for, served as installed and copied by Vite (public/): no 404.
  for (const dir of [APP, path.join(APP, 'public')]) {
    copyFileSync('www/favicon.svg', path.join(dir, 'favicon.svg'));
    copyFileSync('tests/fixtures/user-models/bn_avgpool.onnx', path.join(dir, 'model.onnx'));
  }
  // No registry: the package has no dependencies, so the tarball is all npm needs.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball],
    { cwd: APP, stdio: 'pipe' });
});
after(() => rmSync(DIR, { recursive: true, force: true }));

/** Waits for every element's first result, then checks each is styled and error-free; returns the
 * attributes the element observes. */
async function rendered(page, record) {
  await page.waitForFunction(() => [...document.querySelectorAll('deep-inside-demo')]
    .every((d) => d.dataset.ready === '1'), null, { timeout: 60000 });
  const info = await page.evaluate(() => [...document.querySelectorAll('deep-inside-demo')].map((d) => ({
    styled: getComputedStyle(d.shadowRoot.querySelector('canvas.pad')).backgroundColor,
    status: d.shadowRoot.querySelector('.status').textContent,
    backend: d.dataset.backend,
    attributes: customElements.get('deep-inside-demo').observedAttributes,
  })));
  for (const i of info) {
    assert.equal(i.styled, 'rgb(0, 0, 0)', 'the stylesheet reached the shadow root');
    assert.equal(i.status, '', 'no error in the status line');
    assert.equal(i.backend, 'cpu');
  }
  await checkClean(page, record);
  return info[0].attributes;
}

test('the tarball: manifest, licence, types, the three wasm builds and the fetched models', () => {
  const manifest = JSON.parse(readFileSync(path.join(INSTALLED, 'package.json'), 'utf8'));
  const version = readFileSync('Cargo.toml', 'utf8').match(/^version\s*=\s*"([^"]+)"/m)[1];
  assert.equal(manifest.name, 'deep-inside-demo');
  assert.equal(manifest.version, version, 'the crate\'s version');
  assert.equal(manifest.license, 'MIT');
  assert.equal(manifest.type, 'module');
  assert.match(manifest.repository.url, /^git\+https:\/\//);
  assert.equal(manifest.dependencies, undefined, 'no runtime dependencies');
  assert.deepEqual(manifest.exports['.'], { types: './www/deep-inside-demo.d.ts', default: './www/deep-inside-demo.js' });
  assert.equal(readFileSync(path.join(INSTALLED, 'LICENSE'), 'utf8'), readFileSync('LICENSE', 'utf8'));
  for (const f of ['README.md', 'www/deep-inside-demo.d.ts', 'www/worker.js', 'www/support.js', 'www/deep-inside-demo.css',
    'pkg/cpu/deep_inside_bg.wasm', 'pkg/webgpu/deep_inside_bg.wasm', 'pkg/reader/deep_inside_bg.wasm',
    'assets/mnist-deep/weights.bpk', 'assets/fashion/heldout.bin']) {
    assert.ok(existsSync(path.join(INSTALLED, f)), `the package has ${f}`);
  }
  assert.ok(!existsSync(path.join(INSTALLED, 'assets/mnist')), 'the embedded model\'s files are left out');
});

test('the types: a TypeScript user of the element compiles, and a wrong use does not', () => {
  // `bundler` resolution, as a Vite project has it: the package's `exports` give the types.
  writeFileSync(path.join(APP, 'use.ts'), `import 'deep-inside-demo';
import type { DeepInsideDemo, DeepInsideMap, DeepInsideMethod } from 'deep-inside-demo';
const made: DeepInsideDemo = document.createElement('deep-inside-demo');
const found: DeepInsideDemo | null = document.querySelector('deep-inside-demo');
const method: DeepInsideMethod = made.method;
const maps: DeepInsideMap[] = made.maps;
const digit: number = made.digit + (found?.target ?? -1);
// @ts-expect-error: the properties are read-only; set the attribute instead
made.method = 'lrp';
made.setAttribute('method', 'lrp');
export { method, maps, digit };
`);
  const tsc = path.resolve('node_modules/.bin/tsc');
  execFileSync(tsc, ['--noEmit', '--strict', '--target', 'es2022', '--module', 'preserve', '--moduleResolution', 'bundler',
    '--lib', 'es2022,dom', 'use.ts'], { cwd: APP, stdio: 'pipe' });
});

test('installed: a page that loads the element by its package path renders under the CSP', async () => {
  writeFileSync(path.join(APP, 'index.html'), html('node_modules/deep-inside-demo/www/deep-inside-demo.js'));
  const { page: p, record, close } = await open('/', { webgpu: false, root: APP });
  try {
    const attributes = await rendered(p, record);
    assert.ok(record.paths.has('/node_modules/deep-inside-demo/pkg/cpu/deep_inside_bg.wasm'));
    assert.ok(record.paths.has('/node_modules/deep-inside-demo/assets/fashion/weights.bpk'));
    // Every attribute the element observes has a type.
    const types = readFileSync(path.join(INSTALLED, 'www/deep-inside-demo.d.ts'), 'utf8');
    const documented = attributes.filter((a) => new RegExp(`^  '?${a}'?\\?:`, 'm').test(types));
    assert.deepEqual(documented, attributes, 'every observed attribute is in DeepInsideDemoAttributes');
  } finally {
    await close();
  }
});

test('bundled: Vite builds `import \'deep-inside-demo\'` with no config, and the page renders', async () => {
  writeFileSync(path.join(APP, 'index.html'), html('./main.js'));
  writeFileSync(path.join(APP, 'main.js'), "import 'deep-inside-demo';\n");
  await build({ root: APP, logLevel: 'warn', configFile: false });
  const dist = path.join(APP, 'dist');
  const { page: p, record, close } = await open('/', { webgpu: false, root: dist });
  try {
    await rendered(p, record);
    // Vite's own output served the element: its worker, the CPU build's wasm and the model files.
    const paths = [...record.paths];
    // Two wasm files: the CPU build's and the reader's.
    assert.equal(paths.filter((u) => /^\/assets\/deep_inside_bg-[\w-]+\.wasm$/.test(u)).length, 2, `${paths}`);
    for (const re of [/^\/assets\/worker-[\w-]+\.js$/, /^\/assets\/heldout-[\w-]+\.bin$/]) {
      assert.ok(paths.some((u) => re.test(u)), `${re} among ${paths}`);
    }
    assert.ok(!paths.some((u) => u.includes('node_modules')));
  } finally {
    await close();
  }
});
