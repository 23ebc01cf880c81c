//! Native timings of each CPU backend compiled in (flex, and ndarray with `--features ndarray`):
//! `cargo run --release --example cpu_backends --features ndarray`. Prints medians of 200 runs.

use std::time::Instant;

use burn::tensor::{Tensor, TensorData};
use deep_inside::backend;
use deep_inside::class_model::{Ascent, Options};
use deep_inside::data::{self, Digits};
use deep_inside::lrp::{Rules, relevance};
use deep_inside::model::Network;
use deep_inside::saliency::{Method, saliency};

fn median(mut f: impl FnMut()) -> f64 {
    for _ in 0..10 {
        f();
    }
    let mut t: Vec<f64> = (0..200)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    let pixels = Digits::mnist_heldout().expect("digits").image(0);
    println!("| backend | predict | gradient saliency | LRP (recommended) | class-model step |");
    println!("|---|---|---|---|---|");
    for (name, device) in backend::cpu_devices() {
        let net =
            Network::from_bytes(data::Dataset::Mnist.weights().unwrap(), &device).expect("weights");
        let converted = net.fc_as_conv([1, 28, 28]);
        let x = || Tensor::<4>::from_data(TensorData::new(pixels.clone(), [1, 1, 28, 28]), &device);
        let read = |t: Tensor<4>| t.into_data();
        let predict = median(|| {
            net.forward(x()).into_data();
        });
        let grad = median(|| {
            read(saliency(&net, x(), 3, Method::Gradient).expect("saliency"));
        });
        let rules = Rules::preset("recommended").expect("preset");
        let lrp = median(|| {
            let r = relevance(&converted, x(), 3, &rules).expect("lrp");
            for l in r.layers {
                read(l.full);
            }
        });
        let mut ascent = Ascent::new(&net, 3, Options::default(), &device).expect("ascent");
        let step = median(|| {
            ascent.step(1).x.into_data();
        });
        println!(
            "| {name} (native) | {predict:.3} ms | {grad:.3} ms | {lrp:.3} ms | {step:.3} ms |"
        );
    }
}
