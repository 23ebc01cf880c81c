// Firefox and WebKitGTK for the end-to-end suite and the benchmarks, through W3C WebDriver (selenium-webdriver, the
// W3C project's own client: one protocol that geckodriver, WebKitWebDriver and chromedriver all
// speak, where puppeteer-core has no WebKit and webdriverio brings a framework). The suite is
// written against playwright-core's `Page`; `WebDriverPage` gives it the part of that interface
// it uses, so that one suite runs in every engine. Selectors pierce shadow roots and take
// playwright's `>> nth=i`, as playwright's do.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Capabilities, Key, WebDriver } from 'selenium-webdriver';
import { Executor, HttpClient } from 'selenium-webdriver/http/index.js';

const WEBGPU_PREFS = { 'dom.webgpu.enabled': true, 'gfx.webgpu.ignore-blocklist': true };

/** The engines besides Chromium: driver command and capabilities. */
export const ENGINES = {
  firefox: {
    driver: (port) => ['geckodriver', ['--port', String(port)]],
    capabilities: ({ webgpu, viewport }) => ({
      browserName: 'firefox',
      'moz:firefoxOptions': {
        binary: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
        args: ['-headless', `--width=${viewport.width}`, `--height=${viewport.height}`],
        prefs: webgpu ? WEBGPU_PREFS : { 'dom.webgpu.enabled': false },
      },
    }),
    webgpu: true,
  },
  // WebKitGTK's MiniBrowser in automation mode; it needs a display (the test command runs the
  // suite under xvfb-run). It has no WebGPU.
  webkit: {
    driver: (port) => ['WebKitWebDriver', [`--port=${port}`]],
    capabilities: () => ({}),
    webgpu: false,
  },
};

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

function kill(server) {
  try { process.kill(-server.pid, 'SIGKILL'); } catch { /* gone */ }
  server.stderr.destroy();
}

/** Starts the engine's WebDriver server and a session; returns {page, close}. */
export async function launch(engine, { webgpu = true, viewport = { width: 1280, height: 1000 } } = {}) {
  const spec = ENGINES[engine];
  if (!spec) throw new Error(`unknown engine ${engine}`);
  const port = await freePort();
  const [cmd, args] = spec.driver(port);
  // In a process group of its own, so that closing kills the browser it started too, even when
  // the session could not be ended.
  const server = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  server.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  let driver;
  for (let i = 0; ; i++) {
    try {
      const caps = new Capabilities(spec.capabilities({ webgpu, viewport }));
      driver = await WebDriver.createSession(new Executor(new HttpClient(url)), caps);
      break;
    } catch (e) {
      if (i > 50 || server.exitCode !== null) {
        kill(server);
        throw new Error(`${engine}: no WebDriver session (${e.message}); driver said: ${stderr}`);
      }
      await sleep(200);
    }
  }
  await driver.manage().setTimeouts({ script: 600000, pageLoad: 120000 });
  if (engine === 'webkit') await driver.manage().window().setRect({ x: 0, y: 0, ...viewport });
  const page = new WebDriverPage(driver, engine);
  const close = async () => {
    try { await driver.quit(); } catch { /* already gone */ }
    kill(server);
  };
  return { page, close };
}

// In the page: the elements a chain of steps selects, through shadow roots. A step is
// {css, nth, text}; `nth` picks one of the matches, `text` keeps those containing it.
const QUERY = `
  const deepAll = (root, css) => {
    const out = new Set();
    const walk = (r) => {
      for (const el of r.querySelectorAll(css)) out.add(el);
      if (r.shadowRoot) walk(r.shadowRoot);
      for (const el of r.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(root);
    return [...out];
  };
  const query = (steps) => {
    let roots = [document];
    for (const { css, nth, text } of steps) {
      let found = [...new Set(roots.flatMap((r) => deepAll(r, css)))];
      if (text != null) found = found.filter((el) => el.textContent.includes(text));
      if (nth != null) found = found.slice(nth, nth + 1);
      roots = found;
    }
    return roots;
  };
`;

/** `a >> nth=1` → [{css: 'a', nth: 1}]. */
function parse(selector, options = {}) {
  const steps = [];
  for (const part of selector.split('>>').map((s) => s.trim())) {
    const nth = /^nth=(-?\d+)$/.exec(part);
    if (nth) steps[steps.length - 1].nth = Number(nth[1]);
    else steps.push({ css: part });
  }
  if (options.hasText != null) steps[steps.length - 1].text = options.hasText;
  return steps;
}

class Locator {
  constructor(page, steps) {
    this.page = page;
    this.steps = steps;
  }

  locator(selector, options) {
    return new Locator(this.page, [...this.steps, ...parse(selector, options)]);
  }

  /** The first element, waiting up to 30 s for it to exist. */
  async element(timeout = 30000) {
    const t0 = Date.now();
    for (;;) {
      const el = await this.page.driver.executeScript(`${QUERY} return query(arguments[0])[0] ?? null;`, this.steps);
      if (el) return el;
      if (Date.now() - t0 > timeout) throw new Error(`no element for ${JSON.stringify(this.steps)}`);
      await sleep(100);
    }
  }

  async run(fn, ...args) {
    const el = await this.element();
    return this.page.driver.executeScript(`return (${fn}).apply(null, arguments)`, el, ...args);
  }

  textContent() { return this.run((el) => el.textContent); }
  getAttribute(name) { return this.run((el, n) => el.getAttribute(n), name); }
  inputValue() { return this.run((el) => el.value); }
  focus() { return this.run((el) => el.focus()); }

  async isVisible() {
    const el = await this.page.driver.executeScript(`${QUERY} return query(arguments[0])[0] ?? null;`, this.steps);
    if (!el) return false;
    return this.page.driver.executeScript(`const el = arguments[0]; const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';`, el);
  }

  async boundingBox() {
    return this.run((el) => {
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
  }

  /** A real click; while something else covers the element (a repaint under way), tries again
   * for up to 10 s, as playwright's actionability checks do. */
  async click() {
    const t0 = Date.now();
    for (;;) {
      const el = await this.element();
      await this.page.driver.executeScript('arguments[0].scrollIntoView({block: "center", inline: "center"})', el);
      try {
        await el.click();
        return;
      } catch (e) {
        if (e.name !== 'ElementClickInterceptedError' || Date.now() - t0 > 10000) {
          const cover = await this.page.driver.executeScript(`const r = arguments[0].getBoundingClientRect();
            const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return at ? at.outerHTML.slice(0, 200) : null;`, el);
          throw new Error(`${this.page.engine}: click on ${JSON.stringify(this.steps)} failed (${e.name}; at its centre: ${cover})`);
        }
        await sleep(100);
      }
    }
  }

  async screenshot({ path: file }) {
    const el = await this.element();
    writeFileSync(file, Buffer.from(await el.takeScreenshot(), 'base64'));
  }
}

/** The part of playwright's `Page` the suite uses, over a WebDriver session. */
export class WebDriverPage {
  constructor(driver, engine) {
    this.driver = driver;
    this.engine = engine;
    this.pointer = [0, 0];
    const page = this;
    // Moves between down() and up() go to the browser as one action sequence at up(): a stroke
    // is one WebDriver command, not a round trip per point.
    let stroke = null;
    const moves = (actions, x, y, steps) => {
      const [x0, y0] = page.pointer;
      for (let i = 1; i <= steps; i++) {
        const f = i / steps;
        actions.move({ x: Math.round(x0 + f * (x - x0)), y: Math.round(y0 + f * (y - y0)), duration: 0 });
      }
      page.pointer = [x, y];
      return actions;
    };
    this.mouse = {
      async move(x, y, { steps = 1 } = {}) {
        if (stroke) {
          moves(stroke, x, y, steps);
          return;
        }
        try {
          await moves(page.driver.actions({ async: true }), x, y, steps).perform();
        } catch (e) {
          const view = await page.evaluate(() => [innerWidth, innerHeight, scrollX, scrollY]);
          throw new Error(`${page.engine}: pointer move to (${x}, ${y}) failed, viewport and scroll ${view}: ${e.name} ${e.message}`);
        }
      },
      async down() { stroke = page.driver.actions({ async: true }).press(); },
      async up() {
        const actions = (stroke ?? page.driver.actions({ async: true })).release();
        stroke = null;
        await actions.perform();
      },
    };
    this.keyboard = {
      async press(key) {
        await page.driver.actions({ async: true }).sendKeys(Key[key.toUpperCase()] ?? key).perform();
      },
    };
  }

  async goto(url) {
    await this.driver.get(url);
    // What playwright's console and request events give, from inside the page: errors, failed
    // promises and CSP violations (every request to another origin is one: the server sends a
    // strict CSP). Installed once the document has loaded, so earlier errors are not seen.
    await this.driver.executeScript(() => {
      window.__e2e = { errors: [], foreign: [] };
      const error = console.error.bind(console);
      console.error = (...a) => { window.__e2e.errors.push(a.map(String).join(' ')); error(...a); };
      addEventListener('error', (e) => window.__e2e.errors.push(`page error: ${e.message}`));
      addEventListener('unhandledrejection', (e) => window.__e2e.errors.push(`page error: ${e.reason?.message ?? e.reason}`));
      document.addEventListener('securitypolicyviolation', (e) => window.__e2e.foreign.push(e.blockedURI));
    });
  }

  /** What the page recorded since `goto`: {errors, foreign}. */
  recorded() {
    return this.driver.executeScript(() => window.__e2e ?? { errors: [], foreign: [] });
  }

  /** A promise here (playwright: a string): the suite awaits it. */
  url() { return this.driver.getCurrentUrl(); }

  evaluate(fn, arg) {
    const body = typeof fn === 'function' ? `return (${fn}).apply(null, arguments)` : `return (${fn})`;
    return arg === undefined ? this.driver.executeScript(body) : this.driver.executeScript(body, arg);
  }

  async waitForFunction(fn, arg, { timeout = 30000, polling = 100 } = {}) {
    const t0 = Date.now();
    for (;;) {
      const v = await this.evaluate(fn, arg ?? undefined);
      if (v) return v;
      if (Date.now() - t0 > timeout) throw new Error(`${this.engine}: waitForFunction timed out after ${timeout} ms: ${fn}`);
      await sleep(polling);
    }
  }

  waitForTimeout(ms) { return sleep(ms); }

  locator(selector, options) { return new Locator(this, parse(selector, options)); }
  textContent(selector) { return this.locator(selector).textContent(); }
  getAttribute(selector, name) { return this.locator(selector).getAttribute(name); }
  inputValue(selector) { return this.locator(selector).inputValue(); }
  isVisible(selector) { return this.locator(selector).isVisible(); }
  click(selector) { return this.locator(selector).click(); }

  /** Sets a select's value and fires input and change, as playwright's selectOption does. */
  selectOption(selector, value) {
    return this.locator(selector).run((el, v) => {
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return [el.value];
    }, value);
  }

  /** Hands a file ({name, mimeType, buffer}) to a file input, through a file on disk. */
  async setInputFiles(selector, file) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deep-inside-e2e-'));
    const at = path.join(dir, file.name);
    writeFileSync(at, file.buffer);
    const el = await this.locator(selector).element();
    await el.sendKeys(at);
  }

  async screenshot({ path: file }) {
    writeFileSync(file, Buffer.from(await this.driver.takeScreenshot(), 'base64'));
  }
}
