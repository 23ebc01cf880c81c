//! Does a network generalise to handwriting it has not seen? The 1,000 held-out digits,
//! degraded as another writer or scanner would degrade them — blurred, downsampled to 8×8 and
//! back, with thicker and with thinner strokes — and each shipped MNIST net's accuracy on each.
//!
//! `cargo run --release --example robustness`

use burn::tensor::{Tensor, TensorData};
use deep_inside::backend;
use deep_inside::data::{Digits, SIDE, Shipped};

/// An image transform on 28×28 intensities in [0, 1].
type Degrade = fn(&[f32]) -> Vec<f32>;

const DEGRADATIONS: [(&str, Degrade); 5] = [
    ("held-out digits as they are", |x| x.to_vec()),
    ("blurred (Gaussian, σ = 1 px)", blur),
    ("downsampled to 8×8 and back", downsample),
    ("thicker strokes (3×3 dilation)", thicker),
    ("thinner strokes (3×3 erosion)", thinner),
];

fn at(x: &[f32], row: i64, col: i64) -> Option<f32> {
    let side = SIDE as i64;
    ((0..side).contains(&row) && (0..side).contains(&col)).then(|| x[(row * side + col) as usize])
}

/// A 5×5 Gaussian blur with σ = 1, zero outside the image.
fn blur(x: &[f32]) -> Vec<f32> {
    let weights: Vec<f32> = (-2i64..=2).map(|d| (-(d * d) as f32 / 2.0).exp()).collect();
    let total: f32 = weights.iter().sum();
    let mut out = vec![0.0; x.len()];
    for row in 0..SIDE as i64 {
        for col in 0..SIDE as i64 {
            let mut v = 0.0;
            for (i, wy) in weights.iter().enumerate() {
                for (j, wx) in weights.iter().enumerate() {
                    v += wy * wx * at(x, row + i as i64 - 2, col + j as i64 - 2).unwrap_or(0.0);
                }
            }
            out[row as usize * SIDE + col as usize] = v / (total * total);
        }
    }
    out
}

/// Box-average to 8×8, then bilinear back to 28×28: a low-resolution scan.
fn downsample(x: &[f32]) -> Vec<f32> {
    const SMALL: usize = 8;
    let scale = SIDE as f32 / SMALL as f32;
    let mut small = [0f32; SMALL * SMALL];
    for (k, s) in small.iter_mut().enumerate() {
        let (r, c) = (k / SMALL, k % SMALL);
        let (r0, r1) = (
            (r as f32 * scale) as usize,
            ((r + 1) as f32 * scale) as usize,
        );
        let (c0, c1) = (
            (c as f32 * scale) as usize,
            ((c + 1) as f32 * scale) as usize,
        );
        let mut sum = 0.0;
        for row in r0..r1 {
            for col in c0..c1 {
                sum += x[row * SIDE + col];
            }
        }
        *s = sum / ((r1 - r0) * (c1 - c0)) as f32;
    }
    let sample = |v: f32| {
        let p = ((v + 0.5) / scale - 0.5).clamp(0.0, (SMALL - 1) as f32);
        let i = (p.floor() as usize).min(SMALL - 2);
        (i, p - i as f32)
    };
    let mut out = vec![0.0; x.len()];
    for row in 0..SIDE {
        let (i, fy) = sample(row as f32);
        for col in 0..SIDE {
            let (j, fx) = sample(col as f32);
            let v = |a: usize, b: usize| small[a * SMALL + b];
            out[row * SIDE + col] = (1.0 - fy) * ((1.0 - fx) * v(i, j) + fx * v(i, j + 1))
                + fy * ((1.0 - fx) * v(i + 1, j) + fx * v(i + 1, j + 1));
        }
    }
    out
}

/// Grey-level morphology with the 3×3 cross: `pick` is max (dilation) or min (erosion).
fn morph(x: &[f32], pick: fn(f32, f32) -> f32, outside: f32) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for row in 0..SIDE as i64 {
        for col in 0..SIDE as i64 {
            out[row as usize * SIDE + col as usize] = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]
                .iter()
                .map(|(dy, dx)| at(x, row + dy, col + dx).unwrap_or(outside))
                .fold(x[row as usize * SIDE + col as usize], pick);
        }
    }
    out
}

fn thicker(x: &[f32]) -> Vec<f32> {
    morph(x, f32::max, 0.0)
}

fn thinner(x: &[f32]) -> Vec<f32> {
    morph(x, f32::min, 0.0)
}

fn main() {
    let device = backend::cpu();
    let digits = Digits::mnist_heldout().expect("embedded held-out digits");
    let nets: Vec<_> = [Shipped::Mnist, Shipped::MnistDeep]
        .into_iter()
        .map(|m| (m, m.load(&device).expect("shipped model").network))
        .collect();
    println!(
        "| held-out digits (1,000) | {} |",
        nets.iter()
            .map(|(m, _)| m.name())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(nets.len()));
    for (name, degrade) in DEGRADATIONS {
        let images: Vec<f32> = (0..digits.len())
            .flat_map(|i| degrade(&digits.image(i)))
            .collect();
        let x = Tensor::<4>::from_data(
            TensorData::new(images, [digits.len(), 1, SIDE, SIDE]),
            &device,
        );
        let cells: Vec<String> = nets
            .iter()
            .map(|(_, net)| {
                let logits: Vec<f32> = net
                    .forward(x.clone())
                    .into_data()
                    .try_into_vec()
                    .expect("logits");
                let hits = logits
                    .chunks_exact(10)
                    .zip(&digits.labels)
                    .filter(|(row, label)| {
                        (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b]))
                            == Some(usize::from(**label))
                    })
                    .count();
                format!("{:.1} %", 100.0 * hits as f32 / digits.len() as f32)
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}
