//! Robustness (Quantus's group): does the map stay put when the image barely changes? Each
//! metric explains `samples` noisy copies of the image (one batch on the device, seeded with
//! SplitMix64) and compares each map with the image's own.

use super::{Explain, explain_all, normalise_by_max, per_value};
use crate::Error;
use crate::model::Network;
use crate::rng::SplitMix;

/// How the copies are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise {
    /// Noisy copies, at least 1.
    pub samples: usize,
    /// Sensitivities: the half-width `r` of the uniform noise `U(−r, r)` (Quantus's
    /// `lower_bound`, 0.2). Lipschitz: the standard deviation of the normal noise (0.1).
    pub scale: f32,
    pub seed: u64,
}

impl Noise {
    /// Quantus's max- and avg-sensitivity defaults: 200 copies, `U(−0.2, 0.2)` on every value.
    pub const SENSITIVITY: Noise = Noise {
        samples: 200,
        scale: 0.2,
        seed: 0,
    };
    /// Quantus's local Lipschitz estimate defaults: 200 copies, `N(0, 0.1²)` on every value.
    pub const LIPSCHITZ: Noise = Noise {
        samples: 200,
        scale: 0.1,
        seed: 0,
    };

    fn check(&self) -> Result<(), Error> {
        if self.samples == 0 {
            return Err(Error::argument("samples", "must be at least 1"));
        }
        if !(self.scale.is_finite() && self.scale >= 0.0) {
            return Err(Error::argument(
                "scale",
                format!("must be finite and ≥ 0, got {}", self.scale),
            ));
        }
        Ok(())
    }
}

/// The noisy copies, one after another, and the maps of them.
fn copies(
    net: &Network,
    pixels: &[f32],
    noise: &Noise,
    draw: impl Fn(&mut SplitMix) -> f32,
    class: usize,
    explain: &impl Explain,
) -> Result<(Vec<f32>, Vec<Vec<f32>>), Error> {
    noise.check()?;
    let mut rng = SplitMix(noise.seed);
    let mut images = Vec::with_capacity(noise.samples * pixels.len());
    for _ in 0..noise.samples {
        images.extend(pixels.iter().map(|&p| p + draw(&mut rng)));
    }
    let maps = explain_all(explain, net, &images, class)?;
    Ok((images, maps))
}

fn same_length(map: &[f32], other: &[f32]) -> Result<(), Error> {
    if map.len() == other.len() {
        Ok(())
    } else {
        Err(Error::argument(
            "map",
            format!(
                "the explainer gives {} values per image, the map has {}",
                other.len(),
                map.len()
            ),
        ))
    }
}

/// `‖a(x) − a(x + δ_i)‖₂ / ‖a(x)‖₂` for every noisy copy `x + δ_i`, `δ ~ U(−r, r)` on every
/// value; the maps as the explainer gives them (no normalisation, signed; Quantus's default).
/// `map` is `explain(x)`.
pub fn sensitivities(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    explain: &impl Explain,
    noise: &Noise,
) -> Result<Vec<f64>, Error> {
    per_value(net, pixels, map)?;
    let r = noise.scale;
    let (_, maps) = copies(
        net,
        pixels,
        noise,
        |rng| (rng.uniform() * 2.0 - 1.0) * r,
        class,
        explain,
    )?;
    let norm = map
        .iter()
        .map(|&v| f64::from(v).powi(2))
        .sum::<f64>()
        .sqrt();
    maps.iter()
        .map(|other| {
            same_length(map, other)?;
            let diff = map
                .iter()
                .zip(other)
                .map(|(&a, &b)| f64::from(a - b).powi(2))
                .sum::<f64>()
                .sqrt();
            Ok(diff / norm)
        })
        .collect()
}

/// Max-sensitivity (Yeh et al. 2019): the largest of [`sensitivities`]. Lower is better.
pub fn max_sensitivity(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    explain: &impl Explain,
    noise: &Noise,
) -> Result<f64, Error> {
    let s = sensitivities(net, pixels, map, class, explain, noise)?;
    Ok(s.into_iter().fold(f64::NEG_INFINITY, f64::max))
}

/// Avg-sensitivity (Yeh et al. 2019): the mean of [`sensitivities`]. Lower is better.
pub fn avg_sensitivity(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    explain: &impl Explain,
    noise: &Noise,
) -> Result<f64, Error> {
    let s = sensitivities(net, pixels, map, class, explain, noise)?;
    Ok(s.iter().sum::<f64>() / s.len() as f64)
}

/// Local Lipschitz estimate (Alvarez-Melis & Jaakkola 2018): the largest
/// `‖â(x) − â(x')‖₂ / (‖x − x'‖₂ + 10⁻¹⁰)` over noisy copies `x' = x + N(0, σ²)`, each map `â`
/// normalised by its largest magnitude (Quantus's default). Lower is better.
pub fn local_lipschitz_estimate(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    explain: &impl Explain,
    noise: &Noise,
) -> Result<f64, Error> {
    per_value(net, pixels, map)?;
    let sigma = noise.scale;
    let (images, maps) = copies(
        net,
        pixels,
        noise,
        |rng| sigma * rng.normal(),
        class,
        explain,
    )?;
    let a = normalise_by_max(map);
    let mut best = f64::NEG_INFINITY;
    for (other, image) in maps.iter().zip(images.chunks(pixels.len())) {
        same_length(map, other)?;
        let b = normalise_by_max(other);
        let num = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        let den = pixels
            .iter()
            .zip(image)
            .map(|(&x, &y)| f64::from(x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        best = best.max(num / (den + 1e-10));
    }
    Ok(best)
}
