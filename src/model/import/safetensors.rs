//! The safetensors file that `scripts/export_pytorch.py` writes for a `torch.nn.Sequential`:
//! the weights under PyTorch's names (`3.weight`: layer 3's weight), and in the header's
//! metadata the layer list, the input shape, the normalisation and the class names. The
//! architecture becomes burn configs; the weights are read with burn's store, whose PyTorch
//! adapter transposes linear weights and renames batch norm's `weight`/`bias`.

use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, DropoutConfig, LinearConfig, PaddingConfig2d};
use burn_store::{ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use serde_json::Value;

use super::{Format, Imported};
use crate::Error;
use crate::model::config::{LayerConfig, MAX_LAYERS, NetworkConfig, NormalizeConfig};
use crate::model::{Layer, Normalize};

/// The `format` entry of the metadata.
pub const FORMAT: &str = "deep-inside/sequential-v1";

fn refuse(why: impl std::fmt::Display) -> Error {
    Error::file("model", why)
}

fn padding([h, w]: [usize; 2]) -> PaddingConfig2d {
    PaddingConfig2d::Explicit(h, w, h, w)
}

/// One layer as the export script describes it (PyTorch's class name under `type`, and its
/// arguments) as a burn layer config, or `None` for a final softmax (dropped). Read from the
/// JSON by hand: serde's derive for a tagged enum costs the page more than this.
fn torch_layer(v: &Value) -> Result<Option<LayerConfig>, String> {
    let o = v.as_object().ok_or("not an object")?;
    let get = |k: &str| o.get(k).ok_or_else(|| format!("it has no {k}"));
    let size = |v: &Value, k: &str| {
        v.as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| format!("{k} must be a whole number"))
    };
    let int = |k: &str| size(get(k)?, k);
    let pair = |k: &str| -> Result<[usize; 2], String> {
        match get(k)?.as_array().map(Vec::as_slice) {
            Some([a, b]) => Ok([size(a, k)?, size(b, k)?]),
            _ => Err(format!("{k} must be a pair [height, width]")),
        }
    };
    let flag = |k: &str| {
        get(k)?
            .as_bool()
            .ok_or_else(|| format!("{k} must be true or false"))
    };
    let float = |k: &str| {
        get(k)?
            .as_f64()
            .ok_or_else(|| format!("{k} must be a number"))
    };
    let floor = |k: &str| -> Result<(), String> {
        if flag(k)? {
            Err(format!("{k} is not supported"))
        } else {
            Ok(())
        }
    };
    let kind = get("type")?.as_str().ok_or("its type must be a string")?;
    Ok(Some(match kind {
        "Conv2d" => LayerConfig::Conv(
            Conv2dConfig::new(
                [int("in_channels")?, int("out_channels")?],
                pair("kernel_size")?,
            )
            .with_stride(pair("stride")?)
            .with_padding(padding(pair("padding")?))
            .with_dilation(pair("dilation")?)
            .with_groups(int("groups")?)
            .with_bias(flag("bias")?),
        ),
        "Linear" => LayerConfig::Linear(
            LinearConfig::new(int("in_features")?, int("out_features")?).with_bias(flag("bias")?),
        ),
        "ReLU" => LayerConfig::Relu,
        "MaxPool2d" => {
            floor("ceil_mode")?;
            LayerConfig::MaxPool(
                MaxPool2dConfig::new(pair("kernel_size")?)
                    .with_strides(pair("stride")?)
                    .with_padding(padding(pair("padding")?))
                    .with_dilation(pair("dilation")?),
            )
        }
        "AvgPool2d" => {
            floor("ceil_mode")?;
            LayerConfig::AvgPool(
                AvgPool2dConfig::new(pair("kernel_size")?)
                    .with_strides(pair("stride")?)
                    .with_padding(padding(pair("padding")?))
                    .with_count_include_pad(flag("count_include_pad")?),
            )
        }
        "AdaptiveAvgPool2d" => match pair("output_size")? {
            [1, 1] => LayerConfig::GlobalAvgPool,
            other => {
                return Err(format!(
                    "output size {other:?}; only [1, 1] (global average pooling) is supported"
                ));
            }
        },
        "BatchNorm2d" | "BatchNorm1d" => LayerConfig::BatchNorm(
            BatchNormConfig::new(int("num_features")?)
                .with_epsilon(float("eps")?)
                .with_momentum(float("momentum")?),
        ),
        "Flatten" => LayerConfig::Flatten,
        "Dropout" => LayerConfig::Dropout(DropoutConfig::new(float("p")?)),
        "Softmax" | "LogSoftmax" => return Ok(None),
        other => return Err(format!("{other} is not supported")),
    }))
}

/// A JSON list of numbers as f32.
fn floats(v: &Value, what: &str) -> Result<Vec<f32>, Error> {
    v.as_array()
        .and_then(|a| a.iter().map(|x| x.as_f64().map(|x| x as f32)).collect())
        .ok_or_else(|| refuse(format!("the metadata's {what} is not a list of numbers")))
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
    let input = match json("input_shape")?.as_array().map(Vec::as_slice) {
        Some([c, h, w]) => [c, h, w].map(|d| d.as_u64().map_or(0, |d| d.min(1 << 20) as usize)),
        _ => return Err(refuse("the metadata's input_shape is not [c, h, w]")),
    };
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
        match torch_layer(&value)
            .map_err(|why| refuse(format!("layer {i} of the metadata: {why}")))?
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
        Some(_) => json("class_names")?
            .as_array()
            .and_then(|a| a.iter().map(|n| n.as_str().map(String::from)).collect())
            .ok_or_else(|| refuse("the metadata's class_names is not a list of strings"))?,
    };
    let normalize = match entry("normalization") {
        None => None,
        Some(_) => {
            let n = json("normalization")?;
            let part = |k: &str| floats(&n[k], &format!("normalization.{k}"));
            Some(NormalizeConfig::new(part("mean")?, part("std")?))
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
