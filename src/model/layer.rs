//! One layer of a sequential network, as a burn module. Every activation is a rank-4 tensor
//! `[batch, channels, height, width]`; a flat vector is `[batch, features, 1, 1]`, so that one
//! shape serves every layer and the backward walk stays a plain loop.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
use burn::nn::{BatchNorm, Dropout, Linear, Relu};
use burn::tensor::{Device, Tensor};

use super::config::Kind;

/// `(x − mean_c) / std_c` per channel: a model's input normalisation, kept as its first layer
/// so that the network still takes pixels. The gradient goes through it; relevance passes it
/// unchanged, and zB's pixel bounds are mapped through it.
#[derive(Module, Debug)]
pub struct Normalize {
    #[module(skip)]
    pub mean: Vec<f32>,
    #[module(skip)]
    pub std: Vec<f32>,
}

impl Normalize {
    /// `values` (one per channel) as a `[1, c, 1, 1]` tensor that broadcasts over a batch.
    pub fn channels(values: &[f32], device: &Device) -> Tensor<4> {
        Tensor::<1>::from_floats(values, device).reshape([1, values.len(), 1, 1])
    }

    /// The pixel value `v` as the layer after this one sees it, per channel: `[1, c, 1, 1]`.
    pub fn map(&self, v: f32, device: &Device) -> Tensor<4> {
        let mapped: Vec<f32> = self
            .mean
            .iter()
            .zip(&self.std)
            .map(|(m, s)| (v - m) / s)
            .collect();
        Self::channels(&mapped, device)
    }

    pub fn forward(&self, a: Tensor<4>) -> Tensor<4> {
        let device = a.device();
        (a - Self::channels(&self.mean, &device)) / Self::channels(&self.std, &device)
    }
}

/// `[n, c, h, w]` → `[n, c·h·w, 1, 1]`.
#[derive(Module, Debug, Default)]
pub struct Flatten;

#[derive(Module, Debug)]
pub enum Layer {
    Normalize(Normalize),
    Conv(Conv2d),
    /// Weight `[in, out]`, on `[n, in, 1, 1]`.
    Linear(Linear),
    MaxPool(MaxPool2d),
    AvgPool(AvgPool2d),
    /// Output size 1×1.
    GlobalAvgPool(AdaptiveAvgPool2d),
    BatchNorm(BatchNorm),
    Relu(Relu),
    Flatten(Flatten),
    Dropout(Dropout),
}

impl Layer {
    pub fn kind(&self) -> Kind {
        match self {
            Layer::Normalize(_) => Kind::Normalize,
            Layer::Conv(_) => Kind::Conv,
            Layer::Linear(_) => Kind::Linear,
            Layer::MaxPool(_) => Kind::MaxPool,
            Layer::AvgPool(_) => Kind::AvgPool,
            Layer::GlobalAvgPool(_) => Kind::GlobalAvgPool,
            Layer::BatchNorm(_) => Kind::BatchNorm,
            Layer::Relu(_) => Kind::Relu,
            Layer::Flatten(_) => Kind::Flatten,
            Layer::Dropout(_) => Kind::Dropout,
        }
    }

    /// The layer's output for input `a`.
    pub fn forward(&self, a: Tensor<4>) -> Tensor<4> {
        match self {
            Layer::Normalize(n) => n.forward(a),
            Layer::Conv(conv) => conv.forward(a),
            Layer::Linear(linear) => {
                let [n, f, _, _] = a.dims();
                let y = linear.forward(a.reshape([n, f]));
                let out = y.dims()[1];
                y.reshape([n, out, 1, 1])
            }
            Layer::MaxPool(pool) => pool.forward(a),
            Layer::AvgPool(pool) => pool.forward(a),
            Layer::GlobalAvgPool(pool) => pool.forward(a),
            Layer::BatchNorm(bn) => bn.forward(a),
            Layer::Relu(relu) => relu.forward(a),
            Layer::Flatten(_) => {
                let [n, c, h, w] = a.dims();
                a.reshape([n, c * h * w, 1, 1])
            }
            Layer::Dropout(dropout) => dropout.forward(a),
        }
    }
}
