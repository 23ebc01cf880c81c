//! Helpers shared by the native integration tests.
#![allow(dead_code)] // each test file uses a different subset

use burn::tensor::{Device, Tensor, TensorData};
use deep_inside::backend;
use deep_inside::data::{Digits, Shipped};
use deep_inside::model::{Model, Network};

pub fn cpu() -> Device {
    backend::cpu()
}

/// The shipped small MNIST model.
pub fn model(device: &Device) -> Model {
    Shipped::Mnist.load(device).expect("embedded model loads")
}

/// The shipped small MNIST model's canonical network.
pub fn trained(device: &Device) -> Network {
    model(device).network
}

pub fn heldout() -> Digits {
    Digits::mnist_heldout().expect("embedded held-out digits load")
}

/// A batch of images for `net`.
pub fn batch(net: &Network, pixels: &[f32], device: &Device) -> Tensor<4> {
    let [c, h, w] = net.input;
    let n = pixels.len() / (c * h * w);
    Tensor::from_data(TensorData::new(pixels.to_vec(), [n, c, h, w]), device)
}

/// A batch of 1×28×28 images.
pub fn image(pixels: &[f32], device: &Device) -> Tensor<4> {
    let n = pixels.len() / 784;
    Tensor::from_data(TensorData::new(pixels.to_vec(), [n, 1, 28, 28]), device)
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 tensor")
}

/// ∂S_c/∂x by burn's autodiff, for a batch: the independent reference for the walk.
pub fn autodiff_gradient(net: &Network, x: Tensor<4>, class: usize) -> Vec<f32> {
    let x = x.autodiff().require_grad();
    let score = net.forward(x.clone()).narrow(1, class, 1).sum();
    let grads = score.backward();
    values(x.grad(&grads).expect("input gradient"))
}

/// max |a − b| / max(max |b|, tiny): the relative error of a whole map.
pub fn relative_error(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs())) / scale
}

/// Classification accuracy of `net` on `digits`.
pub fn accuracy(net: &Network, digits: &Digits) -> f32 {
    let device = net.device();
    let mut hits = 0;
    for start in (0..digits.len()).step_by(500) {
        let end = (start + 500).min(digits.len());
        let all: Vec<f32> = (start..end).flat_map(|i| digits.image(i)).collect();
        let logits = values(net.forward(image(&all, &device)));
        let classes = logits.len() / (end - start);
        hits += logits
            .chunks_exact(classes)
            .zip(&digits.labels[start..end])
            .filter(|(row, label)| {
                let best = (0..classes)
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap();
                best == usize::from(**label)
            })
            .count();
    }
    hits as f32 / digits.len() as f32
}
