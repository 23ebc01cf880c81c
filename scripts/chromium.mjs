// Debian's Chromium, headless, through playwright-core: the one launch every test and benchmark
// uses (flags for running as root without background traffic; a fresh profile each time).
import { chromium } from 'playwright-core';

const ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Launches Chromium, with WebGPU (SwiftShader where there is no GPU) unless `webgpu` is false. */
export function launchChromium({ webgpu = true } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...ARGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : [])],
  });
}
