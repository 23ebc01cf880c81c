// The whole-set evaluation's wall time in the page (issue 17's goal: the cheap metrics of the 8
// methods over the 1,000 held-out images in at most 60 s on the CPU):
//   node scripts/bench-evaluation.mjs [--images N] [--costly-images M] [--breakdown K]
// (after pkg/cpu is built). Headless Chromium without WebGPU, the CPU backend, MNIST.
// - cheap: the page's "Evaluate on the held-out images" over the first N images (default all
//   1,000) with the cheap metrics: the time inside its chunks, as the page reports it, and from
//   the click to the drawn results (the summary included).
// - all metrics: the same with the costly ones, over the first M images (default 20), and that
//   time per image times N: every metric over 1,000 images takes about an hour on a loaded 2-core
//   machine, too long to run each time. --costly-images N runs them all.
// - breakdown (K images, default 0: none): `DeepInside.evaluate` called in the page with one
//   metric at a time; the call with sparseness alone (no forward pass of its own) is the cost of
//   the 8 maps, and each metric's row is its call's time less that.
// The machine is shared: the report gives its load average, which these timings depend on.
import { loadavg } from 'node:os';
import { launchChromium } from './chromium.mjs';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const images = option('--images', 1000);
const costlyImages = option('--costly-images', 20);
const breakdown = option('--breakdown', 0);

const seconds = (ms) => (ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60000).toFixed(1)} min`);

const { server, url } = await startServer({ port: 0, csp: true });
const browser = await launchChromium({ webgpu: false });
const loads = [loadavg()[0]];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(new URL('/?backend=cpu', url).href);
  // The opening digit's panels first, so that the run has the worker to itself.
  await page.waitForFunction(() => Number(document.body.dataset.sanity ?? 0) > 0 && !document.querySelector('.panel.pending')
    && !document.getElementById('eval-run').disabled, null, { timeout: 300000 });

  /** A whole-set run of the first `n` images, with or without the costly metrics, started as a
   * click would (without scrolling to the panel: its live table would compete for the worker). */
  async function run(n, costly) {
    await page.evaluate(([n, costly]) => {
      const box = document.getElementById('eval-costly');
      if (box.checked !== costly) {
        box.checked = costly;
        box.dispatchEvent(new Event('change'));
      }
      const count = document.getElementById('eval-count');
      count.value = String(n);
      count.dispatchEvent(new Event('input'));
    }, [n, costly]);
    await page.waitForFunction((n) => / held-out images?$/.test(document.getElementById('eval-run').textContent)
      && document.getElementById('eval-run').textContent.includes(n.toLocaleString('en')), n);
    const before = await page.evaluate(() => Number(document.body.dataset.evaluations ?? 0));
    const t0 = performance.now();
    await page.evaluate(() => document.getElementById('eval-run').click());
    await page.waitForFunction((b) => Number(document.body.dataset.evaluations ?? 0) > b, before, { timeout: 0 });
    const wall = performance.now() - t0;
    loads.push(loadavg()[0]);
    const li = await page.evaluate(() => ({ ...document.querySelector('#eval-times li:last-child').dataset }));
    return { images: Number(li.images), metrics: li.metrics.split(',').length, chunks: Number(li.ms), wall };
  }

  const cheap = await run(images, false);
  console.log(`cheap metrics (${cheap.metrics}), 8 methods, ${cheap.images} images: ${seconds(cheap.chunks)} in the chunks, `
    + `${seconds(cheap.wall)} from the click to the results (${(cheap.chunks / cheap.images).toFixed(0)} ms an image); `
    + `goal 60 s for 1,000 images: ${cheap.images === 1000 ? (cheap.chunks <= 60000 ? 'met' : `missed, ${(cheap.chunks / 60000).toFixed(1)}× over`) : 'not a full run'}`);
  const all = await run(costlyImages, true);
  const perImage = all.chunks / all.images;
  console.log(`every metric (${all.metrics}), 8 methods, ${all.images} images: ${seconds(all.chunks)} in the chunks `
    + `(${perImage.toFixed(0)} ms an image)${all.images < images ? `; × ${images} images: about ${seconds(perImage * images)}` : ''}`);

  if (breakdown > 0) {
    const rows = await page.evaluate(async (n) => {
      const w = await import('/pkg/cpu/deep_inside.js');
      await w.default();
      const { labels, pixels } = w.heldoutDigits('mnist');
      const di = await w.DeepInside.create('cpu', 'mnist');
      const x = Float32Array.from(pixels.subarray(0, n * 784), (v) => v / 255);
      const classes = Array.from(labels.subarray(0, n));
      const time = async (metrics) => {
        const t0 = performance.now();
        await di.evaluate(x, classes, { metrics });
        return performance.now() - t0;
      };
      await time(['sparseness']);   // warm-up
      const maps = await time(['sparseness']);
      const out = [['the 8 maps (sparseness alone)', maps, false]];
      for (const m of w.evaluationCatalogue().metrics) {
        if (m.name !== 'sparseness') out.push([m.quantus, (await time([m.name])) - maps, m.costly]);
      }
      di.free();
      return out;
    }, breakdown);
    loads.push(loadavg()[0]);
    console.log(`\nper metric, ${breakdown} images, ms an image (DeepInside.evaluate in the page):`);
    console.log('| metric | costly | ms an image |\n|---|---|---|');
    for (const [name, ms, costly] of rows) console.log(`| ${name} | ${costly ? 'yes' : ''} | ${(ms / breakdown).toFixed(0)} |`);
  }
  console.log(`\nload average (1 min) during the runs: ${loads.map((l) => l.toFixed(1)).join(', ')}`);
} finally {
  await browser.close();
  server.close();
}
