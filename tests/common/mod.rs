//! Helpers shared by the native integration tests.
#![allow(dead_code)] // each test file uses a different subset

use burn::tensor::{Device, Tensor, TensorData};
use deep_inside::backend;
use deep_inside::data::Digits;
use deep_inside::model::{Network, SIDE};

pub fn cpu() -> Device {
    backend::cpu()
}

pub fn trained(device: &Device) -> Network {
    Network::from_bytes(deep_inside::data::Dataset::Mnist.weights().unwrap(), device)
        .expect("embedded weights load")
}

pub fn heldout() -> Digits {
    Digits::mnist_heldout().expect("embedded held-out digits load")
}

pub fn image(pixels: &[f32], device: &Device) -> Tensor<4> {
    let n = pixels.len() / (SIDE * SIDE);
    Tensor::from_data(TensorData::new(pixels.to_vec(), [n, 1, SIDE, SIDE]), device)
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 tensor")
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
