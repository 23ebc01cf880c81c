//! Randomisation (Quantus's group): does the map depend on what it claims to explain? Random
//! logit explains another class; efficient MPRT randomises the network bottom-up, beside the
//! top-down cascade of `crate::sanity`.

use burn::tensor::Tensor;

use super::{Explain, check_map, normalise_by_max, read};
use crate::Error;
use crate::model::Network;
use crate::rng::SplitMix;

/// Quantus's `ssim` as random logit calls it: scikit-image's SSIM of the two maps *flattened*
/// (a 1-D signal, so windows of 7 consecutive values that wrap from row to row), uniform
/// windows, sample covariances, `K₁ = 0.01`, `K₂ = 0.03`, `data_range` the spread of both maps
/// together, averaged over the windows that fit (the first and last 3 values are no centre).
pub fn ssim(a: &[f64], b: &[f64]) -> Result<f64, Error> {
    const WIN: usize = 7;
    if a.len() != b.len() || a.len() < WIN {
        return Err(Error::argument(
            "maps",
            format!(
                "need two maps of the same length ≥ {WIN}, got {} and {}",
                a.len(),
                b.len()
            ),
        ));
    }
    let (lo, hi) = a
        .iter()
        .chain(b)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let range = hi - lo;
    let (c1, c2) = ((0.01 * range).powi(2), (0.03 * range).powi(2));
    let np = WIN as f64;
    let cov_norm = np / (np - 1.0);
    let windows = a.len() - WIN + 1;
    let mut total = 0.0;
    for start in 0..windows {
        let (x, y) = (&a[start..start + WIN], &b[start..start + WIN]);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / np;
        let (ux, uy) = (mean(x), mean(y));
        let uxx = x.iter().map(|v| v * v).sum::<f64>() / np;
        let uyy = y.iter().map(|v| v * v).sum::<f64>() / np;
        let uxy = x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>() / np;
        let vx = cov_norm * (uxx - ux * ux);
        let vy = cov_norm * (uyy - uy * uy);
        let vxy = cov_norm * (uxy - ux * uy);
        total +=
            (2.0 * ux * uy + c1) * (2.0 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
    }
    Ok(total / windows as f64)
}

/// A class other than `class`, uniformly among the `classes − 1` others.
pub fn other_class(class: usize, classes: usize, rng: &mut SplitMix) -> usize {
    let pick = rng.below(classes - 1);
    if pick >= class { pick + 1 } else { pick }
}

/// Random logit (Sixt et al. 2020): the SSIM ([`ssim`]) between the map of `class` and the map
/// of `other` (see [`other_class`]), each normalised by its largest magnitude, signed (Quantus's
/// defaults). A map that explains the class should change with it: lower is better. `map` is
/// the explainer's map of `class` for `pixels`.
pub fn random_logit(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    other: usize,
    explain: &impl Explain,
) -> Result<f64, Error> {
    super::per_value(net, pixels, map)?;
    let [c, h, w] = net.input;
    let x = Tensor::from_data(
        burn::tensor::TensorData::new(pixels.to_vec(), [1, c, h, w]),
        &net.device(),
    );
    let off = read(explain.explain(net, x, other)?)?;
    ssim(&normalise_by_max(map), &normalise_by_max(&off))
}

/// The bottom-up cascade: stage 0 the network, stage `s` with its bottom `s` conv/linear layers
/// drawn afresh (He-uniform from `seed`, as `crate::sanity::cascade`, which goes top-down).
pub fn bottom_up(net: &Network, seed: u64) -> Result<Vec<Network>, Error> {
    let fresh = net.initialised(&mut SplitMix(seed))?;
    let mut stages = vec![net.clone()];
    let mut current = net.clone();
    for i in net.weighted() {
        current.layers[i] = fresh.layers[i].clone();
        stages.push(current.clone());
    }
    Ok(stages)
}

/// Quantus's `discrete_entropy`: the entropy (natural log) of the histogram of the values over
/// `bins` equal bins from their minimum to their maximum (NumPy's `histogram`; all values equal:
/// one bin, entropy 0).
pub fn discrete_entropy(map: &[f32], bins: usize) -> Result<f64, Error> {
    check_map(map)?;
    if bins == 0 {
        return Err(Error::argument("bins", "must be at least 1"));
    }
    let (lo, hi) = map
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let mut counts = vec![0usize; bins];
    let (lo, hi) = (f64::from(lo), f64::from(hi));
    for &v in map {
        let at = if hi > lo {
            (((f64::from(v) - lo) / (hi - lo)) * bins as f64) as usize
        } else {
            0
        };
        counts[at.min(bins - 1)] += 1;
    }
    let n = map.len() as f64;
    Ok(-counts
        .iter()
        .filter(|&&k| k > 0)
        .map(|&k| {
            let p = k as f64 / n;
            p * p.ln()
        })
        .sum::<f64>())
}

/// Efficient MPRT's result.
#[derive(Clone, Debug, PartialEq)]
pub struct EfficientMprt {
    /// The discrete entropy of the map at every stage of [`bottom_up`] (0: the trained network).
    pub entropies: Vec<f64>,
    /// `(H_last − H_0) / H_0`: the relative rise of the entropy once every layer is random.
    pub score: f64,
}

/// Quantus's number of histogram bins for efficient MPRT.
pub const EMPRT_BINS: usize = 100;

/// Efficient MPRT (Hedström et al. 2023, "sanity checks revisited"): randomise the layers
/// bottom-up and measure the map's complexity (its [`discrete_entropy`], raw values, `bins`
/// bins) rather than its similarity to the original; a map that explains the network turns
/// noisy once the network is noise. Higher is better.
pub fn efficient_mprt(
    net: &Network,
    pixels: &[f32],
    class: usize,
    explain: &impl Explain,
    seed: u64,
    bins: usize,
) -> Result<EfficientMprt, Error> {
    crate::data::check_image("pixels", pixels, net.input)?;
    let [c, h, w] = net.input;
    let x = Tensor::from_data(
        burn::tensor::TensorData::new(pixels.to_vec(), [1, c, h, w]),
        &net.device(),
    );
    let entropies = bottom_up(net, seed)?
        .iter()
        .map(|stage| discrete_entropy(&read(explain.explain(stage, x.clone(), class)?)?, bins))
        .collect::<Result<Vec<_>, _>>()?;
    let (first, last) = (entropies[0], entropies[entropies.len() - 1]);
    Ok(EfficientMprt {
        score: (last - first) / first,
        entropies,
    })
}
