//! Native timings of each CPU backend compiled in (flex, and ndarray with `--features ndarray`),
//! for each shipped model: `cargo run --release --example cpu_backends --features ndarray`.
//! Prints medians of 200 runs.

use std::time::Instant;

use burn::tensor::Tensor;
use deep_inside::backend;
use deep_inside::class_model::{Ascent, Options};
use deep_inside::data::Shipped;
use deep_inside::lrp::{Rules, relevance};
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
    for shipped in Shipped::ALL {
        let pixels = shipped
            .dataset()
            .heldout()
            .expect("held-out images")
            .image(0);
        println!("\n{}:\n", shipped.title());
        println!(
            "| backend | predict | gradient saliency | LRP (recommended) | class-model step |"
        );
        println!("|---|---|---|---|---|");
        for (name, device) in backend::cpu_devices() {
            let model = shipped.load(&device).expect("shipped model");
            let net = &model.network;
            let x = || model.image(&pixels, &device).expect("image");
            let read = |t: Tensor<4>| t.into_data();
            let predict = median(|| {
                net.forward(x()).into_data();
            });
            let grad = median(|| {
                read(saliency(net, x(), 3, Method::Gradient).expect("saliency"));
            });
            let rules = Rules::preset("recommended", &model).expect("preset");
            let lrp = median(|| {
                let r = relevance(net, x(), 3, &rules).expect("lrp");
                for l in r.layers {
                    read(l.full);
                }
            });
            let mut ascent = Ascent::new(&model, 3, Options::default(), &device).expect("ascent");
            let step = median(|| {
                ascent.step(1).x.into_data();
            });
            println!(
                "| {name} (native) | {predict:.3} ms | {grad:.3} ms | {lrp:.3} ms | {step:.3} ms |"
            );
        }
    }
}
