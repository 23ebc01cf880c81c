//! The safetensors file that `scripts/export_pytorch.py` writes for a `torch.nn.Sequential`:
//! the weights under PyTorch's names (`3.weight`: layer 3's weight), and in the header's
//! metadata the layer list, the input shape, the normalisation and the class names. The
//! architecture becomes burn configs; the weights are read with burn's store, whose PyTorch
//! adapter transposes linear weights and renames batch norm's `weight`/`bias`.

use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, DropoutConfig, LinearConfig, PaddingConfig2d};
use burn_store::{ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use serde::Deserialize;

use super::{Format, Imported};
use crate::Error;
use crate::model::config::{LayerConfig, MAX_LAYERS, NetworkConfig, NormalizeConfig};
use crate::model::{Layer, Normalize};

/// The `format` entry of the metadata.
pub const FORMAT: &str = "deep-inside/sequential-v1";

fn refuse(why: impl std::fmt::Display) -> Error {
    Error::file("model", why)
}

/// One layer as the export script describes it: PyTorch's class name and arguments.
#[derive(Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum Torch {
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        groups: usize,
        bias: bool,
    },
    Linear {
        in_features: usize,
        out_features: usize,
        bias: bool,
    },
    ReLU {},
    MaxPool2d {
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
    },
    AvgPool2d {
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        ceil_mode: bool,
        count_include_pad: bool,
    },
    AdaptiveAvgPool2d {
        output_size: [usize; 2],
    },
    BatchNorm2d {
        num_features: usize,
        eps: f64,
        momentum: f64,
    },
    BatchNorm1d {
        num_features: usize,
        eps: f64,
        momentum: f64,
    },
    Flatten {},
    Dropout {
        p: f64,
    },
    Softmax {},
    LogSoftmax {},
}

#[derive(Deserialize)]
struct Normalization {
    mean: Vec<f32>,
    std: Vec<f32>,
}

fn padding([h, w]: [usize; 2]) -> PaddingConfig2d {
    PaddingConfig2d::Explicit(h, w, h, w)
}

impl Torch {
    /// The burn layer, or `None` for a final softmax (dropped).
    fn layer(self) -> Result<Option<LayerConfig>, String> {
        Ok(Some(match self {
            Torch::Conv2d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding: p,
                dilation,
                groups,
                bias,
            } => LayerConfig::Conv(
                Conv2dConfig::new([in_channels, out_channels], kernel_size)
                    .with_stride(stride)
                    .with_padding(padding(p))
                    .with_dilation(dilation)
                    .with_groups(groups)
                    .with_bias(bias),
            ),
            Torch::Linear {
                in_features,
                out_features,
                bias,
            } => LayerConfig::Linear(LinearConfig::new(in_features, out_features).with_bias(bias)),
            Torch::ReLU {} => LayerConfig::Relu,
            Torch::MaxPool2d {
                kernel_size,
                stride,
                padding: p,
                dilation,
                ceil_mode,
            } => {
                if ceil_mode {
                    return Err("ceil_mode is not supported".into());
                }
                LayerConfig::MaxPool(
                    MaxPool2dConfig::new(kernel_size)
                        .with_strides(stride)
                        .with_padding(padding(p))
                        .with_dilation(dilation),
                )
            }
            Torch::AvgPool2d {
                kernel_size,
                stride,
                padding: p,
                ceil_mode,
                count_include_pad,
            } => {
                if ceil_mode {
                    return Err("ceil_mode is not supported".into());
                }
                LayerConfig::AvgPool(
                    AvgPool2dConfig::new(kernel_size)
                        .with_strides(stride)
                        .with_padding(padding(p))
                        .with_count_include_pad(count_include_pad),
                )
            }
            Torch::AdaptiveAvgPool2d { output_size } => {
                if output_size != [1, 1] {
                    return Err(format!(
                        "output size {output_size:?}; only [1, 1] (global average pooling) is supported"
                    ));
                }
                LayerConfig::GlobalAvgPool
            }
            Torch::BatchNorm2d {
                num_features,
                eps,
                momentum,
            }
            | Torch::BatchNorm1d {
                num_features,
                eps,
                momentum,
            } => LayerConfig::BatchNorm(
                BatchNormConfig::new(num_features)
                    .with_epsilon(eps)
                    .with_momentum(momentum),
            ),
            Torch::Flatten {} => LayerConfig::Flatten,
            Torch::Dropout { p } => LayerConfig::Dropout(DropoutConfig::new(p)),
            Torch::Softmax {} | Torch::LogSoftmax {} => return Ok(None),
        }))
    }
}

pub(super) fn read(bytes: &[u8]) -> Result<Imported, Error> {
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| refuse(format!("not a valid safetensors file: {e}")))?;
    let meta = header.metadata().as_ref().ok_or_else(|| {
        refuse(
            "the file has no architecture in its metadata; write it with scripts/export_pytorch.py",
        )
    })?;
    let entry = |key: &str| meta.get(key).map(String::as_str);
    match entry("format") {
        Some(FORMAT) => {}
        other => {
            return Err(refuse(format!(
                "the metadata's format is {other:?}, not {FORMAT:?}; write the file with scripts/export_pytorch.py"
            )));
        }
    }
    let json = |key: &str| -> Result<serde_json::Value, Error> {
        let text = entry(key).ok_or_else(|| refuse(format!("the metadata has no {key}")))?;
        serde_json::from_str(text)
            .map_err(|e| refuse(format!("the metadata's {key} is not JSON: {e}")))
    };
    let input: [usize; 3] = serde_json::from_value(json("input_shape")?)
        .map_err(|e| refuse(format!("the metadata's input_shape is not [c, h, w]: {e}")))?;
    NetworkConfig::check_input(input)?;
    let serde_json::Value::Array(list) = json("layers")? else {
        return Err(refuse("the metadata's layers is not a list"));
    };
    if list.len() > MAX_LAYERS + 1 {
        return Err(refuse(format!(
            "the model has {} layers; at most {MAX_LAYERS}",
            list.len()
        )));
    }
    let mut layers = Vec::with_capacity(list.len());
    let mut notes = Vec::new();
    let count = list.len();
    for (i, value) in list.into_iter().enumerate() {
        let torch: Torch = serde_json::from_value(value)
            .map_err(|e| refuse(format!("layer {i} of the metadata: {e}")))?;
        match torch
            .layer()
            .map_err(|why| refuse(format!("layer {i}: {why}")))?
        {
            Some(layer) => layers.push(layer),
            None if i + 1 == count => notes
                .push("The final softmax was dropped: explanations start from the logits.".into()),
            None => {
                return Err(refuse(format!(
                    "layer {i}: a softmax is only dropped at the end"
                )));
            }
        }
    }
    let class_names: Vec<String> = match entry("class_names") {
        None => Vec::new(),
        Some(_) => serde_json::from_value(json("class_names")?).map_err(|e| {
            refuse(format!(
                "the metadata's class_names is not a list of strings: {e}"
            ))
        })?,
    };
    let normalize = match entry("normalization") {
        None => None,
        Some(_) => {
            let n: Normalization = serde_json::from_value(json("normalization")?)
                .map_err(|e| refuse(format!("the metadata's normalization: {e}")))?;
            Some(NormalizeConfig::new(n.mean, n.std))
        }
    };

    // The layers as the file names them (index i holds tensors "i.*"), checked with the
    // normalisation in front, then loaded without it.
    let mut all = Vec::with_capacity(layers.len() + 1);
    all.extend(normalize.clone().map(LayerConfig::Normalize));
    all.extend(layers.iter().cloned());
    let config = NetworkConfig::new(input, all).with_class_names(class_names);
    config.check()?;
    let bare = NetworkConfig::new(input, layers);
    let mut network = bare.init(&crate::backend::cpu())?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes.to_vec()))
        .with_from_adapter(PyTorchToBurnAdapter)
        .skip_enum_variants(true);
    let applied = network
        .layers
        .load_from(&mut store)
        .map_err(|e| refuse(format!("weights: {e}")))?;
    crate::model::store::check_applied(&applied)?;
    if let Some(n) = normalize {
        network.layers.insert(
            0,
            Layer::Normalize(Normalize {
                mean: n.mean,
                std: n.std,
            }),
        );
    }
    Ok(Imported {
        config,
        network,
        format: Format::Safetensors,
        notes,
    })
}
