//! Figures over the 1,000 held-out digits: the pointing game and localisation IoU per method
//! (paper §3.1), and ΣR_pixels / S_c per LRP composite.
//! `cargo run --release --example heldout_stats`

use burn::tensor::{Tensor, TensorData};
use deep_inside::backend;
use deep_inside::data::{self, Digits};
use deep_inside::localise::localise;
use deep_inside::lrp::{Rules, relevance, totals};
use deep_inside::model::{Network, PIXELS, SIDE};
use deep_inside::saliency::{Method, signed};

/// The box of the ink (pixels > 0.1), as (x0, y0, x1, y1) inclusive.
fn ink_box(x: &[f32]) -> (usize, usize, usize, usize) {
    let mut b = (SIDE, SIDE, 0, 0);
    for (i, &v) in x.iter().enumerate() {
        if v > 0.1 {
            let (px, py) = (i % SIDE, i / SIDE);
            b = (b.0.min(px), b.1.min(py), b.2.max(px), b.3.max(py));
        }
    }
    b
}

fn iou(a: (usize, usize, usize, usize), b: (usize, usize, usize, usize)) -> f32 {
    let w = (a.2.min(b.2) + 1).saturating_sub(a.0.max(b.0));
    let h = (a.3.min(b.3) + 1).saturating_sub(a.1.max(b.1));
    let inter = (w * h) as f32;
    let area = |r: (usize, usize, usize, usize)| ((r.2 + 1 - r.0) * (r.3 + 1 - r.1)) as f32;
    inter / (area(a) + area(b) - inter)
}

fn main() {
    let device = backend::cpu();
    let net =
        Network::from_bytes(data::Dataset::Mnist.weights().unwrap(), &device).expect("weights");
    let converted = net.fc_as_conv([1, SIDE, SIDE]);
    let digits = Digits::mnist_heldout().expect("digits");
    let n = digits.len();
    println!(
        "| method | pointing game (argmax on a stroke pixel > 0.5) | mean IoU, box at q = 0.95 vs ink box (> 0.1) |"
    );
    println!("|---|---|---|");
    for method in Method::ALL {
        let (mut hits, mut ious) = (0, 0.0);
        for i in 0..n {
            let x0 = digits.image(i);
            let x =
                Tensor::<4>::from_data(TensorData::new(x0.clone(), [1, 1, SIDE, SIDE]), &device);
            let class = usize::from(digits.labels[i]);
            let map: Vec<f32> = signed(&net, &net.trace(x), class, method)
                .expect("map")
                .abs()
                .into_data()
                .try_to_vec()
                .expect("f32");
            let best = (0..PIXELS)
                .max_by(|&a, &b| map[a].total_cmp(&map[b]))
                .unwrap_or(0);
            hits += usize::from(x0[best] > 0.5);
            if let Some(b) = localise(&map, SIDE, SIDE, 0.95).expect("localise").bbox {
                ious += iou(
                    (b.x, b.y, b.x + b.width - 1, b.y + b.height - 1),
                    ink_box(&x0),
                );
            }
        }
        println!(
            "| {} | {:.1} % | {:.3} |",
            method.name(),
            100.0 * hits as f32 / n as f32,
            ious / n as f32
        );
    }
    println!();
    println!("| composite | mean ΣR_pixels / S_c |");
    println!("|---|---|");
    for preset in ["recommended", "epsilon", "zplus", "alpha2beta1"] {
        let rules = Rules::preset(preset).expect("preset");
        let mut sum = 0.0;
        for start in (0..n).step_by(100) {
            let images: Vec<f32> = (start..start + 100).flat_map(|i| digits.image(i)).collect();
            let x = Tensor::<4>::from_data(TensorData::new(images, [100, 1, SIDE, SIDE]), &device);
            for (k, i) in (start..start + 100).enumerate() {
                let class = usize::from(digits.labels[i]);
                // One class per call: run the digit alone for its own class.
                let xi = x.clone().narrow(0, k, 1);
                let r = relevance(&converted, xi, class, &rules).expect("lrp");
                let score: Vec<f32> = r.scores.into_data().try_to_vec().expect("f32");
                let total: Vec<f32> = totals(r.layers[0].full.clone())
                    .into_data()
                    .try_to_vec()
                    .expect("f32");
                sum += total[0] / score[class];
            }
        }
        println!("| {preset} | {:.3} |", sum / n as f32);
    }
}
