//! Figures over the 1,000 held-out images of each shipped model: the pointing game and
//! localisation IoU per method (paper §3.1), and ΣR_pixels / S_c per LRP composite.
//! `cargo run --release --example heldout_stats`

use burn::tensor::Tensor;
use deep_inside::backend;
use deep_inside::data::Shipped;
use deep_inside::localise::localise;
use deep_inside::lrp::{Rules, relevance, totals};
use deep_inside::saliency::{Method, signed};

type Rect = (usize, usize, usize, usize);

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32")
}

/// The box of the ink (pixels > 0.1) of a `side`-wide image, as (x0, y0, x1, y1) inclusive.
fn ink_box(x: &[f32], side: usize) -> Rect {
    let mut b = (side, side, 0, 0);
    for (i, &v) in x.iter().enumerate() {
        if v > 0.1 {
            let (px, py) = (i % side, i / side);
            b = (b.0.min(px), b.1.min(py), b.2.max(px), b.3.max(py));
        }
    }
    b
}

fn iou(a: Rect, b: Rect) -> f32 {
    let w = (a.2.min(b.2) + 1).saturating_sub(a.0.max(b.0));
    let h = (a.3.min(b.3) + 1).saturating_sub(a.1.max(b.1));
    let inter = (w * h) as f32;
    let area = |r: Rect| ((r.2 + 1 - r.0) * (r.3 + 1 - r.1)) as f32;
    inter / (area(a) + area(b) - inter)
}

fn main() {
    let device = backend::cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).expect("shipped model");
        let net = &model.network;
        let [_, side, width] = model.input();
        let images = shipped.dataset().heldout().expect("held-out images");
        let n = images.len();
        println!("\n{} ({} held-out images):\n", shipped.title(), n);
        println!(
            "| method | pointing game (argmax on a stroke pixel > 0.5) | mean IoU, box at q = 0.95 vs ink box (> 0.1) |"
        );
        println!("|---|---|---|");
        for method in Method::ALL {
            let (mut hits, mut ious) = (0, 0.0);
            for i in 0..n {
                let x0 = images.image(i);
                let x = model.image(&x0, &device).expect("image");
                let class = usize::from(images.labels[i]);
                let map = values(
                    signed(net, &net.trace(x), class, method)
                        .expect("map")
                        .abs(),
                );
                let best = (0..map.len())
                    .max_by(|&a, &b| map[a].total_cmp(&map[b]))
                    .unwrap_or(0);
                hits += usize::from(x0[best] > 0.5);
                if let Some(b) = localise(&map, width, side, 0.95).expect("localise").bbox {
                    ious += iou(
                        (b.x, b.y, b.x + b.width - 1, b.y + b.height - 1),
                        ink_box(&x0, width),
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
            let rules = Rules::preset(preset, &model).expect("preset");
            let mut sum = 0.0;
            for i in 0..n {
                let class = usize::from(images.labels[i]);
                let x = model.image(&images.image(i), &device).expect("image");
                let r = relevance(net, x, class, &rules).expect("lrp");
                let score = values(r.scores)[class];
                sum += values(totals(r.pixels))[0] / score;
            }
            println!("| {preset} | {:.3} |", sum / n as f32);
        }
    }
}
