//! The architectures this repository trains and ships, as burn configs.

use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, DropoutConfig, LinearConfig, PaddingConfig2d};

use super::{LayerConfig, NetworkConfig};

/// The first version's net, for 1×28×28 images in [0, 1]: conv 1→16 5×5, ReLU, 2×2 max-pool,
/// conv 16→32 5×5, ReLU, 2×2 max-pool, FC 512→128, ReLU, FC 128→10 (80,202 parameters).
pub fn small(class_names: &[&str]) -> NetworkConfig {
    NetworkConfig::new(
        [1, 28, 28],
        vec![
            LayerConfig::Conv(Conv2dConfig::new([1, 16], [5, 5])),
            LayerConfig::Relu,
            LayerConfig::MaxPool(MaxPool2dConfig::new([2, 2])),
            LayerConfig::Conv(Conv2dConfig::new([16, 32], [5, 5])),
            LayerConfig::Relu,
            LayerConfig::MaxPool(MaxPool2dConfig::new([2, 2])),
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(512, 128)),
            LayerConfig::Relu,
            LayerConfig::Linear(LinearConfig::new(128, 10)),
        ],
    )
    .with_class_names(class_names.iter().map(|s| s.to_string()).collect())
}

/// A deeper net that uses what [`small`] does not: padding, stride 2, batch norm, average
/// pooling, dropout and four convs. 28×28 → 14×14 (stride 2) → 7×7 (average pool) → 4×4
/// (stride 2) → FC 1024→10.
pub fn deep(class_names: &[&str]) -> NetworkConfig {
    let conv = |inputs, outputs, stride| {
        Conv2dConfig::new([inputs, outputs], [3, 3])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
    };
    let block = |inputs: usize, outputs: usize, stride: usize| {
        [
            LayerConfig::Conv(conv(inputs, outputs, stride)),
            LayerConfig::BatchNorm(BatchNormConfig::new(outputs)),
            LayerConfig::Relu,
        ]
    };
    let mut layers = Vec::new();
    layers.extend(block(1, 32, 1));
    layers.extend(block(32, 32, 2));
    layers.extend(block(32, 64, 1));
    layers.push(LayerConfig::AvgPool(AvgPool2dConfig::new([2, 2])));
    layers.extend(block(64, 64, 2));
    layers.push(LayerConfig::Flatten);
    layers.push(LayerConfig::Dropout(DropoutConfig::new(0.3)));
    layers.push(LayerConfig::Linear(LinearConfig::new(64 * 4 * 4, 10)));
    NetworkConfig::new([1, 28, 28], layers)
        .with_class_names(class_names.iter().map(|s| s.to_string()).collect())
}

/// A judge of class models (issue 20): a multilayer perceptron, another architecture than any
/// explained net, so that an image it recognises is not just one that fools convolutions of the
/// same shape. FC 784→256, ReLU, FC 256→128, ReLU, FC 128→10 (235,146 parameters).
pub fn judge_mlp(class_names: &[&str]) -> NetworkConfig {
    NetworkConfig::new(
        [1, 28, 28],
        vec![
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(784, 256)),
            LayerConfig::Relu,
            LayerConfig::Linear(LinearConfig::new(256, 128)),
            LayerConfig::Relu,
            LayerConfig::Linear(LinearConfig::new(128, 10)),
        ],
    )
    .with_class_names(class_names.iter().map(|s| s.to_string()).collect())
}

/// The other judge: a CNN with other kernels and pools than the explained nets: 3×3 convs with
/// padding 1 (1→16, 16→32), each followed by ReLU and a 2×2 average pool, then FC 1568→64,
/// ReLU, FC 64→10 (105,866 parameters).
pub fn judge_cnn(class_names: &[&str]) -> NetworkConfig {
    let conv = |inputs, outputs| {
        Conv2dConfig::new([inputs, outputs], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
    };
    NetworkConfig::new(
        [1, 28, 28],
        vec![
            LayerConfig::Conv(conv(1, 16)),
            LayerConfig::Relu,
            LayerConfig::AvgPool(AvgPool2dConfig::new([2, 2])),
            LayerConfig::Conv(conv(16, 32)),
            LayerConfig::Relu,
            LayerConfig::AvgPool(AvgPool2dConfig::new([2, 2])),
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(32 * 7 * 7, 64)),
            LayerConfig::Relu,
            LayerConfig::Linear(LinearConfig::new(64, 10)),
        ],
    )
    .with_class_names(class_names.iter().map(|s| s.to_string()).collect())
}

/// The ten classes of MNIST.
pub const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// The ten classes of Fashion-MNIST.
pub const CLOTHES: [&str; 10] = [
    "T-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
];
