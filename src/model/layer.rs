//! One layer of a sequential network, as a burn module. Every activation is a rank-4 tensor
//! `[batch, channels, height, width]`; a flat vector is `[batch, features, 1, 1]`, so that one
//! shape serves every layer and the backward walk stays a plain loop.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
use burn::nn::{BatchNorm, Dropout, Linear, Relu};
use burn::tensor::Tensor;

use super::config::Kind;

/// `[n, c, h, w]` → `[n, c·h·w, 1, 1]`.
#[derive(Module, Debug, Default)]
pub struct Flatten;

#[derive(Module, Debug)]
pub enum Layer {
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
