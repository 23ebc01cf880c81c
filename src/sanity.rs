//! The model-randomisation sanity check (Adebayo et al. 2018, <https://arxiv.org/abs/1810.03292>): re-initialise the layers from the
//! top down and see whether a method's map changes. A map that stays the same once the weights
//! are random cannot be explaining what the network learned; the paper found guided backprop
//! and DeconvNet barely change, the gradient does. Maps are compared signed: magnitudes share a
//! border pattern (edge pixels feed fewer conv windows) whatever the weights.

use burn::tensor::Tensor;

use crate::Error;
use crate::attribution::gradient_times_input;
use crate::lrp::{Rules, relevance};
use crate::model::{Model, Network};
use crate::rng::SplitMix;
use crate::saliency::{Method, signed};

/// The seed of the page's re-initialisation: fixed, so the page shows the same check for the
/// same input.
pub const SEED: u64 = 2018;

/// The stages of the cascade: "trained", then each conv/linear layer re-initialised in turn
/// from the top, each stage keeping the layers above it random.
pub fn stages(model: &Model) -> Vec<String> {
    std::iter::once("trained".to_string())
        .chain(model.weighted().iter().rev().map(|l| l.name.clone()))
        .collect()
}

/// The network of every stage of [`stages`]: entry `s` has its top `s` weighted layers
/// replaced by a fresh He-uniform initialisation (the training's own) drawn from `seed`.
pub fn cascade(net: &Network, seed: u64) -> Result<Vec<Network>, Error> {
    let fresh = net.initialised(&mut SplitMix(seed))?;
    let mut stages = vec![net.clone()];
    let mut current = net.clone();
    for i in net.weighted().into_iter().rev() {
        current.layers[i] = fresh.layers[i].clone();
        stages.push(current.clone());
    }
    Ok(stages)
}

/// The methods the check compares, in the order [`maps`] returns them.
pub const METHODS: [&str; 5] = ["gradient", "gradientInput", "deconvnet", "guided", "lrp"];

/// Every method's signed map at every stage, for one image `x` `[1, c, h, w]`: one tensor
/// `[stages × methods, 1, h, w]`, stage-major, the maps summed over channels (one readback).
/// LRP uses `rules` on every stage.
pub fn maps(
    stages: &[Network],
    x: Tensor<4>,
    class: usize,
    rules: &Rules,
) -> Result<Tensor<4>, Error> {
    let mut maps = Vec::with_capacity(stages.len() * METHODS.len());
    for net in stages {
        let acts = net.trace(x.clone());
        maps.push(signed(net, &acts, class, Method::Gradient)?);
        maps.push(gradient_times_input(net, &acts, class)?);
        maps.push(signed(net, &acts, class, Method::Deconvnet)?);
        maps.push(signed(net, &acts, class, Method::Guided)?);
        maps.push(relevance(net, x.clone(), class, rules)?.pixels);
    }
    Ok(Tensor::cat(
        maps.into_iter().map(|m| m.sum_dim(1)).collect(),
        0,
    ))
}

/// Spearman's rank correlation of two equally long maps: Pearson's correlation of their
/// ranks, with tied values sharing their mean rank (maps have many exact zeros).
/// 0 when either map is constant.
pub fn spearman(a: &[f32], b: &[f32]) -> Result<f32, Error> {
    if a.len() != b.len() || a.len() < 2 {
        return Err(Error::argument(
            "maps",
            format!(
                "need two maps of the same length ≥ 2, got {} and {}",
                a.len(),
                b.len()
            ),
        ));
    }
    if let Some(i) = a.iter().chain(b).position(|v| !v.is_finite()) {
        return Err(Error::argument(
            "maps",
            format!("value {i} is not a finite number"),
        ));
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    Ok(if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        (cov / (va * vb).sqrt()) as f32
    })
}

/// Ranks from 1, ties sharing their mean rank.
fn ranks(v: &[f32]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        // Positions start..end hold equal values: each gets the mean of ranks start+1..=end.
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn spearman_of_monotone_and_reversed_maps() {
        let a = [0.1, 0.5, 0.2, 0.9];
        let squared: Vec<f32> = a.iter().map(|v| v * v).collect();
        let negated: Vec<f32> = a.iter().map(|v| -v).collect();
        assert!((spearman(&a, &squared).unwrap() - 1.0).abs() < 1e-6);
        assert!((spearman(&a, &negated).unwrap() + 1.0).abs() < 1e-6);
        assert_eq!(spearman(&a, &[1.0; 4]).unwrap(), 0.0);
        assert!(spearman(&a, &[1.0; 3]).is_err());
        assert!(spearman(&a, &[f32::NAN; 4]).is_err());
    }

    #[test]
    fn spearman_matches_a_hand_computation() {
        // Ranks (1, 2, 3, 4, 5) and (2, 1, 4, 3, 5): Σd² = 4, ρ = 1 − 6·4 / (5·24) = 0.8.
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
        assert!((rho - 0.8).abs() < 1e-6);
    }
}
