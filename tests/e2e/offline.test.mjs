// End-to-end: the page offline (sw.js). After one visit online the page works with the network
// off; a new deploy replaces the offline copy whole; and a page load never mixes two deploys.
// The page is served from a temporary copy under a sub-path (/sub/), so that a deploy can be
// made by changing files: each deploy marks the page's JS (<html data-deploy>) and the CPU
// build's wasm glue (the worker's `self.deploy`), and the page must run with both of one deploy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendFileSync, copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { open, unpainted, checkClean, chromiumOnly } from './browser.mjs';

/** A copy of the page under `root`/sub: the page, the CPU build and the model files; of the
 * WebGPU build only its glue (to fetch as a lazy file). */
function copySite(root) {
  const site = path.join(root, 'sub');
  for (const p of ['index.html', 'sw.js', 'www', 'pkg/cpu', 'assets', 'pkg/webgpu/deep_inside.js', 'pkg/webgpu/snippets']) {
    cpSync(p, path.join(site, p), { recursive: true });
  }
  return site;
}

/** Deploys `version` to `site`: the repository's page JS and glue, each with its marker. */
function deploy(site, version) {
  for (const file of ['www/app.js', 'pkg/cpu/deep_inside.js']) copyFileSync(file, path.join(site, file));
  appendFileSync(path.join(site, 'www/app.js'), `\ndocument.documentElement.dataset.deploy = '${version}';\n`);
  appendFileSync(path.join(site, 'pkg/cpu/deep_inside.js'), `\nself.deploy = '${version}';\n`);
}

/** The current snapshot, {name, urls} (relative to the page), once sw.js has written one other
 * than `not` and deleted every other. */
async function snapshot(page, not = null) {
  let found = null;
  for (let i = 0; i < 300; i++) {
    found = await page.evaluate(async () => {
      const names = await caches.keys();
      const meta = names.find((k) => k.endsWith(' meta'));
      const current = meta && await (await caches.open(meta)).match('sw/current');
      return { ...(current ? await current.json() : {}), snapshots: names.filter((k) => k.includes(' snapshot ')) };
    });
    if (found.name && found.name !== not && found.snapshots.length === 1 && found.snapshots[0] === found.name) {
      const base = new URL('.', page.url()).href;
      return { name: found.name, urls: found.urls.map((u) => u.slice(base.length)) };
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`no new snapshot alone: ${JSON.stringify(found)}`);
}

/** The deploy markers of the page's JS and of the worker's glue. */
const deployed = async (page) => [
  await page.evaluate(() => document.documentElement.dataset.deploy),
  await page.workers()[0].evaluate(() => self.deploy),
];

/** Loads the page again and checks that it works: a picked digit is predicted and explained. */
async function reloadAndUse(page) {
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('#gallery button').length >= 100, null, { timeout: 60000 });
  await page.click('#gallery button[aria-label$="labelled 1"] >> nth=0');
  await page.waitForFunction(() => document.getElementById('prediction').textContent === '1', null, { timeout: 60000 });
  assert.deepEqual(await unpainted(page, ['map-gradient', 'lrp-conv1']), []);
}

test('offline: one visit, then the page works without the network; a deploy replaces the copy, never mixed', chromiumOnly('setOffline and the list of workers'), async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'deep-inside-offline-'));
  try {
    const site = copySite(root);
    deploy(site, 'v1');
    await visits(site, await open('/sub/?backend=cpu', { webgpu: false, root }));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** The visits, in one browser context (one service worker, one cache storage). */
async function visits(site, { page, context, record, close }) {
  try {
    // First visit: the worker takes control, and after the first result keeps the page, its
    // start-up files (found by following them) and the model files; not the lazy wasm.
    await page.waitForFunction(() => Number(document.body.dataset.updates ?? 0) > 0, null, { timeout: 60000 });
    let v1 = await snapshot(page);
    assert.equal(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL), new URL('sw.js', page.url()).href);
    for (const file of ['', 'www/app.js', 'www/support.js', 'www/style.css', 'www/favicon.svg', 'www/worker.js',
      'pkg/cpu/deep_inside.js', 'pkg/cpu/deep_inside_bg.wasm', 'assets/fashion/weights.bpk', 'assets/mnist-deep/config.json']) {
      assert.ok(v1.urls.includes(file), `the snapshot keeps "${file}": ${v1.urls}`);
    }
    assert.ok(v1.urls.some((u) => u.startsWith('pkg/cpu/snippets/')), 'and the glue\'s static imports');
    assert.deepEqual(v1.urls.filter((u) => /^pkg\/(webgpu|reader)\//.test(u)), [], 'the lazy builds only once fetched');
    // The WebGPU build, once fetched, is kept too: a new set, so a new snapshot in place of the first.
    await page.evaluate(() => fetch('pkg/webgpu/deep_inside.js'));
    v1 = await snapshot(page, v1.name);
    assert.ok(v1.urls.includes('pkg/webgpu/deep_inside.js'), `${v1.urls}`);

    // Offline: the same page, all of it from the snapshot.
    await context.setOffline(true);
    await reloadAndUse(page);
    assert.deepEqual(await deployed(page), ['v1', 'v1']);

    // A deploy while this page (of the snapshot) runs, and the network back: the page's loads stay
    // with its snapshot, the worker's too, not the new files the host now serves.
    deploy(site, 'v2');
    await context.setOffline(false);
    const marker = (text) => text.match(/deploy = '(v\d)'/)?.[1];
    assert.equal(marker(await page.evaluate(() => fetch('www/app.js').then((r) => r.text()))), 'v1');
    assert.equal(marker(await page.workers()[0].evaluate(() => fetch('../pkg/cpu/deep_inside.js').then((r) => r.text()))), 'v1');

    // Online again: the new deploy, and after its first result a new snapshot in place of the old.
    await reloadAndUse(page);
    assert.deepEqual(await deployed(page), ['v2', 'v2']);
    const v2 = await snapshot(page, v1.name);
    assert.deepEqual(v2.urls, v1.urls, 'the same files, of the new deploy');

    // Offline with the new deploy.
    await context.setOffline(true);
    await reloadAndUse(page);
    assert.deepEqual(await deployed(page), ['v2', 'v2']);
    await checkClean(page, record);
  } finally {
    await close();
  }
}
