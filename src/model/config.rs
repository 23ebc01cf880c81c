//! Architectures as burn configs: a network is its input shape and a list of burn layer configs
//! (`Conv2dConfig`, `LinearConfig`, ...). [`NetworkConfig::check`] walks the shapes through the
//! list before anything is allocated, and refuses what cannot work with an error that names the
//! layer and the reason.

use burn::config::Config;
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, DropoutConfig, LinearConfig, PaddingConfig2d};

use crate::Error;

/// Largest input side (height and width).
pub const MAX_SIDE: usize = 64;
/// Most classes a network may have.
pub const MAX_CLASSES: usize = 1000;
/// Most layers in one network.
pub const MAX_LAYERS: usize = 256;
/// Most parameters in one network (80 MB of f32).
pub const MAX_PARAMETERS: usize = 20_000_000;
/// Most activation values per image, summed over the layers: bounds a trace's memory
/// (64 MB of f32 per image).
pub const MAX_ACTIVATIONS: usize = 16_000_000;

/// Input normalisation `(x − mean_c) / std_c`, one value per input channel.
#[derive(Config, Debug)]
pub struct NormalizeConfig {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// One layer of a sequential network.
#[derive(Config, Debug)]
pub enum LayerConfig {
    /// The input's normalisation; only as the first layer.
    Normalize(NormalizeConfig),
    /// A 2-D convolution (groups = 1; symmetric padding).
    Conv(Conv2dConfig),
    /// A fully connected layer on a flat input (`[features, 1, 1]`).
    Linear(LinearConfig),
    MaxPool(MaxPool2dConfig),
    AvgPool(AvgPool2dConfig),
    /// The mean of each channel: `[c, h, w]` → `[c, 1, 1]`.
    GlobalAvgPool,
    /// Batch normalisation right after a conv or linear layer, into which every explanation
    /// merges it.
    BatchNorm(BatchNormConfig),
    Relu,
    /// `[c, h, w]` → `[c·h·w, 1, 1]`, in the row-major order of `c, h, w`.
    Flatten,
    /// Identity at inference.
    Dropout(DropoutConfig),
}

/// A sequential CNN: what it takes, its layers, and what its outputs mean.
#[derive(Config, Debug)]
pub struct NetworkConfig {
    /// `[channels, height, width]` of one input image.
    pub input: [usize; 3],
    pub layers: Vec<LayerConfig>,
    /// The range of valid input values `[low, high]`: zB's bounds, the class model's box.
    #[config(default = "[0.0, 1.0]")]
    pub input_range: [f32; 2],
    /// The names of the classes in output order; empty for "0", "1", ….
    #[config(default = "Vec::new()")]
    pub class_names: Vec<String>,
}

/// What kind of layer, as the page and the rules name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Normalize,
    Conv,
    Linear,
    MaxPool,
    AvgPool,
    GlobalAvgPool,
    BatchNorm,
    Relu,
    Flatten,
    Dropout,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Normalize => "normalize",
            Kind::Conv => "conv",
            Kind::Linear => "linear",
            Kind::MaxPool => "max_pool",
            Kind::AvgPool => "avg_pool",
            Kind::GlobalAvgPool => "global_avg_pool",
            Kind::BatchNorm => "batch_norm",
            Kind::Relu => "relu",
            Kind::Flatten => "flatten",
            Kind::Dropout => "dropout",
        }
    }

    /// Conv and linear layers: the ones with weights that the walk's rules act on.
    pub fn is_weighted(self) -> bool {
        matches!(self, Kind::Conv | Kind::Linear)
    }

    /// The prefix of this kind's layer names.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Normalize => "normalize",
            Kind::Conv => "conv",
            Kind::Linear => "fc",
            Kind::MaxPool | Kind::AvgPool => "pool",
            Kind::GlobalAvgPool => "gap",
            Kind::BatchNorm => "bn",
            Kind::Relu => "relu",
            Kind::Flatten => "flatten",
            Kind::Dropout => "dropout",
        }
    }
}

impl LayerConfig {
    pub fn kind(&self) -> Kind {
        match self {
            LayerConfig::Normalize(_) => Kind::Normalize,
            LayerConfig::Conv(_) => Kind::Conv,
            LayerConfig::Linear(_) => Kind::Linear,
            LayerConfig::MaxPool(_) => Kind::MaxPool,
            LayerConfig::AvgPool(_) => Kind::AvgPool,
            LayerConfig::GlobalAvgPool => Kind::GlobalAvgPool,
            LayerConfig::BatchNorm(_) => Kind::BatchNorm,
            LayerConfig::Relu => Kind::Relu,
            LayerConfig::Flatten => Kind::Flatten,
            LayerConfig::Dropout(_) => Kind::Dropout,
        }
    }
}

/// A checked layer: its name, kind, shapes and parameter count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    pub index: usize,
    /// `conv1`, `conv2`, … and `fc1`, … for weighted layers; `pool1`, `relu3`, … for the rest.
    pub name: String,
    pub kind: Kind,
    /// `[c, h, w]`.
    pub input: [usize; 3],
    pub output: [usize; 3],
    pub parameters: usize,
}

/// A convolution's or pool's geometry along one axis.
#[derive(Clone, Copy)]
struct Window {
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
}

impl Window {
    /// The output size for input size `n`, or why there is none.
    fn output(self, n: usize) -> Result<usize, String> {
        if self.kernel == 0 || self.stride == 0 || self.dilation == 0 {
            return Err("kernel, stride and dilation must be at least 1".into());
        }
        let span = self
            .kernel
            .checked_sub(1)
            .and_then(|k| k.checked_mul(self.dilation))
            .and_then(|k| k.checked_add(1))
            .ok_or("kernel too large")?;
        let padded = self
            .padding
            .checked_mul(2)
            .and_then(|p| p.checked_add(n))
            .ok_or("padding too large")?;
        if span > padded {
            return Err(format!(
                "its kernel spans {span} pixels, more than its padded input's {padded}"
            ));
        }
        Ok((padded - span) / self.stride + 1)
    }

    /// Refuses a max-pool window that sees padding only (it would give −∞): padding at most
    /// half the kernel rules that out, except where a dilation steps over every input pixel.
    /// `out` is the output size for input size `n`, at most `n + 1` once the padding is at most
    /// half the kernel.
    fn check_not_only_padding(self, n: usize, out: usize) -> Result<(), String> {
        let (n, p, d) = (n as i128, self.padding as i128, self.dilation as i128);
        for o in 0..out {
            let start = o as i128 * self.stride as i128 - p;
            // The first tap at or after pixel 0.
            let first = if start >= 0 { 0 } else { (-start + d - 1) / d };
            if first >= self.kernel as i128 || start + first * d >= n {
                return Err(format!(
                    "its window {o} sees padding only (dilation {} steps over every pixel)",
                    self.dilation
                ));
            }
        }
        Ok(())
    }
}

/// Symmetric padding `[height, width]`, or why the padding is not symmetric.
pub fn symmetric_padding(
    padding: &PaddingConfig2d,
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Result<[usize; 2], String> {
    match *padding {
        PaddingConfig2d::Valid => Ok([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            if top == bottom && left == right {
                Ok([top, left])
            } else {
                Err(format!(
                    "padding ({top}, {left}, {bottom}, {right}) is not symmetric"
                ))
            }
        }
        PaddingConfig2d::Same => {
            let mut out = [0; 2];
            for axis in 0..2 {
                // burn's "same": total = (⌈n/s⌉ − 1)·s + k − n, the extra pixel at the end.
                let (n, k, s) = (input[axis], kernel[axis], stride[axis].max(1));
                let total = ((n.div_ceil(s).saturating_sub(1)) * s + k).saturating_sub(n);
                if total % 2 != 0 {
                    return Err(format!(
                        "\"same\" padding of a {}×{} kernel with stride {}×{} is asymmetric here",
                        kernel[0], kernel[1], stride[0], stride[1]
                    ));
                }
                out[axis] = total / 2;
            }
            Ok(out)
        }
    }
}

fn windows(
    input: [usize; 3],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
) -> Result<[usize; 2], String> {
    let axis = |i: usize| {
        Window {
            kernel: kernel[i],
            stride: stride[i],
            padding: padding[i],
            dilation: dilation[i],
        }
        .output(input[i + 1])
    };
    Ok([axis(0)?, axis(1)?])
}

fn product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |p, &d| p.checked_mul(d))
}

impl NetworkConfig {
    /// Checks the architecture and returns every layer's shapes, or an error naming the first
    /// layer that cannot work. Nothing is allocated for the network.
    pub fn check(&self) -> Result<Vec<LayerInfo>, Error> {
        Self::check_input(self.input)?;
        let [low, high] = self.input_range;
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(Error::architecture(format!(
                "the input range [{low}, {high}] must be finite with low < high"
            )));
        }
        if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
            return Err(Error::architecture(format!(
                "a network has 1 to {MAX_LAYERS} layers, not {}",
                self.layers.len()
            )));
        }
        let names = layer_names(&self.layers);
        let mut shape = self.input;
        let mut out = Vec::with_capacity(self.layers.len());
        let (mut parameters, mut activations) = (0usize, product(&self.input).unwrap_or(0));
        for (index, layer) in self.layers.iter().enumerate() {
            let refuse = |why: String| Error::layer(index, &names[index], why);
            let previous = index.checked_sub(1).map(|i| self.layers[i].kind());
            let (output, count) = layer_shape(layer, shape, previous).map_err(refuse)?;
            parameters = parameters
                .checked_add(count)
                .filter(|&p| p <= MAX_PARAMETERS)
                .ok_or_else(|| {
                    Error::layer(
                        index,
                        &names[index],
                        format!("the network would exceed {MAX_PARAMETERS} parameters"),
                    )
                })?;
            activations = product(&output)
                .and_then(|n| activations.checked_add(n))
                .filter(|&a| a <= MAX_ACTIVATIONS)
                .ok_or_else(|| {
                    Error::layer(
                        index,
                        &names[index],
                        format!("the activations would exceed {MAX_ACTIVATIONS} values per image"),
                    )
                })?;
            out.push(LayerInfo {
                index,
                name: names[index].clone(),
                kind: layer.kind(),
                input: shape,
                output,
                parameters: count,
            });
            shape = output;
        }
        let [classes, oh, ow] = shape;
        if oh != 1 || ow != 1 {
            return Err(Error::architecture(format!(
                "the last layer must give one score per class ([classes, 1, 1]), not {classes}×{oh}×{ow}"
            )));
        }
        if !(1..=MAX_CLASSES).contains(&classes) {
            return Err(Error::architecture(format!(
                "a network has 1 to {MAX_CLASSES} classes, not {classes}"
            )));
        }
        if !self.class_names.is_empty() && self.class_names.len() != classes {
            return Err(Error::architecture(format!(
                "{} class names for {classes} classes",
                self.class_names.len()
            )));
        }
        Ok(out)
    }

    /// Checks the input shape `[c, h, w]` alone: 1 or 3 channels, at most 64×64.
    pub fn check_input(input: [usize; 3]) -> Result<(), Error> {
        let [c, h, w] = input;
        if !(c == 1 || c == 3) {
            return Err(Error::architecture(format!(
                "the input must have 1 or 3 channels, not {c}"
            )));
        }
        if !(1..=MAX_SIDE).contains(&h) || !(1..=MAX_SIDE).contains(&w) {
            return Err(Error::architecture(format!(
                "the input must be at most {MAX_SIDE}×{MAX_SIDE}, not {h}×{w}"
            )));
        }
        Ok(())
    }

    /// The number of classes (checks the architecture).
    pub fn classes(&self) -> Result<usize, Error> {
        Ok(self.check()?.last().map_or(0, |l| l.output[0]))
    }

    /// The classes' names: the configured ones, else "0", "1", ….
    pub fn class_names(&self) -> Result<Vec<String>, Error> {
        let classes = self.classes()?;
        Ok(if self.class_names.is_empty() {
            (0..classes).map(|c| c.to_string()).collect()
        } else {
            self.class_names.clone()
        })
    }
}

/// Names by kind and count: `conv1`, `conv2`, `fc1`, `pool1`, `relu1`, ….
pub fn layer_names(layers: &[LayerConfig]) -> Vec<String> {
    let mut counts = std::collections::HashMap::new();
    layers
        .iter()
        .map(|l| {
            let prefix = l.kind().prefix();
            let n = counts.entry(prefix).or_insert(0usize);
            *n += 1;
            format!("{prefix}{n}")
        })
        .collect()
}

/// One layer's output shape and parameter count for input `shape`, or why it cannot work.
pub(crate) fn layer_shape(
    layer: &LayerConfig,
    shape: [usize; 3],
    previous: Option<Kind>,
) -> Result<([usize; 3], usize), String> {
    let [c, h, w] = shape;
    let overflow = || "too many parameters".to_string();
    match layer {
        LayerConfig::Normalize(n) => {
            if previous.is_some() {
                return Err("the input's normalisation must be the first layer".into());
            }
            if n.mean.len() != c || n.std.len() != c {
                return Err(format!(
                    "it needs one mean and one std per input channel ({c}), has {} and {}",
                    n.mean.len(),
                    n.std.len()
                ));
            }
            if let Some(m) = n.mean.iter().find(|m| !m.is_finite()) {
                return Err(format!("mean {m} is not finite"));
            }
            if let Some(s) = n.std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
                return Err(format!("std must be finite and > 0, not {s}"));
            }
            Ok((shape, 0))
        }
        LayerConfig::Conv(conv) => {
            let [inputs, outputs] = conv.channels;
            if conv.groups != 1 {
                return Err(format!("groups must be 1, not {}", conv.groups));
            }
            if inputs != c {
                return Err(format!("it takes {inputs} channels, its input has {c}"));
            }
            if outputs == 0 {
                return Err("it must have at least one output channel".into());
            }
            let padding = symmetric_padding(&conv.padding, [h, w], conv.kernel_size, conv.stride)?;
            let [oh, ow] = windows(shape, conv.kernel_size, conv.stride, padding, conv.dilation)?;
            let weights = product(&[outputs, inputs, conv.kernel_size[0], conv.kernel_size[1]])
                .ok_or_else(overflow)?;
            let count = weights
                .checked_add(if conv.bias { outputs } else { 0 })
                .ok_or_else(overflow)?;
            Ok(([outputs, oh, ow], count))
        }
        LayerConfig::Linear(linear) => {
            if h != 1 || w != 1 {
                return Err(format!(
                    "it needs a flat input; add a Flatten before it (its input is {c}×{h}×{w})"
                ));
            }
            if linear.d_input != c {
                let from = match previous {
                    Some(Kind::Flatten) => "the flatten before it gives",
                    _ => "its input has",
                };
                return Err(format!("it takes {} inputs, {from} {c}", linear.d_input));
            }
            if linear.d_output == 0 {
                return Err("it must have at least one output".into());
            }
            let count = product(&[linear.d_input, linear.d_output])
                .and_then(|p| p.checked_add(if linear.bias { linear.d_output } else { 0 }))
                .ok_or_else(overflow)?;
            Ok(([linear.d_output, 1, 1], count))
        }
        LayerConfig::MaxPool(pool) => {
            if pool.ceil_mode {
                return Err("ceil mode is not supported".into());
            }
            let padding = symmetric_padding(&pool.padding, [h, w], pool.kernel_size, pool.strides)?;
            check_pool_padding(padding, pool.kernel_size)?;
            let [oh, ow] = windows(
                shape,
                pool.kernel_size,
                pool.strides,
                padding,
                pool.dilation,
            )?;
            for (axis, (n, out)) in [(h, oh), (w, ow)].into_iter().enumerate() {
                let window = Window {
                    kernel: pool.kernel_size[axis],
                    stride: pool.strides[axis],
                    padding: padding[axis],
                    dilation: pool.dilation[axis],
                };
                window.check_not_only_padding(n, out)?;
            }
            Ok(([c, oh, ow], 0))
        }
        LayerConfig::AvgPool(pool) => {
            if pool.ceil_mode {
                return Err("ceil mode is not supported".into());
            }
            let padding = symmetric_padding(&pool.padding, [h, w], pool.kernel_size, pool.strides)?;
            check_pool_padding(padding, pool.kernel_size)?;
            let [oh, ow] = windows(shape, pool.kernel_size, pool.strides, padding, [1, 1])?;
            Ok(([c, oh, ow], 0))
        }
        LayerConfig::GlobalAvgPool => Ok(([c, 1, 1], 0)),
        LayerConfig::BatchNorm(bn) => {
            if !matches!(previous, Some(Kind::Conv | Kind::Linear)) {
                return Err(
                    "batch norm must follow a conv or linear layer, to be merged into it".into(),
                );
            }
            if bn.num_features != c {
                return Err(format!(
                    "it normalises {} features, its input has {c} channels",
                    bn.num_features
                ));
            }
            if !(bn.epsilon.is_finite() && bn.epsilon > 0.0) {
                return Err(format!("epsilon must be > 0, not {}", bn.epsilon));
            }
            if !(bn.momentum.is_finite() && (0.0..=1.0).contains(&bn.momentum)) {
                return Err(format!("momentum must be in [0, 1], not {}", bn.momentum));
            }
            Ok((shape, 2 * c))
        }
        LayerConfig::Relu => Ok((shape, 0)),
        LayerConfig::Flatten => Ok(([product(&shape).ok_or_else(overflow)?, 1, 1], 0)),
        LayerConfig::Dropout(d) => {
            if !(d.prob.is_finite() && (0.0..1.0).contains(&d.prob)) {
                return Err(format!("probability must be in [0, 1), not {}", d.prob));
            }
            Ok((shape, 0))
        }
    }
}

/// Pools pad at most half their kernel (so that no undilated window is all padding).
fn check_pool_padding(padding: [usize; 2], kernel: [usize; 2]) -> Result<(), String> {
    if padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1] {
        return Err(format!(
            "padding {}×{} is more than half its {}×{} kernel",
            padding[0], padding[1], kernel[0], kernel[1]
        ));
    }
    Ok(())
}
