//! Localisation (Quantus's group): does the map fall on the object? The ground truth is a mask
//! of the map's values; on digits, the ink (`x > 0.5`, [`ink`]), the only object there is. The
//! map is normalised by its largest magnitude and kept signed, as Quantus does by default, so
//! evidence against the class counts against the map.

use super::{check_map, normalise_by_max};
use crate::Error;

/// Where the ink is: the input values above [`INK`]. For a per-pixel map of a multi-channel
/// image, use one channel's worth (`pixels[..h·w]`) or combine the channels first.
pub fn ink(pixels: &[f32]) -> Vec<bool> {
    pixels.iter().map(|&v| v > INK).collect()
}

/// The ink threshold, in pixel units.
pub const INK: f32 = 0.5;

fn check(map: &[f32], mask: &[bool]) -> Result<(), Error> {
    check_map(map)?;
    if map.len() != mask.len() {
        return Err(Error::argument(
            "mask",
            format!("one entry per map value: {}, got {}", map.len(), mask.len()),
        ));
    }
    if !mask.contains(&true) {
        return Err(Error::argument(
            "mask",
            "is empty: there is nothing to localise (Quantus gives NaN)",
        ));
    }
    Ok(())
}

/// Pointing game (Zhang et al. 2018): does a largest value of the map lie in the mask? Every
/// value equal to the maximum counts, so a tie anywhere inside is a hit. Higher is better.
pub fn pointing_game(map: &[f32], mask: &[bool]) -> Result<bool, Error> {
    check(map, mask)?;
    let a = normalise_by_max(map);
    let max = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(a.iter().zip(mask).any(|(&v, &m)| m && v == max))
}

/// Relevance mass accuracy (Arras et al. 2022): the share of the map's sum inside the mask,
/// `Σ_{i∈mask} a_i / Σ_i a_i` (signed, so it can leave [0, 1] when the map has negative parts).
/// Higher is better.
pub fn relevance_mass_accuracy(map: &[f32], mask: &[bool]) -> Result<f64, Error> {
    check(map, mask)?;
    let a = normalise_by_max(map);
    let inside: f64 = a
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| v)
        .sum();
    Ok(inside / a.iter().sum::<f64>())
}

/// Relevance rank accuracy (Arras et al. 2022): of the `K = |mask|` highest values of the map,
/// the share inside the mask. Ties at the K-th value go to the lower index. Higher is better.
pub fn relevance_rank_accuracy(map: &[f32], mask: &[bool]) -> Result<f64, Error> {
    check(map, mask)?;
    let a = normalise_by_max(map);
    let k = mask.iter().filter(|m| **m).count();
    let mut order: Vec<usize> = (0..a.len()).collect();
    order.sort_by(|&i, &j| a[j].total_cmp(&a[i]).then(i.cmp(&j)));
    let hits = order[..k].iter().filter(|&&i| mask[i]).count();
    Ok(hits as f64 / k as f64)
}
