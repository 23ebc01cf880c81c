// The element as an npm package, `deep-inside-demo`: the element, its worker and stylesheet, the
// three wasm builds (pkg/cpu, pkg/webgpu, pkg/reader), the shipped models' files that the wasm
// does not embed, types, a README and the licence; then `npm pack`.
//
//   node scripts/pack.mjs [--out DIR]
//
// DIR defaults to $CARGO_TARGET_DIR/npm (scripts/env.sh's default target dir when unset), outside
// the work tree. The package is staged in DIR/package and packed to DIR/deep-inside-demo-VERSION.tgz.
// Needs the wasm packages built (scripts/build.sh); builds nothing itself. Prints the tarball's
// path and its packed and unpacked sizes.
//
// The files keep the repository's layout (www/, pkg/<build>/, assets/<model>/), since the element
// finds everything relative to its own module: served as-is, or rewritten by a bundler that
// follows `new URL(…, import.meta.url)`.
//
// The package's `repository`: this project has no public remote yet, so it is
// $DEEP_INSIDE_REPOSITORY when set, and otherwise a URL under the reserved `.invalid` domain
// (RFC 2606), which points nowhere and can never be registered by someone else. Set the variable
// before publishing.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NAME = 'deep-inside-demo';
const BUILDS = ['cpu', 'webgpu', 'reader'];
const UNKNOWN_REPOSITORY = 'git+https://deep-inside.invalid/deep-inside.git';

function parseArgs(argv) {
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache/deep-inside/target');
  const opts = { out: path.join(target, 'npm') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && i + 1 < argv.length) opts.out = path.resolve(argv[++i]);
    else if (argv[i].startsWith('--out=')) opts.out = path.resolve(argv[i].slice(6));
    else throw new Error(`unknown argument: ${argv[i]} (usage: node scripts/pack.mjs [--out DIR])`);
  }
  return opts;
}

/** The crate's version: the package's follows it. */
function crateVersion() {
  const toml = readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8');
  const section = toml.split(/^\[/m).find((s) => s.startsWith('package]'));
  const version = section?.match(/^version\s*=\s*"([^"]+)"/m)?.[1];
  if (!version) throw new Error('no [package] version in Cargo.toml');
  return version;
}

const copy = (from, to) => cpSync(path.join(ROOT, from), to, { recursive: true });

/** The shipped models whose files are fetched at run time (not embedded), asked of the wasm. */
async function modelsToShip(stage) {
  const glue = await import(pathToFileURL(path.join(stage, 'pkg/cpu/deep_inside.js')).href);
  glue.initSync({ module: readFileSync(path.join(stage, 'pkg/cpu/deep_inside_bg.wasm')) });
  return glue.models().filter((m) => !m.embedded);
}

function manifest(version) {
  return {
    name: NAME,
    version,
    description: 'Saliency maps, class models and LRP for small CNNs as one custom element, <deep-inside-demo>: Rust/wasm in a worker, on WebGPU or the CPU',
    license: 'MIT',
    repository: { type: 'git', url: process.env.DEEP_INSIDE_REPOSITORY || UNKNOWN_REPOSITORY },
    keywords: ['saliency', 'lrp', 'explainability', 'custom-element', 'webassembly', 'webgpu'],
    type: 'module',
    exports: {
      '.': { types: './www/deep-inside-demo.d.ts', default: './www/deep-inside-demo.js' },
      './package.json': './package.json',
    },
    types: './www/deep-inside-demo.d.ts',
    // Importing the element registers <deep-inside-demo>; the worker's module sets its onmessage.
    sideEffects: ['./www/deep-inside-demo.js', './www/worker.js'],
    files: ['www/', 'pkg/', 'assets/'],
  };
}

async function main() {
  const { out } = parseArgs(process.argv.slice(2));
  const version = crateVersion();
  const stage = path.join(out, 'package');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  // package.json first: Node then reads the copied glue as the ES module it is.
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest(version), null, 2)}\n`);

  for (const f of ['deep-inside-demo.js', 'deep-inside-demo.d.ts', 'deep-inside-demo.css', 'worker.js', 'support.js', 'curves.js']) {
    copy(`www/${f}`, path.join(stage, 'www', f));
  }
  for (const b of BUILDS) {
    for (const f of ['deep_inside.js', 'deep_inside.d.ts', 'deep_inside_bg.wasm']) {
      if (!existsSync(path.join(ROOT, 'pkg', b, f))) {
        throw new Error(`pkg/${b}/${f} is missing: build the wasm packages first (scripts/build.sh)`);
      }
      copy(`pkg/${b}/${f}`, path.join(stage, 'pkg', b, f));
    }
    // The JS the Rust code inlines (the reader has none).
    if (existsSync(path.join(ROOT, 'pkg', b, 'snippets'))) copy(`pkg/${b}/snippets`, path.join(stage, 'pkg', b, 'snippets'));
  }
  for (const m of await modelsToShip(stage)) {
    for (const file of Object.values(m.files)) copy(`assets/${m.name}/${file}`, path.join(stage, 'assets', m.name, file));
  }
  copy('docs/npm-package.md', path.join(stage, 'README.md'));
  copy('LICENSE', path.join(stage, 'LICENSE'));

  if (!process.env.DEEP_INSIDE_REPOSITORY) {
    console.error(`pack: repository is ${UNKNOWN_REPOSITORY}; set DEEP_INSIDE_REPOSITORY before publishing`);
  }
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
    cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  }));
  const tarball = path.join(out, packed.filename);
  const mb = (n) => `${(n / 1e6).toFixed(2)} MB (${n.toLocaleString('en')} B)`;
  console.log(`${tarball}\n${packed.name}@${packed.version}: ${mb(packed.size)} packed, ${mb(packed.unpackedSize)} unpacked, ${packed.entryCount} files`);
}

main().catch((e) => {
  console.error(`pack: ${e.message}`);
  process.exit(1);
});
