// Debian's Chromium, headless, through playwright-core: the one launch every test and benchmark
// uses (flags for running as root without background traffic; a fresh profile each time).
import { chromium } from 'playwright-core';

const ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

// A hardware adapter: Chromium's WebGPU (Dawn) on Vulkan, the GPU blocklist ignored (headless
// machines' GPUs are often on it).
const GPU_ARGS = ['--enable-features=Vulkan', '--use-vulkan=native', '--use-angle=vulkan', '--ignore-gpu-blocklist'];

/**
 * Launches Chromium, with WebGPU (SwiftShader where there is no GPU) unless `webgpu` is false;
 * `gpu` asks for the machine's GPU through Vulkan (scripts/bench-gpu.sh).
 */
export function launchChromium({ webgpu = true, gpu = false } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...ARGS, ...(webgpu || gpu ? ['--enable-unsafe-webgpu'] : []), ...(gpu ? GPU_ARGS : [])],
  });
}
