//! Evaluation metrics for one image and its map, one module per group of Quantus (Hedström et
//! al. 2023, <https://jmlr.org/papers/v24/22-0142.html>), with Quantus's names, definitions and
//! default settings, so that a number here means what it means there (docs/METHODS.md,
//! "Evaluation metrics", lists every formula and every place we differ).
//!
//! **Maps.** A map is one image's attribution as the methods give it: one value per input value,
//! `c·h·w` (channel-major, like `pixels`), or one value per pixel, `h·w`, which then stands for
//! every channel of that pixel (Quantus broadcasts a one-channel map over the channels the same
//! way). On the shipped one-channel models the two are the same. Maps are read back to the host:
//! the metrics are cheap sums and sorts over a few thousand values; the forward passes and
//! re-explanations they need run as batches on the network's device.
//!
//! **Re-explanations.** Robustness, randomisation and input invariance explain other images,
//! classes or networks: they take anything that implements [`Explain`], either one of the
//! crate's methods ([`Explainer`]) or a closure `|net, x, class| -> Result<Tensor<4>, Error>`.

pub mod axiomatic;
pub mod complexity;
pub mod faithfulness;
pub mod localisation;
pub mod randomisation;
pub mod robustness;

use burn::tensor::{Tensor, TensorData, activation};

use crate::Error;
use crate::attribution::{
    MAX_BATCH, Smoothing, gradient_times_input, integrated_gradients, smooth_grad,
};
use crate::data::check_image;
use crate::lrp::{Rules, relevance};
use crate::model::Network;
use crate::rng::SplitMix;
use crate::saliency::{Method, signed};

/// An explanation method, as the metrics that re-explain call it: the map of `class` for each
/// image of the batch `x` `[n, c, h, w]`, as `[n, c, h, w]` (or `[n, 1, h, w]`, one value per
/// pixel).
pub trait Explain {
    fn explain(&self, net: &Network, x: Tensor<4>, class: usize) -> Result<Tensor<4>, Error>;
}

impl<F> Explain for F
where
    F: Fn(&Network, Tensor<4>, usize) -> Result<Tensor<4>, Error>,
{
    fn explain(&self, net: &Network, x: Tensor<4>, class: usize) -> Result<Tensor<4>, Error> {
        self(net, x, class)
    }
}

/// The crate's methods, each giving its signed map (per value, `[n, c, h, w]`).
#[derive(Clone, Debug)]
pub enum Explainer {
    /// Gradient, DeconvNet or guided backprop (`crate::saliency::signed`).
    Backprop(Method),
    /// `∂S_c/∂x ⊙ x`.
    GradientInput,
    /// LRP's pixel relevance with these rules (they must fit the network explained).
    Lrp(Rules),
    /// SmoothGrad, one image at a time (its own batch is the noisy copies).
    SmoothGrad(Smoothing),
    /// Integrated Gradients from the black baseline (every value the image's smallest) with
    /// this many steps, one image at a time (its own batch is the path).
    IntegratedGradients(usize),
    /// A control that explains nothing: values drawn uniformly from [0, 1) (Quantus's
    /// `explain_func` "Random"), from this seed and the image, so that the same image gets the
    /// same map.
    Random(u64),
}

impl Explain for Explainer {
    fn explain(&self, net: &Network, x: Tensor<4>, class: usize) -> Result<Tensor<4>, Error> {
        match self {
            Explainer::Backprop(method) => signed(net, &net.trace(x), class, *method),
            Explainer::GradientInput => gradient_times_input(net, &net.trace(x), class),
            Explainer::Lrp(rules) => Ok(relevance(net, x, class, rules)?.pixels),
            Explainer::SmoothGrad(smoothing) => {
                let [n, ..] = x.dims();
                let device = x.device();
                let rows = (0..n)
                    .map(|i| {
                        let pixels = read(x.clone().slice(i..i + 1))?;
                        smooth_grad(net, &pixels, class, smoothing, &device)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Tensor::cat(rows, 0))
            }
            Explainer::IntegratedGradients(steps) => {
                let [n, ..] = x.dims();
                let device = x.device();
                let rows = (0..n)
                    .map(|i| {
                        let pixels = read(x.clone().slice(i..i + 1))?;
                        let baseline = vec![black(&pixels); pixels.len()];
                        let ig =
                            integrated_gradients(net, &pixels, &baseline, class, *steps, &device)?;
                        Ok(ig.attribution)
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                Ok(Tensor::cat(rows, 0))
            }
            Explainer::Random(seed) => {
                let dims = x.dims();
                let device = x.device();
                let pixels = read(x)?;
                let len = pixels.len() / dims[0];
                let values = pixels
                    .chunks(len)
                    .flat_map(|image| {
                        // The image's bits seed its map: the same image, the same map.
                        let hash = image.iter().fold(*seed, |h, v| {
                            SplitMix(h ^ u64::from(v.to_bits())).next_u64()
                        });
                        let mut rng = SplitMix(hash);
                        (0..len).map(move |_| rng.uniform())
                    })
                    .collect::<Vec<_>>();
                Ok(Tensor::from_data(TensorData::new(values, dims), &device))
            }
        }
    }
}

/// Explains a batch of images given on the host, `MAX_BATCH` at a time, and reads the maps back:
/// one `Vec` per image.
pub fn explain_all(
    explain: &impl Explain,
    net: &Network,
    images: &[f32],
    class: usize,
) -> Result<Vec<Vec<f32>>, Error> {
    let [c, h, w] = net.input;
    let len = c * h * w;
    let mut maps = Vec::with_capacity(images.len() / len);
    for chunk in images.chunks(MAX_BATCH * len) {
        let n = chunk.len() / len;
        let x = Tensor::from_data(TensorData::new(chunk.to_vec(), [n, c, h, w]), &net.device());
        let values = read(explain.explain(net, x, class)?)?;
        let per = values.len() / n;
        maps.extend(values.chunks(per).map(<[f32]>::to_vec));
    }
    Ok(maps)
}

/// Reads a tensor back to the host.
pub(crate) fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| Error::backend(format!("{e:?}")))
}

/// What the network's output is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The score `S_c`.
    Logit,
    /// `p(c|x)`, the softmax.
    Probability,
}

/// `S_c` or `p(c|·)` of every image in `images` (host values, `[n, c, h, w]` row-major), as
/// batches of up to `MAX_BATCH` on the network's device.
pub fn predict(
    net: &Network,
    images: &[f32],
    class: usize,
    output: Output,
) -> Result<Vec<f32>, Error> {
    let [c, h, w] = net.input;
    let len = c * h * w;
    let mut out = Vec::with_capacity(images.len() / len);
    for chunk in images.chunks(MAX_BATCH * len) {
        let n = chunk.len() / len;
        let x = Tensor::from_data(TensorData::new(chunk.to_vec(), [n, c, h, w]), &net.device());
        let scores = net.forward(x);
        let classes = scores.dims()[1];
        if class >= classes {
            return Err(Error::argument(
                "class",
                format!("the network has {classes} classes, got {class}"),
            ));
        }
        let scores = match output {
            Output::Logit => scores,
            Output::Probability => activation::softmax(scores, 1),
        };
        out.extend(read(scores.slice([0..n, class..class + 1]))?);
    }
    Ok(out)
}

/// Checks `pixels` against the network and `map` against the image: `c·h·w` or `h·w` finite
/// values. Returns the map with one value per input value (a per-pixel map repeated over the
/// channels).
pub fn per_value(net: &Network, pixels: &[f32], map: &[f32]) -> Result<Vec<f32>, Error> {
    check_image("pixels", pixels, net.input)?;
    check_map(map)?;
    let [c, h, w] = net.input;
    if map.len() == c * h * w {
        Ok(map.to_vec())
    } else if map.len() == h * w {
        Ok(map.repeat(c))
    } else {
        Err(Error::argument(
            "map",
            format!(
                "expected {} (c·h·w) or {} (h·w) values, got {}",
                c * h * w,
                h * w,
                map.len()
            ),
        ))
    }
}

/// Checks that a map is non-empty and finite.
pub fn check_map(map: &[f32]) -> Result<(), Error> {
    if map.is_empty() {
        return Err(Error::argument("map", "is empty"));
    }
    match map.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::argument(
            "map",
            format!("value {i} is {}, not a finite number", map[i]),
        )),
        None => Ok(()),
    }
}

/// Quantus's default normalisation (`normalise_by_max`): the map divided by its largest
/// magnitude, in f64; an all-zero map is left as it is.
pub fn normalise_by_max(map: &[f32]) -> Vec<f64> {
    let max = map.iter().fold(0f64, |m, &v| m.max(f64::from(v).abs()));
    let scale = if max == 0.0 { 1.0 } else { max };
    map.iter().map(|&v| f64::from(v) / scale).collect()
}

/// Quantus's "black" baseline: the smallest value of the image.
pub fn black(pixels: &[f32]) -> f32 {
    pixels.iter().copied().fold(f32::INFINITY, f32::min)
}

/// Pearson's correlation in f64; 0 when either side is constant (Quantus gives NaN there).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

/// Quantus's AUC (`calculate_auc`, NumPy's `trapz` with `dx = 1`): the trapezoid rule over the
/// curve's points, not normalised, `Σ s − s₀/2 − s_{n−1}/2`.
pub fn trapezoid(curve: &[f32]) -> f32 {
    match curve {
        [] | [_] => 0.0,
        [first, .., last] => curve.iter().sum::<f32>() - first / 2.0 - last / 2.0,
    }
}
