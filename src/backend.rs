//! The burn devices the crate runs on. burn 0.22 puts the backend in the `Device`, so every
//! method takes a `&Device` and the same code serves the CPU and WebGPU.

use burn::tensor::Device;

#[cfg(not(any(feature = "flex", feature = "ndarray")))]
compile_error!("enable at least one CPU backend: feature `flex` (default) or `ndarray`");

/// The CPU backend used as the fallback: flex where compiled in, else ndarray.
pub fn cpu() -> Device {
    cpu_devices().remove(0).1
}

/// Every CPU backend compiled in, by name; flex first.
#[allow(deprecated)] // ndarray is deprecated in burn 0.22 but kept as a tested alternative
#[allow(clippy::vec_init_then_push)] // each push is behind its own feature
pub fn cpu_devices() -> Vec<(&'static str, Device)> {
    let mut out = Vec::new();
    #[cfg(feature = "flex")]
    out.push(("flex", Device::flex()));
    #[cfg(feature = "ndarray")]
    out.push(("ndarray", Device::ndarray()));
    out
}

/// Brings up burn's wgpu runtime on the browser's WebGPU. Call once; keep the device.
#[cfg(feature = "webgpu")]
pub async fn webgpu() -> Result<Device, crate::Error> {
    Device::wgpu_options()
        .graphics_api(burn::tensor::wgpu::WgpuBackend::WebGpu)
        .init_async()
        .await
        .map_err(|e| crate::Error::backend(format!("WebGPU device: {e}")))
}
