//! Class model visualisation (paper §2): the image that the network scores highest for a
//! class, found by gradient ascent on the input with the weights frozen, and the same for any
//! unit or channel of a hidden layer (activation maximisation; Erhan et al. 2009, Olah et al.
//! 2017). It steps, so that the page can animate it, runs on any device, and steps a batch of
//! images at once: a layer atlas, restarts, or several diverse images.
//!
//! Beside the paper's plain step on the pixels, the regularisers that later work found
//! (`transform`, `param`, Adam, restarts, diversity) are switches of the same `Options`.

pub mod param;
pub mod transform;

use burn::optim::{Adam, AdamConfig, AdamState, Optimizer};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData, activation, module};

use crate::Error;
use crate::data::Dataset;
use crate::model::{Kind, Layer, Model, Network};
use crate::rng::SplitMix;
use param::Parameterisation;
use transform::Transform;

/// What the ascent maximises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// The paper's `S_c(x) − λ‖x‖²`: the raw score, so the image must look like c, not merely
    /// unlike the other classes.
    Score,
    /// The seed's `log p(c|x) − λ‖x‖²`.
    LogProb,
}

/// Where the ascent starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Start {
    /// Uniform noise in [0, 0.3), from the seed.
    Noise,
    /// The zero image plus the training-set mean image.
    Mean(Vec<f32>),
    /// A held-out digit.
    Image(Vec<f32>),
}

/// The ascent's settings; the regularisers are off by default.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub objective: Objective,
    /// λ, the weight of `‖x‖²`.
    pub lambda: f32,
    /// α, the step size.
    pub step: f32,
    pub start: Start,
    pub seed: u64,
    /// Clip x to the model's input range (the pixel box) after every step.
    pub clip: bool,
    /// Shift x randomly by up to this many pixels before each gradient (0: off).
    pub jitter: usize,
    /// Blur x with a 3×3 Gaussian every this many steps (0: off).
    pub blur_every: usize,
    /// Weight of the total variation `Σ (Δx)²` (0: off).
    pub total_variation: f32,
    /// Zoom by a random factor in `[1 − scale, 1 + scale]` before each gradient (0: off).
    pub scale: f32,
    /// Rotate by a random angle in `[−rotate, rotate]` degrees before each gradient (0: off).
    pub rotate: f32,
    /// Step on the image's Fourier coefficients, scaled by `1/f^fourier` (0: on the pixels).
    pub fourier: f32,
    /// Decode the parameters through a sigmoid into the pixel box.
    pub sigmoid: bool,
    /// Adam (learning rate α) instead of the plain step `x ← x + α∂L/∂x`.
    pub adam: bool,
    /// Start this many images per result and keep the best after `RESTART_STEPS` steps.
    pub restarts: usize,
    /// Images per unit (more than one: a batch, pushed apart by `diversity`).
    pub images: usize,
    /// Weight of the diversity term: the mean cosine similarity of the images' Gram matrices
    /// at the first conv layer, subtracted (0: off).
    pub diversity: f32,
}

impl Default for Options {
    /// Defaults that give recognisable digits in 200 steps (see BENCHMARKS.md): the paper's
    /// objective, λ small enough that the score wins, α large enough to get there quickly.
    fn default() -> Self {
        Self {
            objective: Objective::Score,
            lambda: DEFAULT_LAMBDA,
            step: DEFAULT_STEP,
            start: Start::Noise,
            seed: 0,
            clip: false,
            jitter: 0,
            blur_every: 0,
            total_variation: 0.0,
            scale: 0.0,
            rotate: 0.0,
            fourier: 0.0,
            sigmoid: false,
            adam: false,
            restarts: 1,
            images: 1,
            diversity: 0.0,
        }
    }
}

/// Steps after which restarts keep their best image.
pub const RESTART_STEPS: usize = 20;
/// The slope below zero of the leaky ReLU that a ReLU's unit is pushed through.
const LEAK: f32 = 0.01;
/// The most images one ascent steps at once (units × images × restarts).
pub const MAX_IMAGES: usize = 512;

/// The named settings (issue 20) and what each is for; `Options::preset` makes them.
pub const PRESETS: [(&str, &str); 3] = [
    (
        "paper",
        "§2 as published: gradient ascent on S_c − λ‖x‖² from faint noise, nothing else. The \
         image may leave the pixel box, and often fools only the network that made it.",
    ),
    (
        "readable",
        "The paper's ascent kept inside the pixel box, shifted by up to 2 pixels before each \
         gradient, blurred every 4 steps and smoothed by total variation (0.1): the settings \
         that independent judges recognised (BENCHMARKS.md, \"Class models a person can read\").",
    ),
    (
        "lucid",
        "\"readable\" stepped the way of lucid (Olah et al. 2017, Mordvintsev et al. 2018): Adam \
         (α 0.05) on the image's Fourier coefficients scaled by 1/f, and zoomed by ±10 % and \
         rotated by ±10° as well as shifted before each gradient. The judges' best on the \
         deeper MNIST net, and worse than \"readable\" on Fashion-MNIST (BENCHMARKS.md).",
    ),
];

pub const DEFAULT_LAMBDA: f32 = 0.05;
pub const DEFAULT_STEP: f32 = 0.1;
pub const DEFAULT_STEPS: usize = 200;

impl Options {
    /// A preset of `PRESETS` by name; "paper" is `Options::default()`.
    pub fn preset(name: &str) -> Result<Self, Error> {
        match name {
            "paper" => Ok(Self::default()),
            // Blur is left out: it lowered the judges' recognition (BENCHMARKS.md).
            "readable" => Ok(Self {
                clip: true,
                jitter: 2,
                total_variation: 0.1,
                ..Self::default()
            }),
            "lucid" => Ok(Self {
                fourier: 1.0,
                adam: true,
                step: 0.05,
                scale: 0.1,
                rotate: 10.0,
                ..Self::preset("readable")?
            }),
            other => Err(Error::argument(
                "preset",
                format!("expected \"paper\", \"readable\" or \"lucid\", got {other:?}"),
            )),
        }
    }

    /// Checks the numbers; the start was checked when it was made.
    pub fn check(&self) -> Result<(), Error> {
        if !self.lambda.is_finite() || self.lambda < 0.0 {
            return Err(Error::argument(
                "lambda",
                format!("must be a finite number ≥ 0, got {}", self.lambda),
            ));
        }
        if !self.step.is_finite() || self.step <= 0.0 {
            return Err(Error::argument(
                "step",
                format!("must be a finite number > 0, got {}", self.step),
            ));
        }
        if !self.total_variation.is_finite() || self.total_variation < 0.0 {
            return Err(Error::argument(
                "totalVariation",
                format!("must be a finite number ≥ 0, got {}", self.total_variation),
            ));
        }
        if self.jitter > 8 {
            return Err(Error::argument(
                "jitter",
                format!("must be at most 8 pixels, got {}", self.jitter),
            ));
        }
        let within = |name: &str, v: f32, max: f32| {
            if v.is_finite() && (0.0..=max).contains(&v) {
                Ok(())
            } else {
                Err(Error::argument(
                    name,
                    format!("must be a number from 0 to {max}, got {v}"),
                ))
            }
        };
        within("scale", self.scale, 0.5)?;
        within("rotate", self.rotate, 45.0)?;
        within("fourier", self.fourier, 3.0)?;
        within("diversity", self.diversity, 1000.0)?;
        for (name, v) in [("restarts", self.restarts), ("images", self.images)] {
            if !(1..=16).contains(&v) {
                return Err(Error::argument(
                    name,
                    format!("must be a whole number from 1 to 16, got {v}"),
                ));
            }
        }
        Ok(())
    }
}

/// A start by name: "noise", "mean" (of `dataset`'s training set) or "dataset" (held-out image
/// `index` of `dataset`, or one chosen by the seed when `index` is `None`).
pub fn start(
    name: &str,
    dataset: Option<Dataset>,
    index: Option<i64>,
    seed: u64,
) -> Result<Start, Error> {
    match name {
        "noise" => Ok(Start::Noise),
        "mean" => Ok(Start::Mean(self::dataset(dataset, "start")?.mean()?)),
        "dataset" => {
            let digits = self::dataset(dataset, "start")?.heldout()?;
            let i = match index {
                Some(i) if (0..digits.len() as i64).contains(&i) => i as usize,
                Some(i) => {
                    return Err(Error::argument(
                        "index",
                        format!("held-out digits are 0..{}, got {i}", digits.len() - 1),
                    ));
                }
                None => SplitMix(seed).below(digits.len()),
            };
            Ok(Start::Image(digits.image(i)))
        }
        other => Err(Error::argument(
            "start",
            format!("expected \"noise\", \"mean\" or \"dataset\", got {other:?}"),
        )),
    }
}

/// The model's data set, or why `what` needs one: a user's model comes without one.
pub fn dataset(dataset: Option<Dataset>, what: &str) -> Result<Dataset, Error> {
    dataset.ok_or_else(|| {
        Error::argument(
            what,
            "a user's model comes without a data set (no mean or held-out images)",
        )
    })
}

/// What an ascent maximises: units of one layer, one image (or `images`) each.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The layer (its index in the model's table); `None`: the classes' scores.
    pub layer: Option<usize>,
    /// The classes, or the channels (a dense layer's units) of `layer`.
    pub units: Vec<usize>,
    /// A channel's centre position instead of its mean over the positions.
    pub centre: bool,
}

impl Target {
    /// One class's score (or log-probability, by `Objective`).
    pub fn class(class: usize) -> Self {
        Self {
            layer: None,
            units: vec![class],
            centre: false,
        }
    }

    /// Units of the layer called `name` in the model's table (a dense layer's unit is a
    /// channel of one position), or all of its channels when `units` is `None`: a layer atlas.
    pub fn layer(
        model: &Model,
        name: &str,
        units: Option<Vec<usize>>,
        centre: bool,
    ) -> Result<Self, Error> {
        let Some(info) = model.table.iter().find(|l| l.name == name) else {
            let names: Vec<&str> = model.table.iter().map(|l| l.name.as_str()).collect();
            return Err(Error::argument(
                "layer",
                format!("no layer {name:?}; the layers are {}", names.join(", ")),
            ));
        };
        let channels = info.output[0];
        let units = units.unwrap_or_else(|| (0..channels).collect());
        if units.is_empty() {
            return Err(Error::argument("unit", "no unit to visualise"));
        }
        if let Some(&u) = units.iter().find(|&&u| u >= channels) {
            return Err(Error::argument(
                "unit",
                format!("{name} has units 0..{}, got {u}", channels - 1),
            ));
        }
        Ok(Self {
            layer: Some(info.index),
            units,
            centre,
        })
    }

    /// How many layers of the canonical network produce this target's layer (batch norms are
    /// merged into the layer before them and dropout is gone, so `conv1` of a net with batch
    /// norm means its output after the batch norm).
    fn depth(&self, model: &Model) -> usize {
        match self.layer {
            None => model.network.layers.len(),
            Some(t) => model.table[..=t]
                .iter()
                .filter(|l| !matches!(l.kind, Kind::BatchNorm | Kind::Dropout))
                .count(),
        }
    }
}

/// A running ascent.
pub struct Ascent {
    net: Network,
    bounds: [f32; 2],
    target: Target,
    /// Canonical layers up to the target's output.
    depth: usize,
    /// Canonical layers up to the first conv's output, for the diversity term.
    features: Option<usize>,
    options: Options,
    param: Parameterisation,
    /// The parameters, `[units × images × candidates, c, h, w]`, in that order.
    p: Tensor<4>,
    /// Restart candidates per image still running (1 once the best is kept).
    candidates: usize,
    /// One-hot rows picking each image's unit, `[images in p, units in the layer]`.
    mask: Tensor<2>,
    adam: Option<(Adam, Option<AdamState<4>>)>,
    steps: usize,
    rng: SplitMix,
}

/// The ascent after some steps, one row per image (unit-major, then `images`): `x` the images,
/// `scores` their `S(x)`, `activation` the unit's value (S_c, or log p(c) for `LogProb`; a
/// channel's mean or centre), and `objective` what the ascent maximises for each: the value
/// pushed (a ReLU's input for a ReLU's unit; a channel's mean counted once per position)
/// minus the penalties.
pub struct State {
    pub x: Tensor<4>,
    pub scores: Tensor<2>,
    pub activation: Tensor<1>,
    pub objective: Tensor<1>,
    pub steps: usize,
}

impl Ascent {
    /// The class model of `class`.
    pub fn new(
        model: &Model,
        class: i64,
        options: Options,
        device: &Device,
    ) -> Result<Self, Error> {
        let class = model.check_class("class", class)?;
        Self::of(model, Target::class(class), options, device)
    }

    /// The ascent for `target`'s units.
    pub fn of(
        model: &Model,
        target: Target,
        options: Options,
        device: &Device,
    ) -> Result<Self, Error> {
        options.check()?;
        let [c, h, w] = model.input();
        let n = target.units.len() * options.images * options.restarts;
        if n > MAX_IMAGES {
            return Err(Error::argument(
                "images",
                format!(
                    "{} units × {} images × {} restarts is {n} images; at most {MAX_IMAGES}",
                    target.units.len(),
                    options.images,
                    options.restarts
                ),
            ));
        }
        let [low, high] = model.config.input_range;
        let mut rng = SplitMix(options.seed);
        let one = model.input_len();
        // The first image's noise comes from the seed's generator, as it always has; the
        // other images' from a second one, so that every image meets the same transformations
        // (drawn from the first generator) whatever the batch.
        let mut apart = SplitMix(options.seed ^ 0x5EED_0F0A_71A5);
        let pixels: Vec<f32> = match &options.start {
            Start::Noise => {
                let noise = |rng: &mut SplitMix| low + (high - low) * 0.3 * rng.uniform();
                let first: Vec<f32> = (0..one).map(|_| noise(&mut rng)).collect();
                let rest = (one..n * one).map(|_| noise(&mut apart));
                first.into_iter().chain(rest).collect()
            }
            Start::Mean(v) | Start::Image(v) => {
                crate::data::check_image("start", v, model.input())?;
                // Images after the first start a little apart, or they would stay equal.
                let mut all = v.repeat(n);
                for p in &mut all[one..] {
                    *p += (high - low) * 0.1 * (apart.uniform() - 0.5);
                }
                all
            }
        };
        let x = Tensor::from_data(TensorData::new(pixels, [n, c, h, w]), device);
        let param = Parameterisation::new(
            [h, w],
            (options.fourier > 0.0).then_some(options.fourier),
            options.sigmoid,
            model.config.input_range,
            device,
        );
        let p = param.encode(x);
        // The deepest conv layer's features, after its ReLU (the pixels if there is none).
        let features = (options.diversity > 0.0 && options.images > 1).then(|| {
            let layers = &model.network.layers;
            layers
                .iter()
                .rposition(|l| matches!(l, Layer::Conv(_)))
                .map_or(0, |i| {
                    if matches!(layers.get(i + 1), Some(Layer::Relu(_))) {
                        i + 2
                    } else {
                        i + 1
                    }
                })
        });
        let adam = options
            .adam
            .then(|| (AdamConfig::new().with_epsilon(1e-8).build(), None));
        let mut ascent = Self {
            net: model.network.clone(),
            bounds: model.config.input_range,
            depth: target.depth(model),
            target,
            features,
            candidates: options.restarts,
            options,
            param,
            p,
            mask: Tensor::zeros([1, 1], device),
            adam,
            steps: 0,
            rng,
        };
        ascent.mask = ascent.one_hot(model, device);
        Ok(ascent)
    }

    fn one_hot(&self, model: &Model, device: &Device) -> Tensor<2> {
        let width = match self.target.layer {
            None => model.classes(),
            Some(t) => model.table[t].output[0],
        };
        let per_unit = self.options.images * self.candidates;
        let rows = self.target.units.len() * per_unit;
        let mut m = vec![0.0f32; rows * width];
        for (row, values) in m.chunks_exact_mut(width).enumerate() {
            values[self.target.units[row / per_unit]] = 1.0;
        }
        Tensor::from_data(TensorData::new(m, [rows, width]), device)
    }

    /// What the ascent steps on, `[images, c, h, w]`: the pixels, or the parameters that
    /// decode to them (`param`).
    pub fn parameters(&self) -> Tensor<4> {
        self.p.clone()
    }

    /// Takes `n` ascent steps and returns where it stands (with restarts still running, each
    /// image's best candidate so far).
    pub fn step(&mut self, n: usize) -> State {
        for _ in 0..n {
            self.next();
            self.steps += 1;
            if self.candidates > 1 && self.steps == RESTART_STEPS {
                self.p = self.best(self.p.clone());
                self.mask = self.keep_first_candidate(self.mask.clone());
                self.candidates = 1;
                if let Some((_, state)) = &mut self.adam {
                    *state = None;
                }
            }
        }
        let mut x = self.param.decode(self.p.clone());
        if self.options.clip && !self.param.is_pixels() {
            // Clipped, then encoded and decoded again: the round trip's last bits outside.
            x = x.clamp(self.bounds[0], self.bounds[1]);
        }
        let (x, scores, activation, objective) = if self.candidates > 1 {
            let x = self.best(x);
            let mask = self.keep_first_candidate(self.mask.clone());
            let (scores, activation, objective, _) = self.evaluate(x.clone(), &mask);
            (x, scores, activation, objective)
        } else {
            let (scores, activation, objective, _) = self.evaluate(x.clone(), &self.mask);
            (x, scores, activation, objective)
        };
        let rows = objective.dims()[0];
        State {
            x,
            scores,
            activation: activation.reshape([rows]),
            objective: objective.reshape([rows]),
            steps: self.steps,
        }
    }

    /// The scores, the activation and the objective of each image, `[n, 1]`, and the diversity
    /// penalty (a scalar, 0 when off).
    fn evaluate(
        &self,
        x: Tensor<4>,
        mask: &Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>, Tensor<2>, Tensor<1>) {
        let (scores, activation, objective, diversity) =
            self.objective_of(x.clone(), x, mask, true);
        let scores = scores.expect("the whole network ran");
        (scores, activation, objective, diversity)
    }

    /// As `evaluate`, with the network seeing `seen` (the transformed image) and the
    /// penalties taken on `x`; the scores only if `whole`, else the forward stops at the
    /// deepest layer it needs.
    fn objective_of(
        &self,
        x: Tensor<4>,
        seen: Tensor<4>,
        mask: &Tensor<2>,
        whole: bool,
    ) -> (Option<Tensor<2>>, Tensor<2>, Tensor<2>, Tensor<1>) {
        let o = &self.options;
        let n = x.dims()[0];
        let needed = if whole || self.target.layer.is_none() {
            self.net.layers.len()
        } else {
            self.depth.max(self.features.unwrap_or(0))
        };
        // acts[i]: the output of the first i layers.
        let mut acts = Vec::with_capacity(needed + 1);
        acts.push(seen);
        for layer in &self.net.layers[..needed] {
            let next = layer.forward(acts[acts.len() - 1].clone());
            acts.push(next);
        }
        let scores = (needed == self.net.layers.len()).then(|| {
            let [_, classes, _, _] = acts[needed].dims();
            acts[needed].clone().reshape([n, classes])
        });
        let features = self.features.map(|i| acts[i].clone());
        // A ReLU's unit is pushed through a leaky ReLU of its input: a channel that is off
        // everywhere has no gradient after the ReLU, and would never start. (Its input alone,
        // lucid's `pre_relu`, is linear in x: its mean is raised by a flat image.)
        let relu = self.depth > 0 && matches!(self.net.layers[self.depth - 1], Layer::Relu(_));
        let pushed = if self.target.layer.is_some() && relu {
            let pre = acts[self.depth - 1].clone();
            pre.clone().clamp_min(0.0) + pre.clamp_max(0.0).mul_scalar(LEAK)
        } else {
            acts[self.depth].clone()
        };
        let [_, c, h, w] = pushed.dims();
        let reduce = |t: Tensor<4>| -> Tensor<2> {
            if self.target.layer.is_none() {
                let scores = t.reshape([n, c]);
                match o.objective {
                    Objective::Score => scores,
                    Objective::LogProb => activation::log_softmax(scores, 1),
                }
            } else if self.target.centre {
                t.narrow(2, h / 2, 1).narrow(3, w / 2, 1).reshape([n, c])
            } else {
                t.mean_dims(&[2, 3]).reshape([n, c])
            }
        };
        let activation = (reduce(acts.swap_remove(self.depth)) * mask.clone()).sum_dim(1);
        let value = (reduce(pushed) * mask.clone()).sum_dim(1);
        // A channel's mean counts once per position against the penalties, as its sum would:
        // else λ‖x‖² outweighs a mean over hundreds of positions and the ascent goes nowhere.
        let positions = if self.target.layer.is_some() && !self.target.centre {
            (h * w) as f32
        } else {
            1.0
        };
        let mut objective = value.mul_scalar(positions)
            - (x.clone() * x.clone())
                .sum_dims(&[1, 2, 3])
                .reshape([n, 1])
                .mul_scalar(o.lambda);
        if o.total_variation > 0.0 {
            objective = objective - total_variation_each(x).mul_scalar(o.total_variation);
        }
        let diversity = match features {
            Some(f) if o.diversity > 0.0 => self.diversity(f).mul_scalar(o.diversity),
            _ => Tensor::zeros([1], &objective.device()),
        };
        (scores, activation, objective, diversity)
    }

    /// The mean cosine similarity between the feature maps of the images of each unit (and
    /// candidate), summed over the units: what the diversity term subtracts. Lucid's
    /// `diversity` compares Gram matrices, which forget where a feature lies; on a 28×28
    /// digit where it lies is what differs (BENCHMARKS.md), so the maps are compared whole.
    fn diversity(&self, f: Tensor<4>) -> Tensor<1> {
        let [n, c, h, w] = f.dims();
        let (k, r, d) = (self.options.images, self.candidates, c * h * w);
        let flat = f.reshape([n, d]);
        let norm = (flat.clone() * flat.clone())
            .sum_dim(1)
            .sqrt()
            .add_scalar(1e-8);
        let unit = flat / norm;
        // [units, images, candidates, d] → [units × candidates, images, d]
        let groups = unit
            .reshape([n / (k * r), k, r, d])
            .swap_dims(1, 2)
            .reshape([n / k, k, d]);
        let sims = groups.clone().matmul(groups.swap_dims(1, 2));
        // Off the diagonal (its n entries are 1), each pair counted twice.
        let off = sims.sum().sub_scalar(n as f32);
        off.div_scalar((k * (k - 1)) as f32)
    }

    /// Each image's best candidate, by its objective: rows `[units × images × candidates]` →
    /// `[units × images]`.
    fn best(&self, t: Tensor<4>) -> Tensor<4> {
        let r = self.candidates;
        let x = self.param.decode(self.p.clone());
        let (_, _, objective, _) = self.evaluate(x, &self.mask);
        let [n, c, h, w] = t.dims();
        let groups = n / r;
        let pick = objective
            .reshape([groups, r])
            .argmax(1)
            .reshape([groups, 1, 1]);
        t.reshape([groups, r, c * h * w])
            .gather(1, pick.expand([groups, 1, c * h * w]))
            .reshape([groups, c, h, w])
    }

    /// The rows of the first candidate of each image.
    fn keep_first_candidate(&self, m: Tensor<2>) -> Tensor<2> {
        let r = self.candidates;
        let [n, width] = m.dims();
        m.reshape([n / r, r, width])
            .narrow(1, 0, 1)
            .reshape([n / r, width])
    }

    /// This step's random transformation: jitter, then scale and rotation, as switched on.
    fn draw(&mut self) -> Transform {
        let o = &self.options;
        let j = o.jitter as i64;
        let mut t = Transform {
            scale: 1.0,
            ..Transform::default()
        };
        if j > 0 {
            let span = (2 * j + 1) as usize;
            let dx = self.rng.below(span) as i64 - j;
            let dy = self.rng.below(span) as i64 - j;
            t.shift = [dy, dx];
        }
        if o.scale > 0.0 {
            t.scale = 1.0 + o.scale * (2.0 * self.rng.uniform() - 1.0);
        }
        if o.rotate > 0.0 {
            t.angle = o.rotate * (2.0 * self.rng.uniform() - 1.0);
        }
        t
    }

    /// One step: the gradient of the objective with respect to the parameters, through the
    /// decode and this step's transformation; then the image-space regularisers.
    fn next(&mut self) {
        let transform = self.draw();
        let pa = self.p.clone().autodiff().require_grad();
        let x = self.param.decode(pa.clone());
        let seen = transform.apply(x.clone());
        let (_, _, objective, diversity) = self.objective_of(x, seen, &self.mask, false);
        let l = objective.sum() - diversity;
        let grads = l.backward();
        let g = pa.grad(&grads).unwrap_or_else(|| self.p.zeros_like());
        let o = &self.options;
        self.p = match &mut self.adam {
            // Adam descends: it is given −∂L/∂p.
            Some((adam, state)) => {
                let (p, s) = adam.step(o.step.into(), self.p.clone(), g.neg(), state.take());
                *state = s;
                p
            }
            None => self.p.clone() + g.mul_scalar(o.step),
        };
        let blur_now = o.blur_every > 0 && (self.steps + 1).is_multiple_of(o.blur_every);
        let clip_now = o.clip && !o.sigmoid;
        if blur_now || clip_now {
            let mut x = self.param.decode(self.p.clone());
            if blur_now {
                x = blur(x);
            }
            if clip_now {
                x = x.clamp(self.bounds[0], self.bounds[1]);
            }
            self.p = self.param.encode(x);
        }
    }
}

/// The total variation of each image, `[n, 1]`:
/// `Σ (x[i+1, j] − x[i, j])² + (x[i, j+1] − x[i, j])²`.
fn total_variation_each(x: Tensor<4>) -> Tensor<2> {
    let [n, _, h, w] = x.dims();
    let down = x.clone().narrow(2, 1, h - 1) - x.clone().narrow(2, 0, h - 1);
    let right = x.clone().narrow(3, 1, w - 1) - x.narrow(3, 0, w - 1);
    ((down.clone() * down).sum_dims(&[1, 2, 3]) + (right.clone() * right).sum_dims(&[1, 2, 3]))
        .reshape([n, 1])
}

/// A 3×3 Gaussian blur of each channel, with zero padding.
fn blur(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let k: Vec<f32> = [1., 2., 1., 2., 4., 2., 1., 2., 1.]
        .iter()
        .map(|v| v / 16.0)
        .collect();
    let kernel = Tensor::from_data(TensorData::new(k, [1, 1, 3, 3]), &x.device());
    let planes = x.reshape([n * c, 1, h, w]);
    module::conv2d(
        planes,
        kernel,
        None,
        ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
    )
    .reshape([n, c, h, w])
}

/// The objective on host values: `S_c` or `log p(c)`, minus the penalties; `x` has `shape`.
pub fn objective(
    options: &Options,
    class: usize,
    scores: &[f32],
    x: &[f32],
    shape: [usize; 3],
) -> f32 {
    let target = match options.objective {
        Objective::Score => scores[class],
        Objective::LogProb => crate::data::softmax(scores)[class]
            .max(f32::MIN_POSITIVE)
            .ln(),
    };
    let norm: f32 = x.iter().map(|v| v * v).sum();
    let mut tv = 0.0;
    if options.total_variation > 0.0 {
        let [c, h, w] = shape;
        for plane in x.chunks_exact(h * w).take(c) {
            for y in 0..h {
                for i in 0..w {
                    let v = plane[y * w + i];
                    if y + 1 < h {
                        tv += (plane[(y + 1) * w + i] - v).powi(2);
                    }
                    if i + 1 < w {
                        tv += (plane[y * w + i + 1] - v).powi(2);
                    }
                }
            }
        }
    }
    target - options.lambda * norm - options.total_variation * tv
}
