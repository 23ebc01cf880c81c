//! A user's own model, from the file they drop on the page: ONNX (any framework's export) or
//! the safetensors file that `scripts/export_pytorch.py` writes for a `torch.nn.Sequential`.
//! Both become the same thing as a shipped model: a [`NetworkConfig`] of burn layer configs
//! and a [`Network`] holding its weights. Files are hostile until parsed: the size is checked
//! first, the architecture (with its parameter, input and class limits) is checked before any
//! weight is read, and every weight must be finite.
//!
//! The readers are behind the feature `import`: the page's packages leave them out and load
//! the reader package (`crate::reader`) when a file is dropped. The formats and the size limit
//! are here for both.

#[cfg(feature = "import")]
mod onnx;
#[cfg(feature = "import")]
pub mod protobuf;
#[cfg(feature = "import")]
mod safetensors;

#[cfg(feature = "import")]
use burn::module::{Param, RunningState};
#[cfg(feature = "import")]
use burn::tensor::{Tensor, TensorData};

#[cfg(feature = "import")]
use super::{Layer, LayerInfo, Network, NetworkConfig};
use crate::Error;

/// The largest file a user may load.
pub const MAX_FILE: usize = 100_000_000;

/// The file formats `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Onnx,
    Safetensors,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Onnx, Format::Safetensors];

    pub fn name(self) -> &'static str {
        match self {
            Format::Onnx => "onnx",
            Format::Safetensors => "safetensors",
        }
    }

    pub fn parse(name: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                Error::argument(
                    "format",
                    format!("unknown format {name:?} (expected \"onnx\" or \"safetensors\")"),
                )
            })
    }

    /// The format `bytes` look like. A safetensors file starts with its header's length and
    /// `{`; a PyTorch pickle (`.pt`, `.pth`) is a zip or starts with the pickle protocol byte;
    /// anything else is tried as ONNX (protobuf has no magic number).
    pub fn detect(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() >= 9 && bytes[8] == b'{' {
            return Ok(Format::Safetensors);
        }
        if bytes.starts_with(b"PK\x03\x04") || bytes.first() == Some(&0x80) {
            return Err(Error::file(
                "model",
                "this is a PyTorch pickle (.pt/.pth), which holds weights without the \
                 architecture and can run code; export it with scripts/export_pytorch.py to \
                 .safetensors, or to ONNX",
            ));
        }
        Ok(Format::Onnx)
    }
}

/// A model read from a user's file, on the CPU.
#[cfg(feature = "import")]
#[derive(Clone, Debug)]
pub struct Imported {
    pub config: NetworkConfig,
    pub network: Network,
    pub format: Format,
    /// What was changed on the way in, for the page to say (a dropped softmax, say).
    pub notes: Vec<String>,
}

#[cfg(feature = "import")]
impl Imported {
    /// The layer table (the config was checked on the way in).
    pub fn table(&self) -> Result<Vec<LayerInfo>, Error> {
        self.config.check()
    }
}

/// Refuses a file of `len` bytes over [`MAX_FILE`] (callers holding the bytes elsewhere check
/// before copying them in).
pub fn check_size(len: usize) -> Result<(), Error> {
    if len > MAX_FILE {
        return Err(Error::file(
            "model",
            format!(
                "the file is {:.1} MB; at most {} MB is allowed",
                len as f64 / 1e6,
                MAX_FILE / 1_000_000
            ),
        ));
    }
    Ok(())
}

/// Reads a model file; `format` is detected when `None`.
#[cfg(feature = "import")]
pub fn import(bytes: &[u8], format: Option<Format>) -> Result<Imported, Error> {
    check_size(bytes.len())?;
    if bytes.is_empty() {
        return Err(Error::file("model", "the file is empty"));
    }
    let format = match format {
        Some(f) => f,
        None => Format::detect(bytes)?,
    };
    let imported = match format {
        Format::Onnx => onnx::read(bytes)?,
        Format::Safetensors => safetensors::read(bytes)?,
    };
    super::store::check_finite(&imported.network)?;
    Ok(imported)
}

/// One weighted layer's values as read from a file, in burn's layouts: conv weight
/// `[out, in, kh, kw]`, linear weight `[in, out]`.
#[cfg(feature = "import")]
pub(crate) enum Weights {
    Conv {
        weight: Vec<f32>,
        bias: Option<Vec<f32>>,
    },
    Linear {
        weight: Vec<f32>,
        bias: Option<Vec<f32>>,
    },
    BatchNorm {
        gamma: Vec<f32>,
        beta: Vec<f32>,
        mean: Vec<f32>,
        var: Vec<f32>,
    },
}

/// Sets the weights of layer `index` of `network` (built from its checked config), refusing
/// values whose count disagrees with the layer's shape. `what` names the source for errors.
#[cfg(feature = "import")]
pub(crate) fn set_weights(
    network: &mut Network,
    index: usize,
    weights: Weights,
    what: &str,
) -> Result<(), Error> {
    let device = network.device();
    let fit = |name: &str, values: Vec<f32>, dims: &[usize]| -> Result<TensorData, Error> {
        let expected: usize = dims.iter().product();
        if values.len() != expected {
            return Err(Error::file(
                "model",
                format!(
                    "{what}: {name} has {} values, the layer needs {expected} ({dims:?})",
                    values.len()
                ),
            ));
        }
        Ok(TensorData::new(values, dims.to_vec()))
    };
    let vector = |name: &str, values: Vec<f32>, n: usize| -> Result<Tensor<1>, Error> {
        Ok(Tensor::from_data(fit(name, values, &[n])?, &device))
    };
    match (&mut network.layers[index], weights) {
        (Layer::Conv(conv), Weights::Conv { weight, bias }) => {
            let dims = conv.weight.dims();
            conv.weight = Param::from_data(fit("weight", weight, &dims)?, &device);
            conv.bias = match (bias, conv.bias.is_some()) {
                (Some(b), true) => Some(Param::from_tensor(vector("bias", b, dims[0])?)),
                _ => None,
            };
        }
        (Layer::Linear(linear), Weights::Linear { weight, bias }) => {
            let dims = linear.weight.dims();
            linear.weight = Param::from_data(fit("weight", weight, &dims)?, &device);
            linear.bias = match (bias, linear.bias.is_some()) {
                (Some(b), true) => Some(Param::from_tensor(vector("bias", b, dims[1])?)),
                _ => None,
            };
        }
        (
            Layer::BatchNorm(bn),
            Weights::BatchNorm {
                gamma,
                beta,
                mean,
                var,
            },
        ) => {
            let [n] = bn.gamma.dims();
            if let Some(v) = var.iter().find(|v| v.is_nan() || **v < 0.0) {
                return Err(Error::file(
                    "model",
                    format!("{what}: a running variance is {v}; variances are ≥ 0"),
                ));
            }
            bn.gamma = Param::from_tensor(vector("scale", gamma, n)?);
            bn.beta = Param::from_tensor(vector("bias", beta, n)?);
            bn.running_mean = RunningState::new(vector("mean", mean, n)?);
            bn.running_var = RunningState::new(vector("variance", var, n)?);
        }
        (layer, _) => {
            return Err(Error::file(
                "model",
                format!("{what}: weights do not fit a {} layer", layer.kind().name()),
            ));
        }
    }
    Ok(())
}
