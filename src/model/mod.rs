//! The network, in one place: its architecture as burn configs (`config`), its layers as burn
//! modules (`layer`), the canonical form every explanation walks (batch norm merged, dropout
//! gone), a seeded initialisation, and its weights in burn's burnpack format (`store`).

pub mod architectures;
pub mod config;
pub mod import;
pub mod layer;
pub mod store;

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::pool::AdaptiveAvgPool2dConfig;
use burn::nn::{BatchNorm, Initializer, Linear, Relu};
use burn::tensor::{Device, Tensor, TensorData};

pub use config::{Kind, LayerConfig, LayerInfo, NetworkConfig, NormalizeConfig};
pub use layer::{Flatten, Layer, Normalize};

use crate::Error;
use crate::rng::SplitMix;

/// A sequential network: its layers and the shape of one input image.
#[derive(Module, Debug)]
pub struct Network {
    pub layers: Vec<Layer>,
    /// `[channels, height, width]`.
    pub input: [usize; 3],
}

impl NetworkConfig {
    /// Checks the architecture, then builds it with zero weights (to be loaded or initialised:
    /// nothing random is drawn here).
    pub fn init(&self, device: &Device) -> Result<Network, Error> {
        self.check()?;
        let layers = self
            .layers
            .iter()
            .map(|layer| match layer {
                LayerConfig::Normalize(n) => Layer::Normalize(layer::Normalize {
                    mean: n.mean.clone(),
                    std: n.std.clone(),
                }),
                LayerConfig::Conv(c) => {
                    Layer::Conv(c.clone().with_initializer(Initializer::Zeros).init(device))
                }
                LayerConfig::Linear(c) => {
                    Layer::Linear(c.clone().with_initializer(Initializer::Zeros).init(device))
                }
                LayerConfig::MaxPool(c) => Layer::MaxPool(c.init()),
                LayerConfig::AvgPool(c) => Layer::AvgPool(c.init()),
                LayerConfig::GlobalAvgPool => {
                    Layer::GlobalAvgPool(AdaptiveAvgPool2dConfig::new([1, 1]).init())
                }
                LayerConfig::BatchNorm(c) => Layer::BatchNorm(c.init(device)),
                LayerConfig::Relu => Layer::Relu(Relu::new()),
                LayerConfig::Flatten => Layer::Flatten(Flatten),
                LayerConfig::Dropout(c) => Layer::Dropout(c.init()),
            })
            .collect();
        Ok(Network {
            layers,
            input: self.input,
        })
    }
}

impl Network {
    /// Logits `S(x)`, `[n, classes]`, for images `[n, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let out = self.layers.iter().fold(x, |a, layer| layer.forward(a));
        let [n, c, _, _] = out.dims();
        out.reshape([n, c])
    }

    /// The forward pass, keeping the input of every layer (the walk needs them).
    /// `acts[i]` is the input of `layers[i]`; the last entry is the output `[n, classes, 1, 1]`.
    pub fn trace(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut acts = Vec::with_capacity(self.layers.len() + 1);
        acts.push(x);
        for layer in &self.layers {
            let next = layer.forward(acts[acts.len() - 1].clone());
            acts.push(next);
        }
        acts
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.devices().into_iter().next().unwrap_or_default()
    }

    /// Pixels in one input image.
    pub fn input_len(&self) -> usize {
        self.input.iter().product()
    }

    /// The indices of the conv and linear layers, from the input side.
    pub fn weighted(&self) -> Vec<usize> {
        (0..self.layers.len())
            .filter(|&i| self.layers[i].kind().is_weighted())
            .collect()
    }

    /// The network every explanation walks (Zennit's canonizers): each batch norm merged into
    /// the conv or linear layer before it, dropout (the identity at inference) removed. Gives
    /// the same scores at inference.
    pub fn canonical(&self) -> Result<Network, Error> {
        let mut layers: Vec<Layer> = Vec::with_capacity(self.layers.len());
        for (index, layer) in self.layers.iter().enumerate() {
            match layer {
                Layer::Dropout(_) => {}
                Layer::BatchNorm(bn) => {
                    let merged = match layers.pop() {
                        Some(Layer::Conv(conv)) => Layer::Conv(merge_conv(conv, bn)),
                        Some(Layer::Linear(linear)) => Layer::Linear(merge_linear(linear, bn)),
                        _ => {
                            return Err(Error::layer(
                                index,
                                "batch norm",
                                "batch norm must follow a conv or linear layer",
                            ));
                        }
                    };
                    layers.push(merged);
                }
                other => layers.push(other.clone()),
            }
        }
        Ok(Network {
            layers,
            input: self.input,
        })
    }

    /// The same network with weighted layer `index` drawn afresh: He-uniform weights
    /// (`U(−b, b)`, `b = √(6 / fan_in)`) and zero biases, from `rng`. The values are made on the
    /// host, so a seed gives the same network on every device.
    pub fn reinitialised(&self, index: usize, rng: &mut SplitMix) -> Result<Network, Error> {
        let device = self.device();
        let mut draw = |shape: &[usize], fan_in: usize| {
            let bound = (6.0 / fan_in.max(1) as f32).sqrt();
            let len: usize = shape.iter().product();
            let values: Vec<f32> = (0..len)
                .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
                .collect();
            TensorData::new(values, shape.to_vec())
        };
        let layer = match &self.layers[index] {
            Layer::Conv(conv) => {
                let [out, inputs, kh, kw] = conv.weight.dims();
                let mut conv = conv.clone();
                conv.weight =
                    Param::from_data(draw(&[out, inputs, kh, kw], inputs * kh * kw), &device);
                conv.bias = conv
                    .bias
                    .as_ref()
                    .map(|_| Param::from_tensor(Tensor::zeros([out], &device)));
                Layer::Conv(conv)
            }
            Layer::Linear(linear) => {
                let [inputs, out] = linear.weight.dims();
                let mut linear = linear.clone();
                linear.weight = Param::from_data(draw(&[inputs, out], inputs), &device);
                linear.bias = linear
                    .bias
                    .as_ref()
                    .map(|_| Param::from_tensor(Tensor::zeros([out], &device)));
                Layer::Linear(linear)
            }
            other => {
                return Err(Error::layer(
                    index,
                    other.kind().name(),
                    "only conv and linear layers have weights to draw",
                ));
            }
        };
        let mut net = self.clone();
        net.layers[index] = layer;
        Ok(net)
    }

    /// Every weighted layer drawn afresh from `rng`, from the input side: the start of training.
    pub fn initialised(&self, rng: &mut SplitMix) -> Result<Network, Error> {
        self.weighted()
            .into_iter()
            .try_fold(self.clone(), |net, i| net.reinitialised(i, rng))
    }

    /// A copy with every bias set to zero (LRP-0, z⁺ and zB conserve relevance exactly there).
    pub fn without_biases(&self) -> Network {
        let mut net = self.clone();
        for layer in &mut net.layers {
            match layer {
                Layer::Conv(conv) => conv.bias = conv.bias.take().map(zeroed),
                Layer::Linear(linear) => linear.bias = linear.bias.take().map(zeroed),
                Layer::BatchNorm(bn) => bn.beta = zeroed(bn.beta.clone()),
                _ => {}
            }
        }
        net
    }
}

fn zeroed(p: Param<Tensor<1>>) -> Param<Tensor<1>> {
    Param::from_tensor(p.val().zeros_like())
}

/// Batch norm at inference as a per-channel affine map `y = scale·x + shift`.
fn affine(bn: &BatchNorm) -> (Tensor<1>, Tensor<1>) {
    let device = bn.gamma.device();
    let mean = bn.running_mean.value().to_device(&device);
    let var = bn.running_var.value().to_device(&device);
    let scale = bn.gamma.val() / var.add_scalar(bn.epsilon).sqrt();
    let shift = bn.beta.val() - mean * scale.clone();
    (scale, shift)
}

fn merge_conv(conv: Conv2d, bn: &BatchNorm) -> Conv2d {
    let (scale, shift) = affine(bn);
    let [out, ..] = conv.weight.dims();
    let bias = conv
        .bias
        .as_ref()
        .map_or_else(|| scale.zeros_like(), |b| b.val());
    let mut merged = conv.clone();
    merged.weight = Param::from_tensor(conv.weight.val() * scale.clone().reshape([out, 1, 1, 1]));
    merged.bias = Some(Param::from_tensor(bias * scale + shift));
    merged
}

fn merge_linear(linear: Linear, bn: &BatchNorm) -> Linear {
    let (scale, shift) = affine(bn);
    let [_, out] = linear.weight.dims();
    let bias = linear
        .bias
        .as_ref()
        .map_or_else(|| scale.zeros_like(), |b| b.val());
    Linear {
        weight: Param::from_tensor(linear.weight.val() * scale.clone().reshape([1, out])),
        bias: Some(Param::from_tensor(bias * scale + shift)),
    }
}

/// A network ready to explain: its architecture, its layer table, and its canonical form on a
/// device (what every method walks).
#[derive(Clone, Debug)]
pub struct Model {
    pub config: NetworkConfig,
    /// Every layer of the architecture, with its name, kind, shapes and parameter count.
    pub table: Vec<LayerInfo>,
    /// The canonical network (batch norm merged, dropout removed).
    pub network: Network,
}

impl Model {
    /// `network` (built from `config`) in canonical form.
    pub fn new(config: NetworkConfig, network: &Network) -> Result<Self, Error> {
        let table = config.check()?;
        if network.layers.len() != table.len()
            || network
                .layers
                .iter()
                .zip(&table)
                .any(|(layer, info)| layer.kind() != info.kind)
        {
            return Err(Error::architecture("the network does not match its config"));
        }
        Ok(Self {
            config,
            table,
            network: network.canonical()?,
        })
    }

    /// Reads an architecture (JSON) and its weights (burnpack) onto `device`.
    pub fn load(config: &[u8], weights: &[u8], device: &Device) -> Result<Self, Error> {
        let config = store::config_from_json(config)?;
        let network = store::load(&config, weights, device)?;
        Self::new(config, &network)
    }

    /// The table entries of the conv and linear layers: one per rule, from the input side.
    pub fn weighted(&self) -> Vec<&LayerInfo> {
        self.table.iter().filter(|l| l.kind.is_weighted()).collect()
    }

    pub fn classes(&self) -> usize {
        self.table.last().map_or(0, |l| l.output[0])
    }

    pub fn class_names(&self) -> Vec<String> {
        if self.config.class_names.is_empty() {
            (0..self.classes()).map(|c| c.to_string()).collect()
        } else {
            self.config.class_names.clone()
        }
    }

    /// `[channels, height, width]` of one input.
    pub fn input(&self) -> [usize; 3] {
        self.config.input
    }

    pub fn input_len(&self) -> usize {
        self.config.input.iter().product()
    }

    /// Checks a class index against this model.
    pub fn check_class(&self, name: &str, class: i64) -> Result<usize, Error> {
        let classes = self.classes();
        if (0..classes as i64).contains(&class) {
            Ok(class as usize)
        } else {
            Err(Error::argument(
                name,
                format!(
                    "class must be an integer from 0 to {}, got {class}",
                    classes - 1
                ),
            ))
        }
    }

    /// Checks one image (`c·h·w` finite values) and makes it a `[1, c, h, w]` tensor.
    pub fn image(&self, pixels: &[f32], device: &Device) -> Result<Tensor<4>, Error> {
        crate::data::check_image("pixels", pixels, self.input())?;
        let [c, h, w] = self.input();
        Ok(Tensor::from_data(
            TensorData::new(pixels.to_vec(), [1, c, h, w]),
            device,
        ))
    }
}
