//! Comparing explanation methods over a set of images, as Quantus's papers do (Hedström et al.
//! 2023, <https://jmlr.org/papers/v24/22-0142.html>): every metric of [`crate::metrics`] for
//! every method on every image, then per method and metric the mean with a 95 % bootstrap
//! interval, the quartiles of a box plot, and the methods' ranks.
//!
//! ```
//! # use deep_inside::{backend, data::Shipped, evaluation::*, lrp::Rules};
//! let model = Shipped::Mnist.load(&backend::cpu())?;
//! let digits = Shipped::Mnist.dataset().heldout()?;
//! let rules = Rules::preset("recommended", &model)?;
//! let evaluator = Evaluator::new(&model, rules, &[Method::Gradient, Method::Random],
//!     &[Metric::Sparseness, Metric::PixelFlipping], Settings::default())?;
//! let table = evaluator.evaluate(&digits.image(0), &[usize::from(digits.labels[0])], 0)?;
//! assert_eq!(table.values.len(), 2 * 2);
//! # Ok::<(), deep_inside::Error>(())
//! ```

use std::collections::BTreeMap;

use crate::Error;
use crate::attribution::Smoothing;
use crate::lrp::Rules;
use crate::metrics::axiomatic::{self, SHIFT};
use crate::metrics::complexity::{self, EFFECTIVE_EPSILON};
use crate::metrics::faithfulness::{self as faith, Monotonicity};
use crate::metrics::localisation::{self, ink};
use crate::metrics::randomisation::{self, EMPRT_BINS};
use crate::metrics::robustness::{self, Noise};
use crate::metrics::{Explain, Explainer, explain_all, read};
use crate::model::{Model, Network};
use crate::rng::SplitMix;
use crate::saliency::Method as Backprop;

/// The methods compared: the page's maps, and a random control that every metric should rank
/// last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Gradient,
    Deconvnet,
    Guided,
    GradientInput,
    SmoothGrad,
    IntegratedGradients,
    /// LRP with the recommended composite.
    Lrp,
    Random,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::Gradient,
        Method::Deconvnet,
        Method::Guided,
        Method::GradientInput,
        Method::SmoothGrad,
        Method::IntegratedGradients,
        Method::Lrp,
        Method::Random,
    ];

    /// The name in the API (the page's names of the maps).
    pub fn name(self) -> &'static str {
        match self {
            Method::Gradient => "gradient",
            Method::Deconvnet => "deconvnet",
            Method::Guided => "guided",
            Method::GradientInput => "gradientInput",
            Method::SmoothGrad => "smoothGrad",
            Method::IntegratedGradients => "integratedGradients",
            Method::Lrp => "lrp",
            Method::Random => "random",
        }
    }

    /// The name for people.
    pub fn title(self) -> &'static str {
        match self {
            Method::Gradient => "gradient",
            Method::Deconvnet => "DeconvNet",
            Method::Guided => "guided backprop",
            Method::GradientInput => "gradient × input",
            Method::SmoothGrad => "SmoothGrad",
            Method::IntegratedGradients => "Integrated Gradients",
            Method::Lrp => "LRP (recommended)",
            Method::Random => "random (control)",
        }
    }

    pub fn parse(name: &str) -> Result<Self, Error> {
        by_name(&Self::ALL, Self::name, name, "methods", "method")
    }
}

/// Which way a metric improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// The metrics, in Quantus's groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    PixelFlipping,
    RegionPerturbation,
    FaithfulnessCorrelation,
    MonotonicityCorrelation,
    MaxSensitivity,
    AvgSensitivity,
    LocalLipschitzEstimate,
    Sparseness,
    Complexity,
    EffectiveComplexity,
    RandomLogit,
    EfficientMprt,
    PointingGame,
    RelevanceMassAccuracy,
    RelevanceRankAccuracy,
    Completeness,
    InputInvariance,
}

/// What a metric is, for a table's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct About {
    /// The name in the API.
    pub name: &'static str,
    /// Quantus's class.
    pub quantus: &'static str,
    pub group: &'static str,
    pub better: Better,
    /// Re-explains many noisy copies or randomised networks: minutes over a set.
    pub costly: bool,
    /// What "better" means, in one line.
    pub meaning: &'static str,
}

impl Metric {
    pub const ALL: [Metric; 17] = [
        Metric::PixelFlipping,
        Metric::RegionPerturbation,
        Metric::FaithfulnessCorrelation,
        Metric::MonotonicityCorrelation,
        Metric::MaxSensitivity,
        Metric::AvgSensitivity,
        Metric::LocalLipschitzEstimate,
        Metric::Sparseness,
        Metric::Complexity,
        Metric::EffectiveComplexity,
        Metric::RandomLogit,
        Metric::EfficientMprt,
        Metric::PointingGame,
        Metric::RelevanceMassAccuracy,
        Metric::RelevanceRankAccuracy,
        Metric::Completeness,
        Metric::InputInvariance,
    ];

    pub fn about(self) -> About {
        use Better::{Higher, Lower};
        let (name, quantus, group, better, costly, meaning) = match self {
            Metric::PixelFlipping => (
                "pixelFlipping",
                "PixelFlipping",
                "faithfulness",
                Lower,
                false,
                "p(c) falls faster as the top-ranked pixels go black",
            ),
            Metric::RegionPerturbation => (
                "regionPerturbation",
                "RegionPerturbation",
                "faithfulness",
                Higher,
                false,
                "p(c) drops more as the top-ranked regions go black",
            ),
            Metric::FaithfulnessCorrelation => (
                "faithfulnessCorrelation",
                "FaithfulnessCorrelation",
                "faithfulness",
                Higher,
                false,
                "the map's sum over a removed subset tracks the score's fall",
            ),
            Metric::MonotonicityCorrelation => (
                "monotonicityCorrelation",
                "MonotonicityCorrelation",
                "faithfulness",
                Higher,
                false,
                "pixels with more attribution move p(c) more when changed",
            ),
            Metric::MaxSensitivity => (
                "maxSensitivity",
                "MaxSensitivity",
                "robustness",
                Lower,
                true,
                "the map changes less, at worst, under small noise",
            ),
            Metric::AvgSensitivity => (
                "avgSensitivity",
                "AvgSensitivity",
                "robustness",
                Lower,
                true,
                "the map changes less, on average, under small noise",
            ),
            Metric::LocalLipschitzEstimate => (
                "localLipschitzEstimate",
                "LocalLipschitzEstimate",
                "robustness",
                Lower,
                true,
                "the map moves less per unit of input change",
            ),
            Metric::Sparseness => (
                "sparseness",
                "Sparseness",
                "complexity",
                Higher,
                false,
                "a few pixels hold most of the attribution (Gini)",
            ),
            Metric::Complexity => (
                "complexity",
                "Complexity",
                "complexity",
                Lower,
                false,
                "lower entropy: the attribution is concentrated",
            ),
            Metric::EffectiveComplexity => (
                "effectiveComplexity",
                "EffectiveComplexity",
                "complexity",
                Lower,
                false,
                "fewer values above 1e-5 of the largest",
            ),
            Metric::RandomLogit => (
                "randomLogit",
                "RandomLogit",
                "randomisation",
                Lower,
                false,
                "the map for another class looks less alike (SSIM)",
            ),
            Metric::EfficientMprt => (
                "efficientMprt",
                "EfficientMPRT",
                "randomisation",
                Higher,
                true,
                "the map turns noisier once the network's weights are random",
            ),
            Metric::PointingGame => (
                "pointingGame",
                "PointingGame",
                "localisation",
                Higher,
                false,
                "the largest value lies on the ink (share of hits)",
            ),
            Metric::RelevanceMassAccuracy => (
                "relevanceMassAccuracy",
                "RelevanceMassAccuracy",
                "localisation",
                Higher,
                false,
                "more of the map's sum lies on the ink",
            ),
            Metric::RelevanceRankAccuracy => (
                "relevanceRankAccuracy",
                "RelevanceRankAccuracy",
                "localisation",
                Higher,
                false,
                "more of the top-|ink| values lie on the ink",
            ),
            Metric::Completeness => (
                "completeness",
                "Completeness",
                "axiomatic",
                Lower,
                false,
                "relative gap between Σ map and S_c(x) − S_c(black)",
            ),
            Metric::InputInvariance => (
                "inputInvariance",
                "InputInvariance",
                "axiomatic",
                Higher,
                false,
                "the map is unchanged by an input shift the network undoes (share)",
            ),
        };
        About {
            name,
            quantus,
            group,
            better,
            costly,
            meaning,
        }
    }

    pub fn name(self) -> &'static str {
        self.about().name
    }

    pub fn parse(name: &str) -> Result<Self, Error> {
        by_name(&Self::ALL, Self::name, name, "metrics", "metric")
    }

    /// Every metric but the costly ones.
    pub fn cheap() -> Vec<Metric> {
        Self::ALL
            .into_iter()
            .filter(|m| !m.about().costly)
            .collect()
    }
}

/// The settings of a set evaluation. Quantus's defaults where a set of 1,000 images affords
/// them; where it does not, the coarser setting is named here and in docs/METHODS.md.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Pixel flipping: pixels removed per step (28, one row's worth: 28 points; Quantus: 1).
    pub pixel_flipping_step: usize,
    /// Region perturbation: the side of a region and how many go (7 and 16: every region of a
    /// 28 × 28 image; Quantus: 8 and 100).
    pub region_patch: usize,
    pub regions: usize,
    /// Faithfulness correlation: random subsets and their size (Quantus: 100 of 224).
    pub correlation_runs: usize,
    pub correlation_subset: usize,
    /// Monotonicity correlation (28 values a step, 5 samples: 140 forward passes a map;
    /// Quantus: 1 and 100, 78,400).
    pub monotonicity: Monotonicity,
    /// Max- and avg-sensitivity's noisy copies (Quantus: 200).
    pub sensitivity: Noise,
    /// The local Lipschitz estimate's noisy copies (Quantus: 200).
    pub lipschitz: Noise,
    /// The methods' own settings: the page's defaults.
    pub smoothing: Smoothing,
    pub ig_steps: usize,
    /// Seeds the random control, random logit's other class and the randomised networks.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            pixel_flipping_step: 28,
            region_patch: 7,
            regions: 16,
            correlation_runs: 100,
            correlation_subset: 224,
            monotonicity: Monotonicity {
                samples: 5,
                features_in_step: 28,
                ..Monotonicity::default()
            },
            sensitivity: Noise {
                samples: 10,
                ..Noise::SENSITIVITY
            },
            lipschitz: Noise {
                samples: 10,
                ..Noise::LIPSCHITZ
            },
            smoothing: Smoothing::default(),
            ig_steps: 32,
            seed: 0,
        }
    }
}

/// Every metric of every method on a set of images: `values[(image · methods + method) ·
/// metrics + metric]`, NaN where a metric has no value for an image (an image without ink has
/// nothing to localise; a network whose first layer is padded has no input invariance).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub methods: Vec<Method>,
    pub metrics: Vec<Metric>,
    pub values: Vec<f64>,
}

/// Evaluates the chosen methods with the chosen metrics on one model.
pub struct Evaluator<'a> {
    model: &'a Model,
    methods: Vec<Method>,
    metrics: Vec<Metric>,
    explainers: Vec<Explainer>,
    settings: Settings,
    /// The network that undoes the input shift, where there is one.
    shifted: Option<Network>,
    /// Efficient MPRT's bottom-up cascade, drawn once.
    cascade: Vec<Network>,
}

impl<'a> Evaluator<'a> {
    /// `rules`: LRP's composite. Fails on an empty or repeated choice.
    pub fn new(
        model: &'a Model,
        rules: Rules,
        methods: &[Method],
        metrics: &[Metric],
        settings: Settings,
    ) -> Result<Self, Error> {
        check_choice("methods", methods)?;
        check_choice("metrics", metrics)?;
        settings.smoothing.check()?;
        let net = &model.network;
        let explainers = methods
            .iter()
            .map(|m| match m {
                Method::Gradient => Explainer::Backprop(Backprop::Gradient),
                Method::Deconvnet => Explainer::Backprop(Backprop::Deconvnet),
                Method::Guided => Explainer::Backprop(Backprop::Guided),
                Method::GradientInput => Explainer::GradientInput,
                Method::SmoothGrad => Explainer::SmoothGrad(settings.smoothing),
                Method::IntegratedGradients => Explainer::IntegratedGradients(settings.ig_steps),
                Method::Lrp => Explainer::Lrp(rules.clone()),
                Method::Random => Explainer::Random(settings.seed),
            })
            .collect();
        let shifted = if metrics.contains(&Metric::InputInvariance) {
            axiomatic::shifted(net, SHIFT).ok()
        } else {
            None
        };
        let cascade = if metrics.contains(&Metric::EfficientMprt) {
            randomisation::bottom_up(net, settings.seed)?
        } else {
            Vec::new()
        };
        Ok(Self {
            model,
            methods: methods.to_vec(),
            metrics: metrics.to_vec(),
            explainers,
            settings,
            shifted,
            cascade,
        })
    }

    /// Evaluates `images` (`n` images of `c·h·w` values, one after another), each for its
    /// class in `classes`. `first` is the index of the first image in the whole set: it seeds
    /// what is drawn per image, so that a set evaluated in chunks gives the values it gives in
    /// one go, up to float rounding (the maps are batched per class, and a batch's sums may
    /// round differently).
    pub fn evaluate(&self, images: &[f32], classes: &[usize], first: u64) -> Result<Table, Error> {
        check_set(self.model, images, classes)?;
        let net = &self.model.network;
        let len = self.model.input_len();
        // The maps, each method batched over the images of one class.
        let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, &c) in classes.iter().enumerate() {
            by_class.entry(c).or_default().push(i);
        }
        let mut maps = vec![Vec::new(); classes.len() * self.methods.len()];
        for (m, explainer) in self.explainers.iter().enumerate() {
            for (&class, members) in &by_class {
                let batch: Vec<f32> = members
                    .iter()
                    .flat_map(|&i| images[i * len..(i + 1) * len].iter().copied())
                    .collect();
                let explained = explain_all(explainer, net, &batch, class)?;
                for (&i, map) in members.iter().zip(explained) {
                    maps[i * self.methods.len() + m] = map;
                }
            }
        }
        let mut values = Vec::with_capacity(maps.len() * self.metrics.len());
        for (i, (image, &class)) in images.chunks(len).zip(classes).enumerate() {
            let index = first + i as u64;
            // Faithfulness correlation's removals do not depend on the map: one set per image.
            let removals = if self.metrics.contains(&Metric::FaithfulnessCorrelation) {
                let s = &self.settings;
                let seed = self.seed(index);
                let r = faith::removals(
                    net,
                    image,
                    class,
                    s.correlation_runs,
                    s.correlation_subset,
                    seed,
                );
                Some(r?)
            } else {
                None
            };
            for (m, explainer) in self.explainers.iter().enumerate() {
                let map = &maps[i * self.methods.len() + m];
                let mut sensitivities = None;
                for &metric in &self.metrics {
                    let v = self.metric(
                        metric,
                        image,
                        map,
                        class,
                        explainer,
                        index,
                        removals.as_ref(),
                        &mut sensitivities,
                    )?;
                    values.push(v);
                }
            }
        }
        Ok(Table {
            methods: self.methods.clone(),
            metrics: self.metrics.clone(),
            values,
        })
    }

    /// The seed of what is drawn for image `index` of the set: per image, so that chunks agree
    /// with one go.
    pub fn seed(&self, index: u64) -> u64 {
        SplitMix(self.settings.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next_u64()
    }

    /// One metric of one map; NaN where it has no value. `removals`: faithfulness
    /// correlation's, shared by the image's maps.
    #[allow(clippy::too_many_arguments)]
    fn metric(
        &self,
        metric: Metric,
        pixels: &[f32],
        map: &[f32],
        class: usize,
        explain: &Explainer,
        index: u64,
        removals: Option<&faith::Removals>,
        sensitivities: &mut Option<Vec<f64>>,
    ) -> Result<f64, Error> {
        let net = &self.model.network;
        let s = &self.settings;
        let seed = self.seed(index);
        let noise = |n: &Noise| Noise { seed, ..*n };
        let mask = ink(pixels);
        let localise = |f: fn(&[f32], &[bool]) -> Result<f64, Error>| {
            Ok(if mask.contains(&true) {
                f(map, &mask)?
            } else {
                f64::NAN
            })
        };
        Ok(match metric {
            Metric::PixelFlipping => f64::from(
                faith::pixel_flipping(net, pixels, map, class, s.pixel_flipping_step)?.auc,
            ),
            Metric::RegionPerturbation => f64::from(
                faith::region_perturbation(net, pixels, map, class, s.region_patch, s.regions)?.auc,
            ),
            Metric::FaithfulnessCorrelation => match removals {
                Some(r) => faith::correlation_with(net, pixels, map, r)?,
                None => faith::faithfulness_correlation(
                    net,
                    pixels,
                    map,
                    class,
                    s.correlation_runs,
                    s.correlation_subset,
                    seed,
                )?,
            },
            Metric::MonotonicityCorrelation => faith::monotonicity_correlation(
                net,
                pixels,
                map,
                class,
                &Monotonicity {
                    seed,
                    ..s.monotonicity
                },
            )?,
            Metric::MaxSensitivity | Metric::AvgSensitivity => {
                // Max- and avg-sensitivity share their noisy copies: explained once per map.
                if sensitivities.is_none() {
                    let noise = noise(&s.sensitivity);
                    *sensitivities = Some(robustness::sensitivities(
                        net, pixels, map, class, explain, &noise,
                    )?);
                }
                let all = sensitivities.as_deref().unwrap_or_default();
                if metric == Metric::MaxSensitivity {
                    all.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                } else {
                    all.iter().sum::<f64>() / all.len() as f64
                }
            }
            Metric::LocalLipschitzEstimate => robustness::local_lipschitz_estimate(
                net,
                pixels,
                map,
                class,
                explain,
                &noise(&s.lipschitz),
            )?,
            Metric::Sparseness => complexity::sparseness(map)?,
            Metric::Complexity => complexity::complexity(map)?,
            Metric::EffectiveComplexity => {
                complexity::effective_complexity(map, EFFECTIVE_EPSILON)? as f64
            }
            Metric::RandomLogit => {
                let other =
                    randomisation::other_class(class, self.model.classes(), &mut SplitMix(seed));
                randomisation::random_logit(net, pixels, map, other, explain)?
            }
            Metric::EfficientMprt => {
                let x = self.model.image(pixels, &net.device())?;
                let mut entropies = Vec::with_capacity(self.cascade.len());
                for stage in &self.cascade {
                    let m = read(explain.explain(stage, x.clone(), class)?)?;
                    entropies.push(randomisation::discrete_entropy(&m, EMPRT_BINS)?);
                }
                let (first, last) = (entropies[0], entropies[entropies.len() - 1]);
                (last - first) / first
            }
            Metric::PointingGame => localise(|map, mask| {
                Ok(f64::from(u8::from(localisation::pointing_game(map, mask)?)))
            })?,
            Metric::RelevanceMassAccuracy => localise(localisation::relevance_mass_accuracy)?,
            Metric::RelevanceRankAccuracy => localise(localisation::relevance_rank_accuracy)?,
            Metric::Completeness => {
                axiomatic::completeness(net, pixels, map, class)?.relative_error
            }
            Metric::InputInvariance => match &self.shifted {
                Some(moved) => {
                    let x: Vec<f32> = pixels.iter().map(|p| p + SHIFT).collect();
                    let x = self.model.image(&x, &net.device())?;
                    let other = read(explain.explain(moved, x, class)?)?;
                    let same = map
                        .iter()
                        .zip(&other)
                        .all(|(&a, &b)| (a - b).abs() <= 1e-4 + 1e-5 * b.abs());
                    f64::from(u8::from(same))
                }
                None => f64::NAN,
            },
        })
    }
}

/// The entry of `all` called `name`, or an error for `argument` listing the names.
fn by_name<T: Copy>(
    all: &[T],
    name_of: fn(T) -> &'static str,
    name: &str,
    argument: &str,
    noun: &str,
) -> Result<T, Error> {
    all.iter()
        .copied()
        .find(|&t| name_of(t) == name)
        .ok_or_else(|| {
            let names: Vec<_> = all.iter().map(|&t| name_of(t)).collect();
            Error::argument(
                argument,
                format!("unknown {noun} {name:?}; expected one of {names:?}"),
            )
        })
}

/// Checks a set before it is evaluated: `classes.len()` images of the model's input size
/// (finite values, named `pixels[i]` by their place in the set) and a class of the model each.
pub fn check_set(model: &Model, images: &[f32], classes: &[usize]) -> Result<(), Error> {
    let len = model.input_len();
    if images.len() != classes.len() * len {
        return Err(Error::argument(
            "pixels",
            format!(
                "{} classes need {} values ({len} per image), got {}",
                classes.len(),
                classes.len() * len,
                images.len()
            ),
        ));
    }
    for (i, image) in images.chunks(len).enumerate() {
        crate::data::check_image(&format!("pixels[{i}]"), image, model.input())?;
    }
    for &class in classes {
        model.check_class("classes", class as i64)?;
    }
    Ok(())
}

fn check_choice<T: PartialEq>(name: &str, choice: &[T]) -> Result<(), Error> {
    if choice.is_empty() {
        return Err(Error::argument(name, "choose at least one"));
    }
    if choice
        .iter()
        .enumerate()
        .any(|(i, a)| choice[..i].contains(a))
    {
        return Err(Error::argument(name, "names one twice"));
    }
    Ok(())
}

/// One method's values of one metric over a set, summarised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Images with a value (NaN left out).
    pub n: usize,
    pub mean: f64,
    /// The 95 % percentile bootstrap interval of the mean.
    pub low: f64,
    pub high: f64,
    /// A box plot's five numbers (NumPy's linear percentiles).
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// The `q`-quantile of sorted values, interpolated linearly (NumPy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
}

/// Resamples a percentile bootstrap draws (Efron & Tibshirani 1993).
pub const RESAMPLES: usize = 1000;

/// Mean, 95 % bootstrap interval (`resamples` resamples from `seed`) and quartiles of the
/// finite `values`.
pub fn summarise(values: &[f64], resamples: usize, seed: u64) -> Summary {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    let mut rng = SplitMix(seed);
    let mut means: Vec<f64> = (0..if n == 0 { 0 } else { resamples })
        .map(|_| (0..n).map(|_| v[rng.below(n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    Summary {
        n,
        mean,
        low: quantile(&means, 0.025),
        high: quantile(&means, 0.975),
        min: quantile(&v, 0.0),
        q1: quantile(&v, 0.25),
        median: quantile(&v, 0.5),
        q3: quantile(&v, 0.75),
        max: quantile(&v, 1.0),
    }
}

/// The ranks of the methods by their means, 1 the best; tied means share the average of their
/// ranks, and a method without a mean (NaN) ranks last.
pub fn ranks(means: &[f64], better: Better) -> Vec<f64> {
    let key = |v: f64| match better {
        _ if v.is_nan() => f64::INFINITY,
        Better::Higher => -v,
        Better::Lower => v,
    };
    let mut order: Vec<usize> = (0..means.len()).collect();
    order.sort_by(|&a, &b| key(means[a]).total_cmp(&key(means[b])));
    let mut out = vec![0.0; means.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && key(means[order[j + 1]]) == key(means[order[i]]) {
            j += 1;
        }
        for &k in &order[i..=j] {
            out[k] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    out
}

impl Table {
    /// Appends another chunk's rows (the same methods and metrics).
    pub fn extend(&mut self, other: Table) -> Result<(), Error> {
        if other.methods != self.methods || other.metrics != self.metrics {
            return Err(Error::argument(
                "table",
                "the chunks evaluate different methods or metrics",
            ));
        }
        self.values.extend(other.values);
        Ok(())
    }

    pub fn images(&self) -> usize {
        self.values.len() / (self.methods.len() * self.metrics.len()).max(1)
    }

    /// One method's values of one metric, one per image.
    pub fn column(&self, method: usize, metric: usize) -> Vec<f64> {
        let (m, k) = (self.methods.len(), self.metrics.len());
        (0..self.images())
            .map(|i| self.values[(i * m + method) * k + metric])
            .collect()
    }

    /// `summaries[method · metrics + metric]`.
    pub fn summaries(&self, seed: u64) -> Vec<Summary> {
        (0..self.methods.len())
            .flat_map(|m| (0..self.metrics.len()).map(move |k| (m, k)))
            .map(|(m, k)| summarise(&self.column(m, k), RESAMPLES, seed))
            .collect()
    }

    /// `ranks[method · metrics + metric]` from `summaries`, and each method's mean rank.
    pub fn ranks(&self, summaries: &[Summary]) -> (Vec<f64>, Vec<f64>) {
        let (m, k) = (self.methods.len(), self.metrics.len());
        let mut table = vec![0.0; m * k];
        for (j, metric) in self.metrics.iter().enumerate() {
            let means: Vec<f64> = (0..m).map(|i| summaries[i * k + j].mean).collect();
            for (i, r) in ranks(&means, metric.about().better).into_iter().enumerate() {
                table[i * k + j] = r;
            }
        }
        let mean = (0..m)
            .map(|i| table[i * k..(i + 1) * k].iter().sum::<f64>() / k as f64)
            .collect();
        (table, mean)
    }

    /// Every value as CSV: `image,method,metric,value`.
    pub fn csv(&self) -> String {
        let mut out = String::from("image,method,metric,value\n");
        let (m, k) = (self.methods.len(), self.metrics.len());
        for (at, v) in self.values.iter().enumerate() {
            let (i, method, metric) = (at / (m * k), at / k % m, at % k);
            out += &format!(
                "{i},{},{},{v}\n",
                self.methods[method].name(),
                self.metrics[metric].name()
            );
        }
        out
    }
}
