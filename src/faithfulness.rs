//! How faithful a map is to the network (Samek et al. 2017; Petsiuk et al. 2018): remove the
//! pixels the map ranks highest first, `k` per step, and track `p(c|x)`. A map that points at
//! what the network uses makes the probability fall fast (a low deletion AUC); putting those
//! pixels back into an empty image first makes it rise fast (a high insertion AUC). A random
//! order is the baseline every method should beat.

use burn::tensor::{Device, Tensor, TensorData, activation};

use crate::Error;
use crate::data::check_image;
use crate::model::Network;
use crate::rng::SplitMix;

/// Images per forward pass: bounds the memory of one batch.
const CHUNK: usize = 256;

/// Which way a curve perturbs the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perturbation {
    /// Start from `x`; set the ranked pixels to 0 (the background).
    Deletion,
    /// Start from the empty image; put the ranked pixels of `x` back.
    Insertion,
}

impl Perturbation {
    pub const ALL: [Perturbation; 2] = [Perturbation::Deletion, Perturbation::Insertion];

    pub fn name(self) -> &'static str {
        match self {
            Perturbation::Deletion => "deletion",
            Perturbation::Insertion => "insertion",
        }
    }
}

/// The pixels of a map of `[h, w]` values, highest value first (ties: lower index first).
pub fn ranking(map: &[f32], [h, w]: [usize; 2]) -> Result<Vec<usize>, Error> {
    check_image("map", map, [1, h, w])?;
    let mut order: Vec<usize> = (0..map.len()).collect();
    order.sort_by(|&a, &b| map[b].total_cmp(&map[a]).then(a.cmp(&b)));
    Ok(order)
}

/// A seeded random order of `pixels` pixels: the baseline.
pub fn random_ranking(pixels: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..pixels).collect();
    SplitMix(seed).shuffle(&mut order);
    order
}

/// Points on a curve over `pixels` pixels with `k` per step: from none to all changed.
pub fn points(pixels: usize, k: usize) -> usize {
    pixels.div_ceil(k) + 1
}

/// Checks the step size `k` for images of `pixels` pixels.
pub fn check_step(pixels: usize, k: usize) -> Result<(), Error> {
    if (1..=pixels).contains(&k) {
        Ok(())
    } else {
        Err(Error::argument(
            "k",
            format!("pixels per step must be 1..={pixels}, got {k}"),
        ))
    }
}

/// `p(c)` along the curve of every ranking, as one tensor: `rankings.len() × points(k)`
/// values, curve after curve. A ranking orders the `h·w` pixel positions; deleting a pixel
/// sets all its channels to 0. All curves' images run as batches on the device.
pub fn curves(
    net: &Network,
    pixels: &[f32],
    class: usize,
    rankings: &[Vec<usize>],
    k: usize,
    perturbation: Perturbation,
    device: &Device,
) -> Result<Tensor<1>, Error> {
    curves_with(net, pixels, class, rankings, k, perturbation, 0.0, device)
}

/// [`curves`] with another value for a removed pixel than 0 (Quantus's "black" baseline is the
/// image's smallest value, say).
#[allow(clippy::too_many_arguments)]
pub fn curves_with(
    net: &Network,
    pixels: &[f32],
    class: usize,
    rankings: &[Vec<usize>],
    k: usize,
    perturbation: Perturbation,
    baseline: f32,
    device: &Device,
) -> Result<Tensor<1>, Error> {
    check_image("pixels", pixels, net.input)?;
    let [c, h, w] = net.input;
    let positions = h * w;
    check_step(positions, k)?;
    if rankings.is_empty() || rankings.len() > 64 {
        return Err(Error::argument(
            "rankings",
            format!("1..=64 maps per call, got {}", rankings.len()),
        ));
    }
    if let Some(bad) = rankings.iter().find(|r| !is_permutation(r, positions)) {
        return Err(Error::argument(
            "rankings",
            format!(
                "each must order all {positions} pixels once, got {} entries",
                bad.len()
            ),
        ));
    }
    let n = points(positions, k);
    let len = pixels.len();
    let mut images: Vec<f32> = Vec::with_capacity(rankings.len() * n * len);
    for ranking in rankings {
        let mut image = match perturbation {
            Perturbation::Deletion => pixels.to_vec(),
            Perturbation::Insertion => vec![baseline; len],
        };
        images.extend(&image);
        for step in ranking.chunks(k) {
            for &i in step {
                for channel in 0..c {
                    let at = channel * positions + i;
                    image[at] = match perturbation {
                        Perturbation::Deletion => baseline,
                        Perturbation::Insertion => pixels[at],
                    };
                }
            }
            images.extend(&image);
        }
    }
    let rows = rankings.len() * n;
    let mut parts = Vec::with_capacity(rows.div_ceil(CHUNK));
    for start in (0..rows).step_by(CHUNK) {
        let end = (start + CHUNK).min(rows);
        let batch = images[start * len..end * len].to_vec();
        let x = Tensor::from_data(TensorData::new(batch, [end - start, c, h, w]), device);
        let p = activation::softmax(net.forward(x), 1);
        let classes = p.dims()[1];
        if class >= classes {
            return Err(Error::argument(
                "class",
                format!("the network has {classes} classes, got {class}"),
            ));
        }
        parts.push(
            p.slice([0..end - start, class..class + 1])
                .reshape([end - start]),
        );
    }
    Ok(Tensor::cat(parts, 0))
}

fn is_permutation(ranking: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    ranking.len() == n
        && ranking
            .iter()
            .all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
}

/// The normalised area under a curve of `n` points, by the trapezoid rule:
/// `(Σ s − s₀/2 − s_{n−1}/2) / (n − 1)`.
pub fn auc(curve: &[f32]) -> f32 {
    match curve {
        [] => 0.0,
        [only] => *only,
        [first, .., last] => {
            let sum: f32 = curve.iter().sum();
            (sum - first / 2.0 - last / 2.0) / (curve.len() - 1) as f32
        }
    }
}
