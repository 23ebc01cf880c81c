//! Properties over random sequential architectures (proptest, seeded, no regression files):
//! the walk is the chain rule and LRP keeps its laws for any valid shape, not just the shipped
//! ones; and an architecture that cannot work is refused with an error naming its layer,
//! never a panic.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::Cell;

use burn::module::{Module, Param, RunningState};
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, DropoutConfig, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor, TensorData};
use common::*;
use deep_inside::Error;
use deep_inside::lrp::{Rule, Rules, relevance, totals};
use deep_inside::model::config::{layer_names, symmetric_padding};
use deep_inside::model::{Layer, LayerConfig, Network, NetworkConfig, store};
use deep_inside::rng::SplitMix;
use deep_inside::saliency::{Method, signed};
use deep_inside::walk::PoolRule;
use proptest::array::uniform2;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Cases per property: each takes well under a millisecond on the CPU.
const CASES: u32 = 1000;

/// A fixed seed, [`CASES`] cases, and nothing written to disk: every run draws the same
/// architectures.
fn runner(seed: u8) -> TestRunner {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

/// A pooling layer as drawn; adapted to the shape at hand when the network is built.
#[derive(Clone, Debug)]
struct Pool {
    max: bool,
    kernel: usize,
    stride: usize,
    padding: usize,
    /// Max-pools only.
    dilation: usize,
    /// Average pools only.
    count_include_pad: bool,
}

/// Conv, then optionally batch norm, ReLU and a pool.
#[derive(Clone, Debug)]
struct Block {
    channels: usize,
    kernel: [usize; 2],
    stride: usize,
    padding: [usize; 2],
    /// burn's "same" padding where it is symmetric, else `padding`.
    same: bool,
    dilation: usize,
    bias: bool,
    batch_norm: bool,
    relu: bool,
    pool: Option<Pool>,
}

/// A dense layer before the last, with optional batch norm and ReLU.
#[derive(Clone, Debug)]
struct Hidden {
    features: usize,
    batch_norm: bool,
    relu: bool,
}

#[derive(Clone, Debug)]
struct Spec {
    input: [usize; 3],
    blocks: Vec<Block>,
    global_pool: bool,
    dropout: bool,
    hidden: Option<Hidden>,
    classes: usize,
    seed: u64,
}

fn pool() -> impl Strategy<Value = Pool> {
    (
        any::<bool>(),
        2usize..=3,
        1usize..=2,
        0usize..=1,
        1usize..=2,
        any::<bool>(),
    )
        .prop_map(
            |(max, kernel, stride, padding, dilation, count_include_pad)| Pool {
                max,
                kernel,
                stride,
                padding,
                dilation,
                count_include_pad,
            },
        )
}

fn block() -> impl Strategy<Value = Block> {
    (
        1usize..=4,
        uniform2(1usize..=5),
        1usize..=2,
        uniform2(0usize..=2),
        prop::bool::weighted(0.25),
        1usize..=2,
        any::<bool>(),
        any::<bool>(),
        // ReLUs are likely, so that many networks meet z⁺'s conditions (see below).
        prop::bool::weighted(0.8),
        prop::option::of(pool()),
    )
        .prop_map(
            |(channels, kernel, stride, padding, same, dilation, bias, batch_norm, relu, pool)| {
                Block {
                    channels,
                    kernel,
                    stride,
                    padding,
                    same,
                    dilation,
                    bias,
                    batch_norm,
                    relu,
                    pool,
                }
            },
        )
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::sample::select(vec![1usize, 3]),
        uniform2(6usize..=20),
        prop::collection::vec(block(), 1..=3),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(
            (1usize..=8, any::<bool>(), prop::bool::weighted(0.8)).prop_map(
                |(features, batch_norm, relu)| Hidden {
                    features,
                    batch_norm,
                    relu,
                },
            ),
        ),
        2usize..=10,
        any::<u64>(),
    )
        .prop_map(
            |(c, [h, w], blocks, global_pool, dropout, hidden, classes, seed)| Spec {
                input: [c, h, w],
                blocks,
                global_pool,
                dropout,
                hidden,
                classes,
                seed,
            },
        )
}

/// Output size of a window along one axis, if it fits.
fn window(
    n: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<usize> {
    let span = (kernel - 1) * dilation + 1;
    (span <= n + 2 * padding).then(|| (n + 2 * padding - span) / stride + 1)
}

/// Whether every window of a pool has a tap on the input (`0 ≤ o·s − p + j·d < n`).
fn on_the_input(n: usize, kernel: usize, stride: usize, padding: usize, dilation: usize) -> bool {
    let out = window(n, kernel, stride, padding, dilation).unwrap_or(0);
    (0..out).all(|o| {
        (0..kernel).any(|j| {
            (0..n as isize).contains(&((o * stride + j * dilation) as isize - padding as isize))
        })
    })
}

fn explicit([h, w]: [usize; 2]) -> PaddingConfig2d {
    PaddingConfig2d::Explicit(h, w, h, w)
}

impl Spec {
    /// The architecture, adapted so that every shape is valid: padding at most half the
    /// kernel; a conv that does not fit loses its dilation and shrinks to its input; a pool
    /// that does not fit, or has a window off the input, is left out.
    fn config(&self) -> NetworkConfig {
        let [mut channels, h, w] = self.input;
        let mut shape = [h, w];
        let mut layers = Vec::new();
        for b in &self.blocks {
            let (mut kernel, mut dilation) = (b.kernel, b.dilation);
            let pad = |kernel: [usize; 2]| [0, 1].map(|a| b.padding[a].min(kernel[a] / 2));
            let mut padding = pad(kernel);
            if (0..2).any(|a| window(shape[a], kernel[a], 1, padding[a], dilation).is_none()) {
                dilation = 1;
                kernel = [0, 1].map(|a| kernel[a].min(shape[a]));
                padding = pad(kernel);
            }
            let stride = [b.stride; 2];
            let mut config = Conv2dConfig::new([channels, b.channels], kernel)
                .with_stride(stride)
                .with_dilation([dilation; 2])
                .with_padding(explicit(padding))
                .with_bias(b.bias);
            if b.same
                && let Ok(same) = symmetric_padding(&PaddingConfig2d::Same, shape, kernel, stride)
                && (0..2).all(|a| window(shape[a], kernel[a], 1, same[a], dilation).is_some())
            {
                padding = same;
                config = config.with_padding(PaddingConfig2d::Same);
            }
            shape = [0, 1]
                .map(|a| window(shape[a], kernel[a], b.stride, padding[a], dilation).unwrap());
            channels = b.channels;
            layers.push(LayerConfig::Conv(config));
            if b.batch_norm {
                layers.push(LayerConfig::BatchNorm(BatchNormConfig::new(channels)));
            }
            if b.relu {
                layers.push(LayerConfig::Relu);
            }
            if let Some(p) = &b.pool {
                let padding = p.padding.min(p.kernel / 2);
                let dilation = if p.max { p.dilation } else { 1 };
                let out = shape.map(|n| window(n, p.kernel, p.stride, padding, dilation));
                let on = shape
                    .iter()
                    .all(|&n| on_the_input(n, p.kernel, p.stride, padding, dilation));
                if let ([Some(oh), Some(ow)], true) = (out, on) {
                    let (kernel, strides) = ([p.kernel; 2], [p.stride; 2]);
                    layers.push(if p.max {
                        LayerConfig::MaxPool(
                            MaxPool2dConfig::new(kernel)
                                .with_strides(strides)
                                .with_padding(explicit([padding; 2]))
                                .with_dilation([dilation; 2]),
                        )
                    } else {
                        LayerConfig::AvgPool(
                            AvgPool2dConfig::new(kernel)
                                .with_strides(strides)
                                .with_padding(explicit([padding; 2]))
                                .with_count_include_pad(p.count_include_pad),
                        )
                    });
                    shape = [oh, ow];
                }
            }
        }
        if self.global_pool {
            layers.push(LayerConfig::GlobalAvgPool);
            shape = [1, 1];
        }
        layers.push(LayerConfig::Flatten);
        let mut features = channels * shape[0] * shape[1];
        if self.dropout {
            layers.push(LayerConfig::Dropout(DropoutConfig::new(0.3)));
        }
        if let Some(hidden) = &self.hidden {
            layers.push(LayerConfig::Linear(LinearConfig::new(
                features,
                hidden.features,
            )));
            if hidden.batch_norm {
                layers.push(LayerConfig::BatchNorm(BatchNormConfig::new(
                    hidden.features,
                )));
            }
            if hidden.relu {
                layers.push(LayerConfig::Relu);
            }
            features = hidden.features;
        }
        layers.push(LayerConfig::Linear(LinearConfig::new(
            features,
            self.classes,
        )));
        NetworkConfig::new(self.input, layers)
    }
}

fn uniform(rng: &mut SplitMix, n: usize, low: f32, high: f32) -> Vec<f32> {
    (0..n).map(|_| low + (high - low) * rng.uniform()).collect()
}

fn vector(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// `config` with He-uniform weights, random biases, and batch norms whose statistics, scale
/// and shift are all random (some scales negative), so that merging them matters.
fn network(config: &NetworkConfig, seed: u64, device: &Device) -> Network {
    let mut rng = SplitMix(seed);
    let mut net = config.init(device).unwrap().initialised(&mut rng).unwrap();
    let bias = |b: &mut Option<Param<Tensor<1>>>, rng: &mut SplitMix| {
        if let Some(p) = b {
            let n = p.dims()[0];
            *p = Param::from_tensor(vector(uniform(rng, n, -0.3, 0.3), device));
        }
    };
    for layer in &mut net.layers {
        match layer {
            Layer::Conv(conv) => bias(&mut conv.bias, &mut rng),
            Layer::Linear(linear) => bias(&mut linear.bias, &mut rng),
            Layer::BatchNorm(bn) => {
                let n = bn.gamma.dims()[0];
                let gamma: Vec<f32> = uniform(&mut rng, n, 0.5, 1.5)
                    .into_iter()
                    .map(|g| if rng.uniform() < 0.2 { -g } else { g })
                    .collect();
                bn.gamma = Param::from_tensor(vector(gamma, device));
                bn.beta = Param::from_tensor(vector(uniform(&mut rng, n, -0.5, 0.5), device));
                bn.running_mean =
                    RunningState::new(vector(uniform(&mut rng, n, -0.5, 0.5), device));
                bn.running_var = RunningState::new(vector(uniform(&mut rng, n, 0.25, 2.0), device));
            }
            _ => {}
        }
    }
    net
}

/// Where z⁺ conserves relevance exactly: no biases (the canonical network's, merged batch
/// norms included, are zeroed), non-negative pixels, and a ReLU between any two weighted
/// layers, so that every inner layer sees non-negative activations. Then relevance is only
/// ever non-zero at units with `a > 0`, hence `z ≥ a > 0` and `z⁺ ≥ z > 0`: no unit drops what
/// it receives. The class is the one scoring highest, which must score above zero (the top's
/// relevance is `S_c`).
fn relu_between_weighted_layers(net: &Network) -> bool {
    net.weighted().windows(2).all(|pair| {
        net.layers[pair[0]..pair[1]]
            .iter()
            .any(|l| matches!(l, Layer::Relu(_)))
    })
}

fn ensure(what: &str, ok: bool, detail: String) -> Result<(), TestCaseError> {
    if ok {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!("{what}: {detail}")))
    }
}

/// What one architecture showed beyond passing: whether its gradient was non-zero, and
/// whether it met z⁺'s conditions.
struct Checked {
    live: bool,
    conserved: bool,
}

/// The walk's and LRP's laws on the network `spec` describes, on `device`.
fn laws(spec: &Spec, device: &Device) -> Result<Checked, TestCaseError> {
    let config = spec.config();
    let table = config
        .check()
        .map_err(|e| TestCaseError::fail(format!("the generator built an invalid net: {e}")))?;
    let stored = network(&config, spec.seed, device);
    let net = stored.canonical().unwrap();
    let [c, h, w] = config.input;
    let pixels = c * h * w;
    let classes = table.last().unwrap().output[0];
    let mut rng = SplitMix(spec.seed ^ 0x5EED);
    let class = rng.below(classes);

    // (a) The walk's gradient is autodiff's, through the stored network (batch norm and
    // dropout in place, in inference mode); the canonical network gives the same scores.
    let x = batch(&net, &uniform(&mut rng, 2 * pixels, -1.0, 1.0), device);
    let err = relative_error(
        &values(net.forward(x.clone())),
        &values(stored.forward(x.clone())),
    );
    ensure(
        "canonical scores",
        err <= 1e-4,
        format!("relative error {err}"),
    )?;
    let acts = net.trace(x.clone());
    let gradient = values(signed(&net, &acts, class, Method::Gradient).unwrap());
    let reference = autodiff_gradient(&stored.valid(), x.clone(), class);
    for (k, (a, b)) in gradient
        .chunks(pixels)
        .zip(reference.chunks(pixels))
        .enumerate()
    {
        let err = relative_error(a, b);
        ensure(
            "gradient",
            err <= 1e-4,
            format!("image {k}: relative error {err}"),
        )?;
    }

    // (b) LRP-0 is gradient × input.
    let zero = Rules {
        layers: vec![Rule::Zero; net.weighted().len()],
        max_pool: PoolRule::Gradient,
    };
    let lrp = values(relevance(&net, x.clone(), class, &zero).unwrap().pixels);
    let gxi: Vec<f32> = gradient.iter().zip(values(x)).map(|(g, x)| g * x).collect();
    for (k, (a, b)) in lrp.chunks(pixels).zip(gxi.chunks(pixels)).enumerate() {
        let err = relative_error(a, b);
        ensure(
            "LRP-0",
            err <= 1e-4,
            format!("image {k}: relative error {err}"),
        )?;
    }

    // (c) z⁺ conserves relevance at every layer, under the conditions above.
    let bare = net.without_biases();
    let positive = batch(&bare, &uniform(&mut rng, pixels, 0.05, 1.0), device);
    let scores = values(bare.forward(positive.clone()));
    let (best, score) = scores
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let conserved = relu_between_weighted_layers(&bare) && score > 0.0;
    if conserved {
        let z_plus = Rules {
            layers: vec![Rule::Z_PLUS; bare.weighted().len()],
            max_pool: PoolRule::Gradient,
        };
        let out = relevance(&bare, positive, best, &z_plus).unwrap();
        let layers = out.layers.iter().map(|l| (l.layer, l.full.clone()));
        for (layer, r) in layers.chain([(0, out.pixels)]) {
            let total = values(totals(r))[0];
            ensure(
                "z+ conservation",
                (total - score).abs() <= 1e-4 * score,
                format!("layer {layer}: ΣR {total} vs S_c {score}"),
            )?;
        }
    }
    Ok(Checked {
        live: gradient.iter().any(|&g| g != 0.0),
        conserved,
    })
}

/// (a)–(c) above on [`CASES`] random architectures, on every CPU backend compiled in.
#[test]
fn the_walk_and_lrp_hold_on_random_architectures() {
    let devices = deep_inside::backend::cpu_devices();
    let (live, conserved) = (Cell::new(0), Cell::new(0));
    let started = std::time::Instant::now();
    let result = runner(13).run(&spec(), |spec| {
        for (name, device) in &devices {
            let checked =
                laws(&spec, device).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            if *name == devices[0].0 {
                live.set(live.get() + u32::from(checked.live));
                conserved.set(conserved.get() + u32::from(checked.conserved));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "{CASES} architectures on {} in {:.1} s: {} with a non-zero gradient, {} checked for z⁺ conservation",
        devices
            .iter()
            .map(|d| d.0)
            .collect::<Vec<_>>()
            .join(" and "),
        started.elapsed().as_secs_f32(),
        live.get(),
        conserved.get()
    );
    // Most networks are alive and a good share meet z⁺'s conditions: the checks are not vacuous.
    assert!(
        4 * live.get() >= 3 * CASES,
        "too many dead networks: {}",
        live.get()
    );
    assert!(
        4 * conserved.get() >= CASES,
        "z⁺ checked on {} only",
        conserved.get()
    );
}

/// One way to break a valid architecture, and what the refusal must say.
#[derive(Clone, Copy, Debug)]
enum Breakage {
    /// A conv's or pool's kernel wider than its padded input.
    KernelTooLarge,
    /// A linear layer that takes more or fewer inputs than it is given.
    LinearInputs,
    /// A conv that takes more or fewer channels than it is given.
    ConvChannels,
    /// Padding that differs between the two sides.
    AsymmetricPadding,
    /// A pool padded by more than half its kernel.
    PoolPadding,
    /// A conv with no output channel.
    NoOutputs,
    /// A grouped conv.
    Groups,
    /// A stride of 0.
    ZeroStride,
    /// A pool in ceil mode.
    CeilMode,
    /// A batch norm inserted where it cannot be merged (after a ReLU, pool or flatten).
    BatchNormPlace,
    /// A batch norm after a conv whose ε is 0 (burn's own init would panic on it).
    BatchNormEpsilon,
    /// A batch norm after a conv with the wrong number of features.
    BatchNormFeatures,
    /// A dropout that drops everything.
    DropoutAll,
    /// No flatten before the first dense layer, on a spatial map.
    NoFlatten,
}

const BREAKAGES: [Breakage; 14] = [
    Breakage::KernelTooLarge,
    Breakage::LinearInputs,
    Breakage::ConvChannels,
    Breakage::AsymmetricPadding,
    Breakage::PoolPadding,
    Breakage::NoOutputs,
    Breakage::Groups,
    Breakage::ZeroStride,
    Breakage::CeilMode,
    Breakage::BatchNormPlace,
    Breakage::BatchNormEpsilon,
    Breakage::BatchNormFeatures,
    Breakage::DropoutAll,
    Breakage::NoFlatten,
];

/// Breaks layer `at` or the first layer after it (wrapping round) that `breakage` applies to.
/// Returns the broken architecture, the index of the layer to be named, and what the message
/// must say; `None` when no layer of this network can be broken that way.
fn broken(
    config: &NetworkConfig,
    breakage: Breakage,
    at: usize,
    delta: usize,
) -> Option<(NetworkConfig, usize, &'static str)> {
    let table = config.check().ok()?;
    let n = config.layers.len();
    let mut out = config.clone();
    for i in (0..n).map(|k| (at + k) % n) {
        let [c, h, w] = table[i].input;
        let layers = &mut out.layers;
        let says = match (&mut layers[i], breakage) {
            (LayerConfig::Conv(conv), Breakage::KernelTooLarge) => {
                let padding =
                    symmetric_padding(&conv.padding, [h, w], conv.kernel_size, conv.stride).ok()?;
                conv.kernel_size[0] = h + 2 * padding[0] + delta;
                conv.dilation = [1, 1];
                conv.padding = explicit(padding);
                "kernel spans"
            }
            (LayerConfig::MaxPool(pool), Breakage::KernelTooLarge) => {
                pool.kernel_size[1] = w + delta + 1;
                pool.padding = PaddingConfig2d::Valid;
                "kernel spans"
            }
            (LayerConfig::Linear(linear), Breakage::LinearInputs) => {
                linear.d_input = if delta.is_multiple_of(2) {
                    c + delta
                } else {
                    c - c.min(delta)
                };
                if linear.d_input == c {
                    linear.d_input = c + 1;
                }
                "takes"
            }
            (LayerConfig::Conv(conv), Breakage::ConvChannels) => {
                conv.channels[0] = c + delta;
                "channels"
            }
            (LayerConfig::Conv(conv), Breakage::AsymmetricPadding) => {
                conv.padding = PaddingConfig2d::Explicit(0, 1, delta, 1);
                "not symmetric"
            }
            (LayerConfig::AvgPool(pool), Breakage::PoolPadding) => {
                pool.padding = explicit([pool.kernel_size[0] / 2 + delta, 0]);
                "more than half"
            }
            (LayerConfig::Conv(conv), Breakage::NoOutputs) => {
                conv.channels[1] = 0;
                "at least one output"
            }
            (LayerConfig::Conv(conv), Breakage::Groups) => {
                conv.groups = 1 + delta;
                "groups"
            }
            (LayerConfig::Conv(conv), Breakage::ZeroStride) => {
                let padding =
                    symmetric_padding(&conv.padding, [h, w], conv.kernel_size, conv.stride).ok()?;
                conv.padding = explicit(padding);
                conv.stride[delta % 2] = 0;
                "at least 1"
            }
            (LayerConfig::MaxPool(pool), Breakage::CeilMode) => {
                pool.ceil_mode = true;
                "ceil mode"
            }
            (LayerConfig::Relu | LayerConfig::Flatten, Breakage::BatchNormPlace) => {
                layers.insert(i + 1, LayerConfig::BatchNorm(BatchNormConfig::new(c)));
                return Some((out, i + 1, "must follow a conv or linear"));
            }
            (LayerConfig::Conv(conv), Breakage::BatchNormEpsilon) => {
                let bn = BatchNormConfig::new(conv.channels[1]).with_epsilon(0.0);
                layers.insert(i + 1, LayerConfig::BatchNorm(bn));
                return Some((out, i + 1, "epsilon"));
            }
            (LayerConfig::Conv(conv), Breakage::BatchNormFeatures) => {
                let bn = BatchNormConfig::new(conv.channels[1] + delta);
                layers.insert(i + 1, LayerConfig::BatchNorm(bn));
                return Some((out, i + 1, "normalises"));
            }
            (LayerConfig::Dropout(d), Breakage::DropoutAll) => {
                d.prob = 1.0;
                "probability"
            }
            (LayerConfig::Flatten, Breakage::NoFlatten) if h * w > 1 => {
                layers.remove(i);
                // The first dense layer (after the dropout, if any) now sees the spatial map.
                let dense =
                    (i..layers.len()).find(|&j| matches!(layers[j], LayerConfig::Linear(_)))?;
                return Some((out, dense, "add a Flatten"));
            }
            _ => continue,
        };
        return Some((out, i, says));
    }
    None
}

#[test]
fn broken_architectures_are_refused_naming_the_layer() {
    let device = cpu();
    let refused = Cell::new(0);
    let strategy = (
        spec(),
        prop::sample::select(BREAKAGES.to_vec()),
        0usize..64,
        1usize..=6,
    );
    let result = runner(29).run(&strategy, |(spec, breakage, at, delta)| {
        let valid = spec.config();
        prop_assert!(valid.check().is_ok());
        let Some((config, index, says)) = broken(&valid, breakage, at, delta) else {
            return Ok(());
        };
        let err = match config.check() {
            Ok(_) => return Err(TestCaseError::fail(format!("{breakage:?} was accepted"))),
            Err(e) => e,
        };
        let text = err.to_string();
        let name = &layer_names(&config.layers)[index];
        let named = matches!(&err, Error::Architecture { layer: Some(l), .. } if l.index == index && l.name == *name);
        prop_assert!(named, "{breakage:?}: expected layer {index} ({name}), got {err:?}");
        prop_assert!(
            text.starts_with(&format!("layer {index} ({name}): ")) && text.contains(says),
            "{breakage:?}: {text:?} should say {says:?}"
        );
        // Every way in refuses it the same way, without a panic.
        prop_assert_eq!(config.init(&device).err(), Some(err.clone()));
        let json = store::config_to_json(&config);
        prop_assert_eq!(store::config_from_json(json.as_bytes()).err(), Some(err));
        refused.set(refused.get() + 1);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!("{} broken architectures refused", refused.get());
    assert!(
        2 * refused.get() >= CASES,
        "only {} cases broke a layer",
        refused.get()
    );
}

/// Inputs that are wrong as a whole are refused naming no layer.
#[test]
fn broken_inputs_are_refused_as_a_whole() {
    let device = cpu();
    let result = runner(31).run(&(spec(), 0usize..4, 1usize..=60), |(spec, how, by)| {
        let mut config = spec.config();
        let says = match how {
            0 => {
                config.input[0] = [0, 2, 4, 5][by % 4];
                "1 or 3 channels"
            }
            1 => {
                config.input[1 + by % 2] = if by % 3 == 0 { 0 } else { 64 + by };
                "at most 64×64"
            }
            2 => {
                // The scores are no longer one per class: the last dense layer and its
                // inputs are gone, a spatial map is left.
                config.layers.truncate(1);
                config.layers.push(LayerConfig::Relu);
                let output = config.check().map(|t| t.last().unwrap().output);
                if matches!(output, Ok([_, 1, 1])) {
                    return Ok(());
                }
                "one score per class"
            }
            _ => {
                config.class_names = vec!["a".into(); spec.classes + 1];
                "class names"
            }
        };
        let err = match config.check() {
            Ok(_) => return Err(TestCaseError::fail(format!("{config:?} was accepted"))),
            Err(e) => e,
        };
        prop_assert!(
            matches!(err, Error::Architecture { layer: None, .. })
                && err.to_string().contains(says),
            "{err:?} should name no layer and say {says:?}"
        );
        prop_assert_eq!(config.init(&device).err(), Some(err));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Padding at most half the kernel keeps every window on the image, except where a dilation
/// steps over it: on a 1-pixel-wide map, a 2-tap window dilated by 2 and padded by 1 sees
/// pixels −1 and 1, padding both, and would give −∞ (found by the property above).
#[test]
fn a_dilated_max_pool_window_of_padding_only_is_refused() {
    let pool = |dilation| {
        NetworkConfig::new(
            [1, 6, 1],
            vec![
                LayerConfig::MaxPool(
                    MaxPool2dConfig::new([2, 2])
                        .with_strides([1, 1])
                        .with_padding(explicit([1, 1]))
                        .with_dilation([dilation, dilation]),
                ),
                LayerConfig::Flatten,
                LayerConfig::Linear(LinearConfig::new(14, 2)),
            ],
        )
    };
    let err = pool(2).check().unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer 0 (pool1): its window 0 sees padding only (dilation 2 steps over every pixel)"
    );
    assert!(pool(2).init(&cpu()).is_err());
    // Undilated, the same pool is fine: 6×1 → 7×2.
    assert_eq!(pool(1).check().unwrap()[0].output, [1, 7, 2]);
}
