//! deep-inside: "Deep Inside Convolutional Networks" (Simonyan, Vedaldi, Zisserman 2013),
//! Layer-wise Relevance Propagation and the explanation methods and checks that came after, for
//! any small sequential CNN declared as burn modules, on any burn device.
//!
//! The core (model, data, methods) is plain Rust over `burn::tensor::Device`, so it runs and is
//! tested natively; `web` is the thin wasm-bindgen boundary of the page, `reader` that of the
//! separate module that reads a user's model file.

pub mod attribution;
pub mod backend;
pub mod class_model;
pub mod colormap;
pub mod data;
pub mod error;
pub mod evaluation;
pub mod faithfulness;
pub mod input;
pub mod localise;
pub mod lrp;
pub mod metrics;
pub mod model;
pub mod rng;
pub mod saliency;
pub mod sanity;
pub mod walk;

/// The page's wasm API (pkg/cpu, pkg/webgpu).
#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub mod web;

/// The model reader's wasm API (pkg/reader), loaded by the page only when a file is dropped.
#[cfg(all(target_arch = "wasm32", feature = "reader"))]
pub mod reader;

pub use error::Error;
