// Measurement only (docs/experiments/threads/README.md): the "coi-serviceworker" pattern. Re-serves every
// response with COOP same-origin, COEP require-corp (and CORP cross-origin), so that a page the
// server sends without them becomes cross-origin isolated once this worker controls it.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const r = event.request;
  if (r.cache === 'only-if-cached' && r.mode !== 'same-origin') return;
  event.respondWith((async () => {
    const response = await fetch(r);
    if (response.status === 0) return response;   // opaque: cannot be rewritten
    const headers = new Headers(response.headers);
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  })());
});
