//! deep-inside: "Deep Inside Convolutional Networks" (Simonyan, Vedaldi, Zisserman 2013) and
//! Layer-wise Relevance Propagation for a small MNIST CNN, on any burn device.
//!
//! The core (model, data, methods) is plain Rust over `burn::tensor::Device`, so it runs and is
//! tested natively; `web` is the thin wasm-bindgen boundary.

pub mod attribution;
pub mod backend;
pub mod class_model;
pub mod colormap;
pub mod data;
pub mod faithfulness;
pub mod input;
pub mod localise;
pub mod lrp;
pub mod model;
pub mod rng;
pub mod saliency;
pub mod sanity;
pub mod walk;

#[cfg(target_arch = "wasm32")]
pub mod web;

use std::fmt;

/// Every failure the crate reports: a message meant for the person who made the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl Error {
    /// A bad argument to a public function, named in the message.
    pub fn argument(name: &str, why: impl fmt::Display) -> Self {
        Self(format!("invalid argument `{name}`: {why}"))
    }

    /// A corrupt or mismatched weights file.
    pub fn weights(why: impl fmt::Display) -> Self {
        Self(format!("weights: {why}"))
    }

    /// A backend that failed at run time (device lost, readback failed, ...).
    pub fn backend(why: impl fmt::Display) -> Self {
        Self(format!("backend: {why}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}
