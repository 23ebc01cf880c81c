//! Faithfulness (Quantus's group): does removing what the map ranks high change the network's
//! output, and in proportion? Removing means setting to Quantus's "black" baseline, the image's
//! smallest value (0 on the shipped digits).

use super::{Output, black, normalise_by_max, pearson, per_value, predict, trapezoid};
use crate::Error;
use crate::attribution::MAX_BATCH;
use crate::faithfulness::{Perturbation, check_step, curves_with, ranking};
use crate::model::Network;
use crate::rng::SplitMix;
use crate::sanity::spearman;

/// A perturbation curve and its area (Quantus's `calculate_auc`: the trapezoid rule, `dx = 1`,
/// not normalised).
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub curve: Vec<f32>,
    pub auc: f32,
}

impl Curve {
    fn new(curve: Vec<f32>) -> Self {
        let auc = trapezoid(&curve);
        Self { curve, auc }
    }
}

/// One value per pixel position: a per-value map summed over the channels.
fn per_pixel(net: &Network, map: &[f32]) -> Vec<f32> {
    let [c, h, w] = net.input;
    (0..h * w)
        .map(|i| (0..c).map(|ch| map[ch * h * w + i]).sum())
        .collect()
}

/// Pixel flipping (Bach et al. 2015): remove the pixels in the map's order, highest (signed)
/// value first, `features_in_step` per step, and record `p(c|·)` after each step (the curve
/// has `⌈h·w / k⌉` points and starts after the first step, as Quantus's). Lower AUC is better.
/// A pixel is a position: all its channels go at once (`crate::faithfulness::curves`).
pub fn pixel_flipping(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    features_in_step: usize,
) -> Result<Curve, Error> {
    let map = per_pixel(net, &per_value(net, pixels, map)?);
    let [_, h, w] = net.input;
    let order = ranking(&map, [h, w])?;
    let points = curves_with(
        net,
        pixels,
        class,
        &[order],
        features_in_step,
        Perturbation::Deletion,
        black(pixels),
        &net.device(),
    )?;
    Ok(Curve::new(super::read(points)?[1..].to_vec()))
}

/// Region perturbation (Samek et al. 2017): the image cut into `patch × patch` regions (over all
/// channels; when the size is not a multiple of `patch`, the grid overhangs by ⌊pad/2⌋ before
/// and ⌈pad/2⌉ after, as Quantus pads), ranked by the sum of the map over each, most relevant
/// first ("MoRF"); remove the first `regions` of them one at a time and record
/// `p(c|x) − p(c|·)` after each. Higher AUC is better.
pub fn region_perturbation(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    patch: usize,
    regions: usize,
) -> Result<Curve, Error> {
    let map = per_value(net, pixels, map)?;
    let [c, h, w] = net.input;
    if patch == 0 || patch > h.max(w) {
        return Err(Error::argument(
            "patch",
            format!("must be 1..={}, got {patch}", h.max(w)),
        ));
    }
    if regions == 0 {
        return Err(Error::argument("regions", "must be at least 1"));
    }
    // Quantus's `get_padding_size`: ⌊pad/2⌋ before, ⌈pad/2⌉ after.
    let before = |n: usize| (patch - n % patch) % patch / 2;
    let (top, left) = (before(h), before(w));
    let (rows, cols) = (h.div_ceil(patch), w.div_ceil(patch));
    // The in-image pixel positions of each region, row-major over the regions.
    let mut regions_at: Vec<Vec<usize>> = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for q in 0..cols {
            let mut at = Vec::new();
            for y in (r * patch..(r + 1) * patch).filter_map(|y| y.checked_sub(top)) {
                for x in (q * patch..(q + 1) * patch).filter_map(|x| x.checked_sub(left)) {
                    if y < h && x < w {
                        at.push(y * w + x);
                    }
                }
            }
            regions_at.push(at);
        }
    }
    let sums: Vec<f64> = regions_at
        .iter()
        .map(|at| {
            at.iter()
                .flat_map(|&i| (0..c).map(move |ch| ch * h * w + i))
                .map(|i| map[i] as f64)
                .sum()
        })
        .collect();
    let mut order: Vec<usize> = (0..sums.len()).collect();
    order.sort_by(|&a, &b| sums[b].total_cmp(&sums[a]).then(a.cmp(&b)));
    let fill = black(pixels);
    let mut image = pixels.to_vec();
    let mut images = pixels.to_vec();
    for &region in order.iter().take(regions) {
        for &i in &regions_at[region] {
            for ch in 0..c {
                image[ch * h * w + i] = fill;
            }
        }
        images.extend(&image);
    }
    let p = predict(net, &images, class, Output::Probability)?;
    Ok(Curve::new(p[1..].iter().map(|q| p[0] - q).collect()))
}

/// `k` distinct indices below `n`, uniformly (a partial Fisher–Yates shuffle).
fn choose(n: usize, k: usize, rng: &mut SplitMix) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + rng.below(n - i);
        all.swap(i, j);
    }
    all.truncate(k);
    all
}

/// Faithfulness correlation's removals of one image: `runs` random subsets of `subset` input
/// values, and the fall of the score `S_c(x) − S_c(x_subset removed)` for each. They do not
/// depend on the map: one draw serves every method's map of the image.
#[derive(Clone, Debug, PartialEq)]
pub struct Removals {
    pub subsets: Vec<Vec<usize>>,
    pub falls: Vec<f64>,
}

/// Draws the subsets (seeded) and runs the removals as one batch.
pub fn removals(
    net: &Network,
    pixels: &[f32],
    class: usize,
    runs: usize,
    subset: usize,
    seed: u64,
) -> Result<Removals, Error> {
    crate::data::check_image("pixels", pixels, net.input)?;
    let len = pixels.len();
    if !(1..=len).contains(&subset) {
        return Err(Error::argument(
            "subset",
            format!("must be 1..={len}, got {subset}"),
        ));
    }
    if runs < 2 {
        return Err(Error::argument("runs", "a correlation needs at least 2"));
    }
    let mut rng = SplitMix(seed);
    let fill = black(pixels);
    let mut images = pixels.to_vec();
    let mut subsets = Vec::with_capacity(runs);
    for _ in 0..runs {
        let chosen = choose(len, subset, &mut rng);
        let mut image = pixels.to_vec();
        for &i in &chosen {
            image[i] = fill;
        }
        images.extend(image);
        subsets.push(chosen);
    }
    let s = predict(net, &images, class, Output::Logit)?;
    let falls = s[1..].iter().map(|v| f64::from(s[0] - v)).collect();
    Ok(Removals { subsets, falls })
}

/// Faithfulness correlation (Bhatt et al. 2020): over `runs` random subsets of `subset` input
/// values, the Pearson correlation between the map's sum over the subset and the fall of the
/// score `S_c(x) − S_c(x_subset removed)`. Higher is better. 0 when either side is constant
/// (Quantus: NaN).
pub fn faithfulness_correlation(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    runs: usize,
    subset: usize,
    seed: u64,
) -> Result<f64, Error> {
    per_value(net, pixels, map)?;
    let removals = removals(net, pixels, class, runs, subset, seed)?;
    correlation_with(net, pixels, map, &removals)
}

/// Faithfulness correlation of `map` over removals already run ([`removals`]).
pub fn correlation_with(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    removals: &Removals,
) -> Result<f64, Error> {
    let map = normalise_by_max(&per_value(net, pixels, map)?);
    let sums: Vec<f64> = removals
        .subsets
        .iter()
        .map(|chosen| chosen.iter().map(|&i| map[i]).sum::<f64>())
        .collect();
    Ok(pearson(&sums, &removals.falls))
}

/// Monotonicity correlation's settings, Quantus's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Monotonicity {
    /// Random fills per step.
    pub samples: usize,
    /// Input values replaced per step.
    pub features_in_step: usize,
    /// Below this `|p(c|x)|` the variance is not divided by `p(c|x)²`.
    pub eps: f64,
    pub seed: u64,
}

impl Default for Monotonicity {
    fn default() -> Self {
        Self {
            samples: 100,
            features_in_step: 1,
            eps: 1e-5,
            seed: 0,
        }
    }
}

/// Monotonicity correlation (Nguyen & Martínez 2020): the input values in order of the map's
/// magnitude, smallest first, `features_in_step` at a time; each group alone is replaced by one
/// uniform random value `u ~ U[0, 1)` in `samples` copies, and its variance
/// `mean((p(c|x') − p(c|x))²) / p(c|x)²` set against its summed magnitude: Spearman's
/// correlation of the two. Higher is better.
pub fn monotonicity_correlation(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    settings: &Monotonicity,
) -> Result<f64, Error> {
    let map: Vec<f64> = normalise_by_max(&per_value(net, pixels, map)?)
        .into_iter()
        .map(f64::abs)
        .collect();
    let len = pixels.len();
    check_step(len, settings.features_in_step)?;
    if settings.samples == 0 {
        return Err(Error::argument("samples", "must be at least 1"));
    }
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| map[a].total_cmp(&map[b]).then(a.cmp(&b)));
    let p = predict(net, pixels, class, Output::Probability)?[0] as f64;
    let scale = if p.abs() >= settings.eps {
        1.0 / (p * p)
    } else {
        1.0
    };
    let mut rng = SplitMix(settings.seed);
    let steps: Vec<&[usize]> = order.chunks(settings.features_in_step).collect();
    let atts: Vec<f32> = steps
        .iter()
        .map(|step| step.iter().map(|&i| map[i]).sum::<f64>() as f32)
        .collect();
    // Several steps' copies per forward batch: a batch of one step's few copies is slow.
    let per_batch = (MAX_BATCH / settings.samples).max(1);
    let mut vars = Vec::with_capacity(steps.len());
    for group in steps.chunks(per_batch) {
        let mut images = Vec::with_capacity(group.len() * settings.samples * len);
        for step in group {
            for _ in 0..settings.samples {
                let u = rng.uniform();
                let mut image = pixels.to_vec();
                for &i in *step {
                    image[i] = u;
                }
                images.extend(image);
            }
        }
        let q = predict(net, &images, class, Output::Probability)?;
        for copies in q.chunks(settings.samples) {
            let var =
                copies.iter().map(|&v| (v as f64 - p).powi(2)).sum::<f64>() / copies.len() as f64;
            vars.push((var * scale) as f32);
        }
    }
    Ok(f64::from(spearman(&atts, &vars)?))
}
