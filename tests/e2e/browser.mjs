// Shared set-up for the end-to-end tests: the static server (with the strict CSP), Debian's
// Chromium through playwright-core, and a record of console errors and requests.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const SHOTS = path.resolve('.e2e');
mkdirSync(SHOTS, { recursive: true });

const BASE_ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Opens `page` (a path on the server) in a fresh Chromium, with or without WebGPU. */
export async function open(pagePath, { webgpu, route }) {
  const { server, url } = await startServer({ port: 0, csp: true });
  const origin = new URL(url).origin;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...BASE_ARGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : [])],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const record = { errors: [], foreign: [], requests: 0 };
  page.on('console', (m) => { if (m.type() === 'error') record.errors.push(m.text()); });
  page.on('pageerror', (e) => record.errors.push(`page error: ${e.message}`));
  const onRequest = (r) => {
    record.requests++;
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) record.foreign.push(r.url());
  };
  browser.contexts()[0].on('request', onRequest);
  page.on('request', onRequest);
  if (route) await page.route(...route);
  await page.goto(new URL(pagePath, url).href);
  const close = async () => {
    await browser.close();
    server.close();
  };
  return { page, record, close };
}

/** Draws a stroke through `points` (fractions of the element's box) with mouse events. */
export async function stroke(page, selector, points) {
  const box = await page.locator(selector).boundingBox();
  const at = ([fx, fy]) => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}

/** An 8: two loops meeting at the middle, drawn as one stroke. */
export function eight() {
  const pts = [];
  for (let i = 0; i <= 40; i++) {
    const t = (i / 40) * 2 * Math.PI;
    pts.push([0.5 + 0.16 * Math.sin(t), 0.32 + 0.15 * Math.cos(t)]);
  }
  for (let i = 0; i <= 40; i++) {
    const t = (i / 40) * 2 * Math.PI;
    pts.push([0.5 - 0.2 * Math.sin(t), 0.65 - 0.18 * Math.cos(t)]);
  }
  return pts;
}
