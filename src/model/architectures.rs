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
