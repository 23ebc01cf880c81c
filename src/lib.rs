//! deep-inside: "Deep Inside Convolutional Networks" (Simonyan, Vedaldi, Zisserman 2013),
//! Layer-wise Relevance Propagation and the explanation methods and checks that came after, for
//! any small sequential CNN declared as burn modules, on any burn device.
//!
//! The core (model, data, methods) is plain Rust over `burn::tensor::Device`, so it runs and is
//! tested natively; `web` is the thin wasm-bindgen boundary.

pub mod attribution;
pub mod backend;
pub mod class_model;
pub mod colormap;
pub mod data;
pub mod error;
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

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::Error;
