// A dependency-free static file server for the page (Node >= 18).
//
//   node scripts/serve.mjs [--port 8080] [--root .] [--csp]
//
// --port 0 picks a free port. --root defaults to the repository root.
// --csp sends the Content-Security-Policy the page must work under.
// Prints exactly one line on stdout once listening: "serving http://127.0.0.1:PORT/".
//
// Test scripts can import it instead:
//   import { startServer } from './serve.mjs';
//   const { server, url } = await startServer({ root, port: 0, csp: true });

import { createServer } from 'node:http';
import { createReadStream, realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
};

function mimeType(file) {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function isInside(root, p) {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

// The file a request path names, or null (outside root, missing, not a file).
async function resolveFile(rootReal, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  if (decoded.endsWith('/')) decoded += 'index.html';
  let file = path.resolve(rootReal, '.' + path.posix.normalize('/' + decoded));
  if (!isInside(rootReal, file)) return null;
  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
    if (!info.isFile()) return null;
    // Symbolic links must not lead out of root either.
    const real = await realpath(file);
    if (!isInside(rootReal, real)) return null;
    return { file: real, size: info.size, mtime: info.mtime };
  } catch {
    return null;
  }
}

// `isolate`: cross-origin isolation (COOP + COEP), which the benchmarks use for Chromium's
// 5 µs timer (0.1 ms without it) and which wasm threads need for SharedArrayBuffer.
export const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export function startServer({ root = REPO_ROOT, port = 8080, csp = false, isolate = false } = {}) {
  const rootReal = realpathSync(path.resolve(root));
  const baseHeaders = {
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...(csp ? { 'Content-Security-Policy': CSP } : {}),
    ...(isolate ? ISOLATION : {}),
  };

  const send = (res, status, text, extra = {}) => {
    res.writeHead(status, {
      ...baseHeaders,
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      ...extra,
    });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  };

  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
        return;
      }
      let pathname;
      try {
        pathname = new URL(req.url, 'http://localhost').pathname;
      } catch {
        send(res, 400, 'bad request\n');
        return;
      }
      const found = await resolveFile(rootReal, pathname);
      if (!found) {
        send(res, 404, 'not found\n');
        return;
      }
      // Validators, as static hosts send them: a revalidation (no-cache) of an unchanged file,
      // such as the service worker's refetch of its offline copy, is a 304 without a body.
      const etag = `W/"${found.size.toString(16)}-${found.mtime.getTime().toString(16)}"`;
      const validators = { ETag: etag, 'Last-Modified': found.mtime.toUTCString() };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ...baseHeaders, ...validators });
        res.end();
        return;
      }
      res.writeHead(200, {
        ...baseHeaders,
        ...validators,
        'Content-Type': mimeType(found.file),
        'Content-Length': found.size,
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const stream = createReadStream(found.file);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    } catch (err) {
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
      console.error(err);
    }
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const { port: actual } = server.address();
      resolve({ server, url: `http://127.0.0.1:${actual}/` });
    });
  });
}

function parseArgs(argv) {
  const opts = { root: REPO_ROOT, port: 8080, csp: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--port': {
        const v = next();
        const p = Number(v);
        if (!/^\d+$/.test(v) || p > 65535) throw new Error(`bad port: ${v}`);
        opts.port = p;
        break;
      }
      case '--root':
        opts.root = path.resolve(next());
        break;
      case '--csp':
        opts.csp = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write('usage: node scripts/serve.mjs [--port 8080] [--root DIR] [--csp]\n');
        process.exit(0);
      default:
        throw new Error(`unknown argument: ${arg}`);
    }
  }
  return opts;
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return import.meta.url === pathToFileURL(process.argv[1]).href;
  }
}

if (isMain()) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`serve.mjs: ${err.message}`);
    process.exit(2);
  }
  startServer(opts).then(
    ({ server, url }) => {
      console.log(`serving ${url}`);
      const stop = () => {
        server.close(() => process.exit(0));
        server.closeAllConnections?.();
        setTimeout(() => process.exit(0), 1000).unref();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err) => {
      console.error(`serve.mjs: ${err.message}`);
      process.exit(1);
    },
  );
}
