//! Helpers shared by the native integration tests.
#![allow(dead_code)] // each test file uses a different subset

pub mod onnx;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use deep_inside::backend;
use deep_inside::data::{Digits, Shipped};
use deep_inside::model::{Layer, Model, Network, NetworkConfig, store};

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

/// A shipped model's network as stored, before the canonical form (batch norm and dropout in
/// place), in inference mode: what autodiff differentiates to check the walk and the merge.
pub fn original(shipped: Shipped, device: &Device) -> Network {
    let files = shipped.files().expect("embedded files");
    let config = store::config_from_json(files.config).expect("embedded config");
    store::load(&config, files.weights, device)
        .expect("embedded weights load")
        .valid()
}

/// Held-out images `picks` of a shipped model's data set as one batch, and their labels.
pub fn pick(shipped: Shipped, picks: &[usize], device: &Device) -> (Tensor<4>, Vec<usize>) {
    let digits = shipped
        .dataset()
        .heldout()
        .expect("embedded held-out images load");
    let pixels: Vec<f32> = picks.iter().flat_map(|&i| digits.image(i)).collect();
    let labels = picks
        .iter()
        .map(|&i| usize::from(digits.labels[i]))
        .collect();
    (image(&pixels, device), labels)
}

/// `config` built with the given (weight, bias) of each conv and linear layer, from the input
/// side: a conv's weight is `[out, in, kh, kw]`, a linear's `[in, out]`, both row-major.
pub fn with_parameters(
    config: &NetworkConfig,
    parameters: &[(&[f32], &[f32])],
    device: &Device,
) -> Network {
    let mut net = config.init(device).expect("a valid architecture");
    let weighted = net.weighted();
    assert_eq!(
        weighted.len(),
        parameters.len(),
        "one (weight, bias) per layer"
    );
    for (i, (w, b)) in weighted.into_iter().zip(parameters) {
        match &mut net.layers[i] {
            Layer::Conv(conv) => {
                conv.weight = param(w, conv.weight.dims().to_vec(), device);
                conv.bias = Some(param(b, vec![b.len()], device));
            }
            Layer::Linear(linear) => {
                linear.weight = param(w, linear.weight.dims().to_vec(), device);
                linear.bias = Some(param(b, vec![b.len()], device));
            }
            _ => unreachable!("weighted() lists conv and linear layers"),
        }
    }
    net
}

fn param<const D: usize>(v: &[f32], shape: Vec<usize>, device: &Device) -> Param<Tensor<D>> {
    Param::from_data(TensorData::new(v.to_vec(), shape), device)
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
