//! Axiomatic (Quantus's group): properties a map should have by construction. Completeness asks
//! that the map add up to the score's change from a baseline (Sundararajan et al. 2017);
//! input invariance that a shift of the input the network undoes leave the map alone
//! (Kindermans et al. 2019).

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::tensor::{Tensor, TensorData};

use super::{Explain, Output, black, per_value, predict, read};
use crate::Error;
use crate::model::{Layer, Network};

/// Completeness, measured rather than tested for exact equality.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Completeness {
    /// `Σ_i a_i`, the map as given (Quantus's default first divides it by its largest
    /// magnitude; see docs/METHODS.md).
    pub total: f64,
    /// `S_c(x) − S_c(b)`, `b` the black baseline (every value the image's smallest).
    pub difference: f64,
    /// Quantus's verdict: `total == difference`, exactly.
    pub holds: bool,
    /// `|total − difference| / |difference|` (0 when both are 0, ∞ when only the difference is).
    pub relative_error: f64,
}

/// Completeness of `map` for `class` against the black baseline.
pub fn completeness(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
) -> Result<Completeness, Error> {
    let map = per_value(net, pixels, map)?;
    let mut images = pixels.to_vec();
    images.extend(vec![black(pixels); pixels.len()]);
    let s = predict(net, &images, class, Output::Logit)?;
    let total: f64 = map.iter().map(|&v| f64::from(v)).sum();
    let difference = f64::from(s[0] - s[1]);
    let gap = (total - difference).abs();
    Ok(Completeness {
        total,
        difference,
        holds: map.iter().sum::<f32>() == s[0] - s[1],
        relative_error: if difference == 0.0 {
            if gap == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            gap / difference.abs()
        },
    })
}

/// `net` with its first layer's bias moved so that it undoes adding `shift` to every input
/// value: `b' = b − shift·Σ W` per output (Quantus's `add_mean_shift_to_first_layer`). The first
/// layer must be a conv without padding or a linear layer, where the shift is the same at every
/// output position.
pub fn shifted(net: &Network, shift: f32) -> Result<Network, Error> {
    let mut out = net.clone();
    let refuse = |why: &str| Error::layer(0, "first layer", why);
    match out.layers.first_mut() {
        Some(Layer::Conv(conv)) => {
            if !matches!(
                conv.padding,
                PaddingConfig2d::Valid | PaddingConfig2d::Explicit(0, 0, 0, 0)
            ) {
                return Err(refuse(
                    "a padded conv sees the shift only partly at the border",
                ));
            }
            let [o, ..] = conv.weight.dims();
            let sums = conv
                .weight
                .val()
                .sum_dim(3)
                .sum_dim(2)
                .sum_dim(1)
                .reshape([o]);
            let bias = conv
                .bias
                .as_ref()
                .map_or_else(|| sums.zeros_like(), |b| b.val());
            conv.bias = Some(Param::from_tensor(bias - sums.mul_scalar(shift)));
        }
        Some(Layer::Linear(linear)) => {
            let [_, o] = linear.weight.dims();
            let sums = linear.weight.val().sum_dim(0).reshape([o]);
            let bias = linear
                .bias
                .as_ref()
                .map_or_else(|| sums.zeros_like(), |b| b.val());
            linear.bias = Some(Param::from_tensor(bias - sums.mul_scalar(shift)));
        }
        _ => {
            return Err(refuse(
                "input invariance needs a conv or linear layer first",
            ));
        }
    }
    Ok(out)
}

/// Quantus's default input shift.
pub const SHIFT: f32 = -1.0;

/// Input invariance (Kindermans et al. 2019): explain `x + shift` on [`shifted`] (which gives the
/// same scores) and compare with `map`, the map of `x`: invariant when every value agrees,
/// `|a − a'| ≤ 10⁻⁴ + 10⁻⁵·|a'|` (NumPy's `isclose` with Quantus's tolerance).
pub fn input_invariance(
    net: &Network,
    pixels: &[f32],
    map: &[f32],
    class: usize,
    explain: &impl Explain,
    shift: f32,
) -> Result<bool, Error> {
    per_value(net, pixels, map)?;
    let moved = shifted(net, shift)?;
    let [c, h, w] = net.input;
    let x: Vec<f32> = pixels.iter().map(|p| p + shift).collect();
    let x = Tensor::from_data(TensorData::new(x, [1, c, h, w]), &net.device());
    let other = read(explain.explain(&moved, x, class)?)?;
    if other.len() != map.len() {
        return Err(Error::argument(
            "map",
            format!(
                "the explainer gives {} values, the map has {}",
                other.len(),
                map.len()
            ),
        ));
    }
    Ok(map
        .iter()
        .zip(&other)
        .all(|(&a, &b)| (a - b).abs() <= 1e-4 + 1e-5 * b.abs()))
}
