// Registers coi-sw.js and reloads once if the page is not yet isolated; then reports.
// window.coi resolves to {isolated, reloaded, ...}; with ?bench=1 it also runs
// initThreadPool(2) and a SmoothGrad in a worker, to show threads work on the isolated page.
const params = new URLSearchParams(location.search);
window.coi = (async () => {
  const nav = performance.getEntriesByType('navigation')[0];
  const info = { isolated: self.crossOriginIsolated, reloaded: sessionStorage.getItem('coi-reloaded') === '1',
    controlled: !!navigator.serviceWorker?.controller, timeOrigin: performance.timeOrigin,
    domContentLoaded: nav?.domContentLoadedEventEnd };
  if (!self.crossOriginIsolated) {
    if (info.reloaded) return { ...info, error: 'still not isolated after the reload' };
    const t0 = performance.now();
    const reg = await navigator.serviceWorker.register(new URL('./coi-sw.js', import.meta.url));
    await navigator.serviceWorker.ready;
    sessionStorage.setItem('coi-reloaded', '1');
    sessionStorage.setItem('coi-register-ms', String(performance.now() - t0));
    location.reload();
    return new Promise(() => {});   // never: the page is going away
  }
  info.registerMs = Number(sessionStorage.getItem('coi-register-ms') ?? NaN);
  if (params.get('bench') === '1') {
    info.bench = await new Promise((resolve) => {
      const w = new Worker(new URL('./coi-worker.js', import.meta.url), { type: 'module' });
      w.onmessage = ({ data }) => resolve(data);
      w.onerror = (e) => resolve({ error: e.message });
    });
  }
  document.getElementById('status').textContent = 'done';
  return info;
})();
