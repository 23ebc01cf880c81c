// The page offline: a service worker that keeps one copy of the page's files, a snapshot, and
// answers from it when the network cannot.
//
// Network first. While the network answers, every request goes to it: online, the page is
// exactly what the host serves, as fresh as without this worker. Only a page load whose page
// cannot be fetched is answered from the snapshot, and then every file of that load (its worker's
// included) comes from that one snapshot, even if the network comes back meanwhile. A page load
// is one source's files: an old wasm never meets new JS.
//
// The snapshot is one cache, named by the SHA-256 of its files, which are:
// - the page and what it and its worker load at start: ROOTS, and the files they name (an HTML
//   file's scripts, styles and icons, a module's static imports), so that a module added to the
//   page is kept without being listed here;
// - the shipped models' files, which the page sends after its first result (it fetches a model's
//   only when that model is chosen);
// - once a page has fetched them, the lazy parts: the WebGPU build (22 MB, only where WebGPU is
//   used) and the reader of users' model files.
// After each online page load the whole set is fetched again, in one go, revalidated
// (`no-cache`): where the host sends ETag or Last-Modified, an unchanged file is a 304 served
// from the HTTP cache, not a second download. The same files give the
// same name and nothing is written. A new deploy gives a new name: that cache is written whole,
// then made the current one, then the old one is deleted (unless a page offline still runs from
// it). So the snapshot is always one deploy's files, complete (a deploy that lands within the
// seconds of a fetch of the set is the host's to make atomic, as for any page load).
//
// Every URL is relative to this file, which sits next to index.html: its scope is the page's
// folder, so the page works offline from any sub-path of any static host.

const SCOPE = self.registration.scope;
const at = (path) => new URL(path, SCOPE).href;
// Cache names carry the scope: two copies of the page on one origin keep apart.
const META = `deep-inside ${SCOPE} meta`;   // CURRENT, and a PIN per page load of a snapshot
const SNAPSHOT = `deep-inside ${SCOPE} snapshot `;   // + the hash of its files
const CURRENT = at('sw/current');   // {name, urls} of the current snapshot
const PIN = at('sw/pin/');          // + a client's id → {name, by}: the snapshot it runs from, who started it
/** What the page loads at start and names nowhere else in a form to follow. */
const ROOTS = ['./', 'www/worker.js', 'pkg/cpu/deep_inside.js', 'pkg/cpu/deep_inside_bg.wasm'].map(at);
/** The files kept once a page has fetched them: the wasm packages and the model files. */
const LAZY = /^(pkg|assets)\//;

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method === 'GET' && request.url.startsWith(SCOPE)) event.respondWith(answer(event));
});

// The page, after its first result: `keep` lists the model files (URLs in this scope).
self.addEventListener('message', (event) => {
  const keep = Array.isArray(event.data?.keep) ? event.data.keep : [];
  for (const url of keep) if (typeof url === 'string' && url.startsWith(SCOPE)) wanted.add(url);
  event.waitUntil(refreshSoon(0));
});

async function answer(event) {
  const { request } = event;
  if (request.mode === 'navigate') return navigate(event);
  const pinned = await pinOf(event.clientId);
  if (pinned) {
    // A worker that a page of the snapshot starts is of the snapshot too.
    if (event.resultingClientId) await pin(event.resultingClientId, pinned, event.clientId);
    return (await caches.match(request, { cacheName: pinned })) ?? Response.error();
  }
  const response = await fetch(request);
  if (response.ok && LAZY.test(request.url.slice(SCOPE.length)) && !wanted.has(request.url)) {
    wanted.add(request.url);
    if (!(await current())?.urls.includes(request.url)) event.waitUntil(refreshSoon(2000));
  }
  return response;
}

/** The page from the network, or else from the current snapshot, which this load is then pinned to. */
async function navigate({ request, resultingClientId }) {
  try {
    return await fetch(request);
  } catch (offline) {
    const url = new URL(request.url);
    url.search = '';
    url.hash = '';
    const snapshot = await current();
    const page = snapshot && [SCOPE, at('index.html')].includes(url.href)
      && await caches.match(SCOPE, { cacheName: snapshot.name });
    if (!page) throw offline;
    await pin(resultingClientId, snapshot.name);
    return page;
  }
}

// Pins: the snapshot a client (a page load, its worker) runs from; '' for the network. Kept in
// META too, as this worker may be stopped and started again while the page runs.
const pins = new Map();

async function pinOf(id) {
  if (!id) return '';
  if (!pins.has(id)) pins.set(id, (await (await caches.match(PIN + id, { cacheName: META }))?.json())?.name ?? '');
  return pins.get(id);
}

async function pin(id, name, by = '') {
  pins.set(id, name);
  await (await caches.open(META)).put(PIN + id, new Response(JSON.stringify({ name, by })));
}

async function current() {
  return (await caches.match(CURRENT, { cacheName: META }))?.json() ?? null;
}

// --- the snapshot ----------------------------------------------------------------------------
const wanted = new Set();   // URLs to keep besides ROOTS: sent by the page, or fetched lazily
let queued = null;          // a refresh not started yet: later calls join it
let refreshing = Promise.resolve();

/** A refresh after `ms` (lazy files come in bursts), after the one under way. */
function refreshSoon(ms) {
  if (!queued) {
    queued = refreshing.then(() => new Promise((done) => setTimeout(done, ms))).then(() => {
      queued = null;
      return refresh();
    });
    refreshing = queued.catch((e) => console.warn(`sw.js: the offline copy stays as it was (${e.message})`));
  }
  return refreshing;
}

/** Fetches the whole set in one go; a new set becomes the current snapshot. */
async function refresh() {
  const before = await current();
  const files = new Map();   // URL → {body, headers}
  const tried = new Set();
  let next = [...ROOTS, ...(before?.urls ?? []), ...wanted];
  while (next.length) {
    next = next.filter((url) => url.startsWith(SCOPE) && !tried.has(url));
    for (const url of next) tried.add(url);
    const named = await Promise.all(next.map(async (url) => {
      const response = await fetch(url, { cache: 'no-cache' });
      if (!response.ok) {
        if (ROOTS.includes(url)) throw new Error(`${url}: HTTP ${response.status}`);
        wanted.delete(url);   // gone from the host: not kept
        return [];
      }
      const body = await response.arrayBuffer();
      files.set(url, { body, headers: response.headers });
      return namedBy(url, body, response.headers.get('content-type') ?? '');
    }));
    next = named.flat();
  }
  const urls = [...files.keys()].sort();
  const digests = await Promise.all(urls.map(async (url) => `${url} ${hex(await crypto.subtle.digest('SHA-256', files.get(url).body))}`));
  const name = SNAPSHOT + hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(digests.join('\n'))));
  if (name !== before?.name || !(await caches.has(name))) {
    const cache = await caches.open(name);
    await Promise.all(urls.map((url) => cache.put(url, new Response(files.get(url).body, { headers: files.get(url).headers }))));
    await (await caches.open(META)).put(CURRENT, new Response(JSON.stringify({ name, urls })));
  }
  await prune(name);
}

/** Drops the pins of clients gone, and every snapshot but `keep` and those still pinned. A
 * worker's pin stays while its page is there: it is pinned before it is listed as a client. */
async function prune(keep) {
  const live = new Set((await self.clients.matchAll({ includeUncontrolled: true, type: 'all' })).map((c) => c.id));
  const used = new Set([keep]);
  const meta = await caches.open(META);
  for (const key of await meta.keys()) {
    if (!key.url.startsWith(PIN)) continue;
    const id = key.url.slice(PIN.length);
    const { name, by } = await (await meta.match(key)).json();
    if (live.has(id) || live.has(by)) used.add(name);
    else {
      await meta.delete(key);
      pins.delete(id);
    }
  }
  for (const [id, name] of pins) if (!name && !live.has(id)) pins.delete(id);
  for (const name of await caches.keys()) {
    if (name.startsWith(SNAPSHOT) && !used.has(name)) await caches.delete(name);
  }
}

/** The URLs a file names: an HTML file's scripts, styles and images, a module's static imports. */
function namedBy(url, body, type) {
  const html = type.includes('html');
  if (!html && !type.includes('javascript')) return [];
  const text = new TextDecoder().decode(body);
  const pattern = html ? /<(?:script|link|img)\b[^>]*?\s(?:src|href)="([^"#?]+)"/g
    : /(?:^|[;}\n])\s*(?:import|export)\b[^'";]*?\bfrom\s*['"](\.\.?\/[^'"]+)['"]|(?:^|[;}\n])\s*import\s*['"](\.\.?\/[^'"]+)['"]/g;
  return [...text.matchAll(pattern)].map((m) => new URL(m[1] ?? m[2], url).href);
}

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
