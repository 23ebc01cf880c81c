//! Complexity (Quantus's group): how concentrated a map is. A concise map, a few pixels carrying
//! most of the attribution, is easier to read (Chalasani et al. 2020; Bhatt et al. 2020; Nguyen
//! & Martínez 2020). All three take the magnitude of the map normalised by its largest value,
//! as Quantus does by default; none needs the network.

use super::{check_map, normalise_by_max};
use crate::Error;

/// `|a| / max |a|`, Quantus's preprocessing here (`normalise=True, abs=True`).
fn magnitudes(map: &[f32]) -> Result<Vec<f64>, Error> {
    check_map(map)?;
    Ok(normalise_by_max(map).into_iter().map(f64::abs).collect())
}

/// Sparseness (Chalasani et al. 2020): the Gini index of the magnitudes, each raised by 10⁻⁷
/// (Quantus's guard for an all-zero map), sorted ascending:
/// `Σ_i (2i − n − 1)·a_(i) / (n·Σ a)`. 0 for a flat map, towards 1 when one value holds all.
/// Higher is better.
pub fn sparseness(map: &[f32]) -> Result<f64, Error> {
    let mut a: Vec<f64> = magnitudes(map)?.into_iter().map(|v| v + 1e-7).collect();
    a.sort_by(f64::total_cmp);
    let n = a.len() as f64;
    let weighted: f64 = a
        .iter()
        .enumerate()
        .map(|(i, v)| (2.0 * (i + 1) as f64 - n - 1.0) * v)
        .sum();
    Ok(weighted / (n * a.iter().sum::<f64>()))
}

/// Complexity (Bhatt et al. 2020): the entropy of the magnitudes as a distribution,
/// `p_i = |a_i| / Σ|a|`, `−Σ p_i ln(p_i + 10⁻¹²)`. 0 when one value holds all, `ln n` for a
/// flat map. Lower is better. An all-zero map has no distribution: NaN, as in Quantus.
pub fn complexity(map: &[f32]) -> Result<f64, Error> {
    let a = magnitudes(map)?;
    let total: f64 = a.iter().sum();
    Ok(-a
        .iter()
        .map(|v| v / total)
        .map(|p| p * (p + 1e-12).ln())
        .sum::<f64>())
}

/// Quantus's threshold for effective complexity.
pub const EFFECTIVE_EPSILON: f64 = 1e-5;

/// Effective complexity (Nguyen & Martínez 2020): how many normalised magnitudes exceed `eps`
/// (Quantus's default [`EFFECTIVE_EPSILON`]). Lower is better.
pub fn effective_complexity(map: &[f32], eps: f64) -> Result<usize, Error> {
    Ok(magnitudes(map)?.into_iter().filter(|&v| v > eps).count())
}
