//! Three attributions beyond the paper's maps, all through the same walk (`crate::walk`) with
//! the gradient rule: gradient × input, SmoothGrad (Smilkov et al. 2017) and Integrated
//! Gradients (Sundararajan et al. 2017). SmoothGrad and Integrated Gradients need the gradient
//! at many images; each runs them as one batch: one forward trace, one walk.

use burn::tensor::{Device, Tensor, TensorData};

use crate::Error;
use crate::data::check_image;
use crate::model::Network;
use crate::rng::SplitMix;
use crate::saliency::{Method, signed};

/// Largest batch SmoothGrad or Integrated Gradients may ask for: it bounds the memory of one
/// forward trace (about 60 kB of activations per image).
pub const MAX_BATCH: usize = 256;

/// `∂S_c/∂x ⊙ x`: the gradient weighted by the input. On a network without biases it sums to
/// `S_c(x)` (ReLU networks are positively homogeneous), and it equals LRP-0.
/// `acts` is `net.trace(x)`.
pub fn gradient_times_input(
    net: &Network,
    acts: &[Tensor<4>],
    class: usize,
) -> Result<Tensor<4>, Error> {
    Ok(signed(net, acts, class, Method::Gradient)? * acts[0].clone())
}

/// SmoothGrad's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Smoothing {
    /// Noisy copies averaged, 1..=`MAX_BATCH`.
    pub samples: usize,
    /// Standard deviation of the noise as a fraction of the pixel range [0, 1], 0..=1.
    pub sigma: f32,
    pub seed: u64,
}

impl Default for Smoothing {
    /// Smilkov et al. found σ of 10–20 % of the range best; 32 samples keep the map smooth.
    fn default() -> Self {
        Self {
            samples: 32,
            sigma: 0.15,
            seed: 0,
        }
    }
}

impl Smoothing {
    pub fn check(&self) -> Result<(), Error> {
        if !(1..=MAX_BATCH).contains(&self.samples) {
            return Err(Error::argument(
                "samples",
                format!("must be 1..={MAX_BATCH}, got {}", self.samples),
            ));
        }
        if !(0.0..=1.0).contains(&self.sigma) {
            return Err(Error::argument(
                "sigma",
                format!(
                    "must be 0..=1 (a fraction of the pixel range), got {}",
                    self.sigma
                ),
            ));
        }
        Ok(())
    }
}

/// SmoothGrad: the mean of `∂S_c/∂x` over noisy copies `x + N(0, σ²)`, `[1, c, h, w]`, signed.
/// With σ = 0 every copy is `x`, and the result is the plain gradient.
pub fn smooth_grad(
    net: &Network,
    pixels: &[f32],
    class: usize,
    smoothing: &Smoothing,
    device: &Device,
) -> Result<Tensor<4>, Error> {
    check_image("pixels", pixels, net.input)?;
    smoothing.check()?;
    let n = smoothing.samples;
    let [c, h, w] = net.input;
    let mut rng = SplitMix(smoothing.seed);
    let mut batch = Vec::with_capacity(n * pixels.len());
    for _ in 0..n {
        batch.extend(pixels.iter().map(|&p| p + smoothing.sigma * rng.normal()));
    }
    let x = Tensor::from_data(TensorData::new(batch, [n, c, h, w]), device);
    Ok(signed(net, &net.trace(x), class, Method::Gradient)?.mean_dim(0))
}

/// Where Integrated Gradients' path starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The empty image (the background of MNIST and Fashion-MNIST).
    Black,
    /// The training-set mean image.
    Mean,
}

impl Baseline {
    /// "black" or "mean".
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "black" => Ok(Baseline::Black),
            "mean" => Ok(Baseline::Mean),
            other => Err(Error::argument(
                "baseline",
                format!("expected \"black\" or \"mean\", got {other:?}"),
            )),
        }
    }
}

/// Integrated Gradients' result, on the device.
#[derive(Clone, Debug)]
pub struct Integrated {
    /// `(x − b) ⊙ mean_k ∂S_c/∂x (b + t_k (x − b))`, `[1, c, h, w]`, signed.
    pub attribution: Tensor<4>,
    /// The scores at `x` and at the baseline, `[2, classes]`.
    pub scores: Tensor<2>,
}

/// Integrated Gradients from `baseline` to `pixels` with `steps` points (midpoint rule,
/// `t_k = (k + ½)/m`). The path points, `x` and the baseline go through the network as one
/// batch of `steps + 2` images.
pub fn integrated_gradients(
    net: &Network,
    pixels: &[f32],
    baseline: &[f32],
    class: usize,
    steps: usize,
    device: &Device,
) -> Result<Integrated, Error> {
    check_image("pixels", pixels, net.input)?;
    check_image("baseline", baseline, net.input)?;
    let [c, h, w] = net.input;
    if !(1..=MAX_BATCH - 2).contains(&steps) {
        return Err(Error::argument(
            "steps",
            format!("must be 1..={}, got {steps}", MAX_BATCH - 2),
        ));
    }
    let mut batch = Vec::with_capacity((steps + 2) * pixels.len());
    for k in 0..steps {
        let t = (k as f32 + 0.5) / steps as f32;
        batch.extend(pixels.iter().zip(baseline).map(|(&x, &b)| b + t * (x - b)));
    }
    batch.extend(pixels);
    batch.extend(baseline);
    let images = Tensor::from_data(TensorData::new(batch, [steps + 2, c, h, w]), device);
    let acts = net.trace(images);
    let gradients = signed(net, &acts, class, Method::Gradient)?;
    let path = gradients.slice(0..steps).mean_dim(0);
    let ends = acts[acts.len() - 1].clone().slice(steps..steps + 2);
    let [_, classes, _, _] = ends.dims();
    let x = Tensor::from_data(TensorData::new(pixels.to_vec(), [1, c, h, w]), device);
    let b = Tensor::from_data(TensorData::new(baseline.to_vec(), [1, c, h, w]), device);
    Ok(Integrated {
        attribution: path * (x - b),
        scores: ends.reshape([2, classes]),
    })
}

/// The completeness axiom, checked: IG's attributions should add up to `S_c(x) − S_c(b)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Completeness {
    /// `Σ_i attribution_i`.
    pub total: f32,
    /// `S_c(x) − S_c(baseline)`.
    pub difference: f32,
    /// `|total − difference| / |difference|` (0 when both are 0).
    pub relative_error: f32,
}

impl Completeness {
    /// From the read-back attribution and the `[2, classes]` scores of [`Integrated`].
    pub fn new(attribution: &[f32], scores: &[f32], class: usize) -> Self {
        let classes = scores.len() / 2;
        let total: f32 = attribution.iter().sum();
        let difference = scores[class] - scores[classes + class];
        let gap = (total - difference).abs();
        let relative_error = if difference == 0.0 {
            if gap == 0.0 { 0.0 } else { f32::INFINITY }
        } else {
            gap / difference.abs()
        };
        Self {
            total,
            difference,
            relative_error,
        }
    }
}
