//! Class model visualisation (paper §2; docs/METHODS.md, "Class model visualisation") on the
//! CPU backend.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::{Tensor, TensorData};
use common::*;
use deep_inside::class_model::param::{Parameterisation, basis, spectrum_scale};
use deep_inside::class_model::transform::{Transform, resample};
use deep_inside::class_model::{
    Ascent, DEFAULT_STEPS, Objective, Options, RESTART_STEPS, Start, Target, objective, start,
};
use deep_inside::data::{Dataset, Shipped, softmax};

const STARTS: [&str; 3] = ["noise", "mean", "dataset"];

fn options(start_name: &str, seed: u64) -> Options {
    Options {
        start: start(start_name, Some(Dataset::Mnist), None, seed).unwrap(),
        seed,
        ..Options::default()
    }
}

/// (objective, p(c), image) after `n` more steps.
fn run(ascent: &mut Ascent, o: &Options, class: usize, n: usize) -> (f32, f32, Vec<f32>) {
    let s = ascent.step(n);
    let [_, c, h, w] = s.x.dims();
    let scores = values(s.scores);
    let x = values(s.x);
    (
        objective(o, class, &scores, &x, [c, h, w]),
        softmax(&scores)[class],
        x,
    )
}

#[test]
fn the_objective_rises_for_every_class_and_start_and_defaults_reach_p_099() {
    let device = cpu();
    let model = model(&device);
    for name in STARTS {
        for class in 0..10 {
            let o = options(name, 7);
            let mut a = Ascent::new(&model, class as i64, o.clone(), &device).unwrap();
            let (initial, _, _) = run(&mut a, &o, class, 0);
            let mut best = initial;
            for _ in 0..5 {
                let (v, _, _) = run(&mut a, &o, class, 1);
                best = best.max(v);
            }
            assert!(
                best > initial,
                "{name} {class}: running maximum did not rise"
            );
            let (last, p, _) = run(&mut a, &o, class, DEFAULT_STEPS - 5);
            assert!(last > initial, "{name} {class}: {initial} → {last}");
            assert!(p >= 0.99, "{name} {class}: p(c) = {p}");
        }
    }
}

/// The objective rises on every shipped network (its own data set's starts): the ascent
/// follows the gradient of the canonical network, batch norms merged.
#[test]
fn the_objective_rises_on_every_shipped_network() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).unwrap();
        for name in STARTS {
            for class in [1, 6] {
                let o = Options {
                    start: start(name, Some(shipped.dataset()), None, 3).unwrap(),
                    seed: 3,
                    ..Options::default()
                };
                let mut a = Ascent::new(&model, class as i64, o.clone(), &device).unwrap();
                let (initial, _, _) = run(&mut a, &o, class, 0);
                let (last, _, _) = run(&mut a, &o, class, 20);
                assert!(
                    last > initial,
                    "{} {name} {class}: objective {initial} → {last}",
                    shipped.name()
                );
            }
        }
    }
}

#[test]
fn a_larger_lambda_gives_a_smaller_image() {
    let device = cpu();
    let model = model(&device);
    let norm = |lambda: f32| {
        let o = Options {
            lambda,
            ..options("noise", 1)
        };
        let mut a = Ascent::new(&model, 3, o.clone(), &device).unwrap();
        let (_, _, x) = run(&mut a, &o, 3, 150);
        x.iter().map(|v| v * v).sum::<f32>().sqrt()
    };
    let (small, large) = (norm(0.01), norm(0.2));
    assert!(
        large < small,
        "‖x‖ with λ=0.2: {large}, with λ=0.01: {small}"
    );
}

#[test]
fn a_seed_gives_the_same_result_every_time() {
    let device = cpu();
    let model = model(&device);
    let go = |seed| {
        let o = Options {
            jitter: 2,
            blur_every: 4,
            clip: true,
            total_variation: 0.01,
            ..options("noise", seed)
        };
        let mut a = Ascent::new(&model, 5, o.clone(), &device).unwrap();
        run(&mut a, &o, 5, 30).2
    };
    assert_eq!(go(11), go(11));
    assert_ne!(go(11), go(12));
}

#[test]
fn regularisers_and_the_log_prob_objective_work() {
    let device = cpu();
    let model = model(&device);
    let o = Options {
        objective: Objective::LogProb,
        clip: true,
        jitter: 1,
        blur_every: 5,
        total_variation: 0.05,
        ..options("mean", 0)
    };
    let mut a = Ascent::new(&model, 8, o.clone(), &device).unwrap();
    let (initial, p0, _) = run(&mut a, &o, 8, 0);
    let (last, p, x) = run(&mut a, &o, 8, 100);
    assert!(last > initial);
    assert!(p > p0 && p > 0.5, "p(8): {p0} → {p}");
    assert!(
        x.iter().all(|v| (0.0..=1.0).contains(v)),
        "clipped to the pixel box"
    );
}

#[test]
fn bad_options_give_clear_errors() {
    let device = cpu();
    let model = model(&device);
    let err = |o: Options, class: i64| {
        Ascent::new(&model, class, o, &device)
            .err()
            .unwrap()
            .to_string()
    };
    assert!(err(Options::default(), 10).contains("class"));
    assert!(err(Options::default(), -1).contains("class"));
    assert!(
        err(
            Options {
                lambda: f32::NAN,
                ..Options::default()
            },
            1
        )
        .contains("lambda")
    );
    assert!(
        err(
            Options {
                step: -1.0,
                ..Options::default()
            },
            1
        )
        .contains("step")
    );
    assert!(
        err(
            Options {
                start: Start::Image(vec![0.0; 3]),
                ..Options::default()
            },
            1
        )
        .contains("start")
    );
    assert!(
        start("sky", Some(Dataset::Mnist), None, 0)
            .unwrap_err()
            .to_string()
            .contains("start")
    );
    assert!(
        start("dataset", Some(Dataset::Mnist), Some(1000), 0)
            .unwrap_err()
            .to_string()
            .contains("index")
    );
    // A user's model has no data set to start from, only noise.
    for name in ["mean", "dataset"] {
        assert!(
            start(name, None, None, 0)
                .unwrap_err()
                .to_string()
                .contains("without a data set")
        );
    }
    assert!(start("noise", None, None, 0).is_ok());
}

/// A judge of class models (`tests/fixtures/judges/`, trained by `train --model
/// judge-mnist-mlp|judge-mnist-cnn`): another architecture than the explained net.
fn judge(kind: &str, device: &burn::tensor::Device) -> deep_inside::model::Model {
    let dir = format!(
        "{}/tests/fixtures/judges/mnist-{kind}",
        env!("CARGO_MANIFEST_DIR")
    );
    let read = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
    deep_inside::model::Model::load(&read("config.json"), &read("weights.bpk"), device).unwrap()
}

#[test]
fn the_paper_preset_is_todays_ascent_step_for_step() {
    let device = cpu();
    let model = model(&device);
    assert_eq!(Options::preset("paper").unwrap(), Options::default());
    // The same trajectory as the options written out as they were before presets.
    let before = Options {
        objective: Objective::Score,
        lambda: 0.05,
        step: 0.1,
        start: Start::Noise,
        seed: 7,
        clip: false,
        jitter: 0,
        blur_every: 0,
        total_variation: 0.0,
        // The switches added since, all off.
        scale: 0.0,
        rotate: 0.0,
        fourier: 0.0,
        sigmoid: false,
        adam: false,
        restarts: 1,
        images: 1,
        diversity: 0.0,
    };
    let paper = Options {
        seed: 7,
        ..Options::preset("paper").unwrap()
    };
    let mut a = Ascent::new(&model, 3, before, &device).unwrap();
    let mut b = Ascent::new(&model, 3, paper, &device).unwrap();
    for _ in 0..3 {
        assert_eq!(values(a.step(10).x), values(b.step(10).x));
    }
    let e = Options::preset("pretty").unwrap_err();
    assert!(e.to_string().contains("preset"), "{e}");
}

#[test]
fn readable_class_models_stay_in_the_box_and_both_judges_recognise_them() {
    // Fewer seeds and steps than the benchmark (examples/readability.rs, BENCHMARKS.md).
    let device = cpu();
    let model = model(&device);
    let judges = [judge("mlp", &device), judge("cnn", &device)];
    let mut recognised = [0; 2];
    for seed in 0..3 {
        for class in 0..10 {
            let o = Options {
                seed,
                ..Options::preset("readable").unwrap()
            };
            let s = Ascent::new(&model, class, o, &device).unwrap().step(100);
            let x = values(s.x.clone());
            assert!(
                x.iter().all(|v| (0.0..=1.0).contains(v)),
                "class {class}: outside [0, 1]"
            );
            for (j, judge) in judges.iter().enumerate() {
                let p = values(judge.network.forward(s.x.clone()));
                let top = (0..10).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
                recognised[j] += usize::from(top == class as usize);
            }
        }
    }
    // Of 10 classes, the mean over 3 seeds: at least 8 for each judge.
    for (kind, r) in ["MLP", "CNN"].iter().zip(recognised) {
        assert!(r >= 24, "the {kind} judge recognised {r} of 30");
    }
}

/// A `[1, 1, h, w]` image of `values`.
fn plane(values: Vec<f32>, h: usize, w: usize) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, [1, 1, h, w]), &cpu())
}

#[test]
fn jitter_shifts_and_rotation_by_zero_is_the_identity_by_hand() {
    let v: Vec<f32> = (1..=12).map(|i| i as f32).collect();
    // 3 × 4, shifted down 1 and left 1: row r comes from row r − 1, column c from c + 1.
    let moved = Transform {
        shift: [1, -1],
        scale: 1.0,
        angle: 0.0,
    }
    .apply(plane(v.clone(), 3, 4));
    let by_hand: Vec<f32> = (0..12)
        .map(|i| {
            let (r, c) = (i / 4, i % 4);
            v[((r + 2) % 3) * 4 + (c + 1) % 4]
        })
        .collect();
    assert_eq!(values(moved), by_hand);
    assert_eq!(values(resample(plane(v.clone(), 3, 4), 1.0, 0.0)), v);
    // A quarter turn of a 3 × 3 image, counter-clockwise: the top row becomes the left column.
    let square: Vec<f32> = (1..=9).map(|i| i as f32).collect();
    let turned = values(resample(plane(square, 3, 3), 1.0, 90.0));
    let expected = [3., 6., 9., 2., 5., 8., 1., 4., 7.];
    for (a, b) in turned.iter().zip(expected) {
        assert!((a - b).abs() < 1e-5, "{turned:?}");
    }
    // Zoom 2 about the centre of a 1 × 5 row: output j reads (j − 2)/2 + 2, bilinearly.
    let row = values(resample(
        plane(vec![0., 10., 20., 30., 40.], 1, 5),
        2.0,
        0.0,
    ));
    let expected = [10., 15., 20., 25., 30.];
    for (a, b) in row.iter().zip(expected) {
        assert!((a - b).abs() < 1e-4, "{row:?}");
    }
}

#[test]
fn the_fourier_basis_is_orthonormal_and_round_trips() {
    for n in [5, 8, 28] {
        let b = basis(n);
        for r in 0..n {
            for s in 0..n {
                let dot: f32 = (0..n).map(|j| b[r * n + j] * b[s * n + j]).sum();
                let want = if r == s { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-5, "n {n}: rows {r}, {s}: {dot}");
            }
        }
    }
    let device = cpu();
    let mut rng = deep_inside::rng::SplitMix(3);
    let x: Vec<f32> = (0..2 * 3 * 28 * 28).map(|_| rng.uniform()).collect();
    let image = Tensor::<4>::from_data(TensorData::new(x.clone(), [2, 3, 28, 28]), &device);
    for (decay, sigmoid) in [(Some(1.0), false), (Some(1.5), true), (None, true)] {
        let p = Parameterisation::new([28, 28], decay, sigmoid, [0.0, 1.0], &device);
        let back = values(p.decode(p.encode(image.clone())));
        // The sigmoid keeps 0.001 from the edges; these pixels lie inside that.
        let inside = |v: f32| v.clamp(1e-3, 1.0 - 1e-3);
        let worst = back
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - if sigmoid { inside(*b) } else { *b }).abs())
            .fold(0.0, f32::max);
        assert!(worst <= 1e-5, "{decay:?} {sigmoid}: {worst}");
    }
}

/// The real Fourier function k of n points at i, made here from cos and sin.
fn phi(k: usize, i: usize, n: usize) -> f32 {
    let f = k.div_ceil(2) as f32;
    let t = std::f32::consts::TAU * f * i as f32 / n as f32;
    let nf = n as f32;
    if k == 0 {
        1.0 / nf.sqrt()
    } else if n.is_multiple_of(2) && k == n - 1 {
        t.cos() / nf.sqrt()
    } else if k % 2 == 1 {
        (2.0 / nf).sqrt() * t.cos()
    } else {
        (2.0 / nf).sqrt() * t.sin()
    }
}

/// The decode written out independently: `x[i, j] = Σ_{k, l} s[k, l] p[k, l] φ_k(i) φ_l(j)`,
/// with the real Fourier functions φ made here from cos and sin, then the sigmoid.
fn decode_by_hand(p: &[f32], h: usize, w: usize, decay: f32, sigmoid: bool) -> Vec<f32> {
    let s = spectrum_scale(h, w, decay);
    let mut x = vec![0.0; h * w];
    for i in 0..h {
        for j in 0..w {
            let mut v = 0.0;
            for k in 0..h {
                for l in 0..w {
                    v += s[k * w + l] * p[k * w + l] * phi(k, i, h) * phi(l, j, w);
                }
            }
            x[i * w + j] = if sigmoid { 1.0 / (1.0 + (-v).exp()) } else { v };
        }
    }
    x
}

#[test]
fn the_gradient_through_each_parameterisation_is_autodiffs_through_the_composed_function() {
    let device = cpu();
    let model = model(&device);
    for (fourier, sigmoid) in [(0.0, false), (1.0, false), (0.0, true), (1.0, true)] {
        let o = Options {
            fourier,
            sigmoid,
            seed: 5,
            ..Options::default()
        };
        let mut a = Ascent::new(&model, 4, o.clone(), &device).unwrap();
        let p0 = a.parameters();
        a.step(1);
        let step: Vec<f32> = values(a.parameters())
            .iter()
            .zip(values(p0.clone()))
            .map(|(after, before)| (after - before) / o.step)
            .collect();
        // The same objective, S_4(x) − λ‖x‖², with x decoded by the test's own composition.
        let p = values(p0);
        let x = if fourier > 0.0 {
            decode_by_hand(&p, 28, 28, fourier, sigmoid)
        } else if sigmoid {
            p.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect()
        } else {
            p.clone()
        };
        // Autodiff of L through x, then the chain rule to p by hand (the decode is linear, then
        // an elementwise sigmoid with σ' = σ(1 − σ)).
        let xt = image(&x, &device).autodiff().require_grad();
        let l = model.network.forward(xt.clone()).narrow(1, 4, 1).sum()
            - (xt.clone() * xt.clone()).sum().mul_scalar(o.lambda);
        let gx = values(xt.grad(&l.backward()).unwrap());
        let gz: Vec<f32> = if sigmoid {
            gx.iter().zip(&x).map(|(g, s)| g * s * (1.0 - s)).collect()
        } else {
            gx
        };
        let gp: Vec<f32> = if fourier > 0.0 {
            // The adjoint of the decode: coefficient (k, l) collects s Σ gz φ_k φ_l.
            let s = spectrum_scale(28, 28, fourier);
            (0..784)
                .map(|e| {
                    let (k, l) = (e / 28, e % 28);
                    let mut v = 0.0;
                    for i in 0..28 {
                        for j in 0..28 {
                            v += gz[i * 28 + j] * phi(k, i, 28) * phi(l, j, 28);
                        }
                    }
                    s[e] * v
                })
                .collect()
        } else {
            gz
        };
        let err = relative_error(&step, &gp);
        assert!(err < 1e-3, "fourier {fourier}, sigmoid {sigmoid}: {err}");
    }
}

/// The activation of `layer`'s channels (their mean over positions) for each image of `x`.
fn channel_means(model: &deep_inside::model::Model, layer: &str, x: Tensor<4>) -> Vec<f32> {
    let t = Target::layer(model, layer, None, false).unwrap();
    let index = t.layer.unwrap();
    // The canonical network is the table's layers here (no batch norm in the MNIST net).
    let out = model.network.layers[..=index]
        .iter()
        .fold(x, |a, l| l.forward(a));
    values(out.mean_dims(&[2, 3]).flatten::<1>(0, 3))
}

#[test]
fn a_channel_visualisation_raises_its_activation_monotonically_on_average() {
    let device = cpu();
    let model = model(&device);
    for (layer, preset) in [
        ("conv1", "paper"),
        ("conv2", "paper"),
        ("conv1", "readable"),
        ("conv2", "readable"),
    ] {
        let o = Options {
            seed: 2,
            ..Options::preset(preset).unwrap()
        };
        let target = Target::layer(&model, layer, None, false).unwrap();
        let channels = target.units.len();
        let mut a = Ascent::of(&model, target, o, &device).unwrap();
        // The plain step rises at every look; with random transformations, over 10 steps.
        let every = if preset == "paper" { 5 } else { 10 };
        let mut means = vec![];
        for _ in 0..=50 / every {
            let s = a.step(if means.is_empty() { 0 } else { every });
            let act = values(s.activation.clone());
            // Each row's activation is its own channel's, as measured independently.
            let all = channel_means(&model, layer, s.x);
            for (i, v) in act.iter().enumerate() {
                assert!((v - all[i * channels + i]).abs() < 1e-4 * v.abs().max(1.0));
            }
            means.push(act.iter().sum::<f32>() / channels as f32);
        }
        // Once in the pixel box's corner the transformations jiggle it: within 2 % of the rise.
        let slack = if preset == "paper" {
            0.0
        } else {
            0.02 * (means[means.len() - 1] - means[0])
        };
        for w in means.windows(2) {
            assert!(w[1] > w[0] - slack, "{layer} {preset}: {means:?}");
        }
        assert!(
            means[means.len() - 1] > means[0],
            "{layer} {preset}: {means:?}"
        );
    }
}

#[test]
fn an_atlas_row_is_the_ascent_of_its_unit_alone() {
    let device = cpu();
    let model = model(&device);
    let o = Options {
        start: start("mean", Some(Dataset::Mnist), None, 0).unwrap(),
        ..Options::preset("readable").unwrap()
    };
    let atlas = Target::layer(&model, "conv2", None, false).unwrap();
    let first = Target::layer(&model, "conv2", Some(vec![0]), false).unwrap();
    let a = Ascent::of(&model, atlas, o.clone(), &device)
        .unwrap()
        .step(20);
    let b = Ascent::of(&model, first, o, &device).unwrap().step(20);
    let (a, b) = (values(a.x), values(b.x));
    let err = relative_error(&a[..784], &b);
    assert!(err < 1e-4, "{err}");
    // Every switch at once on a batch: an atlas, and a unit's diverse images with restarts.
    let all = Options {
        images: 3,
        restarts: 2,
        diversity: 10.0,
        sigmoid: true,
        ..Options::preset("lucid").unwrap()
    };
    for (units, o) in [
        (
            None,
            Options {
                images: 1,
                restarts: 1,
                ..all.clone()
            },
        ),
        (Some(vec![2]), all),
    ] {
        let t = Target::layer(&model, "relu1", units, true).unwrap();
        let s = Ascent::of(&model, t, o, &device)
            .unwrap()
            .step(RESTART_STEPS + 5);
        let x = values(s.x);
        assert!(x.len() >= 3 * 784 && x.iter().all(|v| (0.0..=1.0).contains(v)));
    }
    // Units of a dense layer, and the centre of a channel, work the same way.
    for (layer, centre) in [("fc1", false), ("conv1", true)] {
        let t = Target::layer(&model, layer, Some(vec![1, 3]), centre).unwrap();
        let mut a = Ascent::of(&model, t, Options::default(), &device).unwrap();
        let before = values(a.step(0).activation);
        let after = values(a.step(30).activation);
        assert!(
            after[0] > before[0] && after[1] > before[1],
            "{layer}: {before:?} → {after:?}"
        );
    }
}

#[test]
fn restarts_keep_the_best_and_diversity_pushes_images_apart() {
    let device = cpu();
    let model = model(&device);
    // Four candidates step exactly as a batch of four images does (the same noise, the same
    // transformations); at RESTART_STEPS the one kept is the batch's best.
    let o = Options {
        seed: 9,
        ..Options::preset("readable").unwrap()
    };
    let four = Options {
        images: 4,
        ..o.clone()
    };
    let batch = Ascent::new(&model, 2, four, &device)
        .unwrap()
        .step(RESTART_STEPS);
    let objectives = values(batch.objective);
    let best = (0..4)
        .max_by(|&a, &b| objectives[a].total_cmp(&objectives[b]))
        .unwrap();
    let restarts = Options { restarts: 4, ..o };
    let kept = Ascent::new(&model, 2, restarts, &device)
        .unwrap()
        .step(RESTART_STEPS);
    assert_eq!(kept.x.dims(), [1, 1, 28, 28]);
    let x = values(batch.x);
    assert!(relative_error(&values(kept.x), &x[best * 784..(best + 1) * 784]) < 1e-5);
    assert!((values(kept.objective)[0] - objectives[best]).abs() < 1e-3);
    // Three images of one class, with and without the diversity term.
    let spread = |diversity: f32| {
        let o = Options {
            images: 3,
            diversity,
            seed: 1,
            ..Options::preset("readable").unwrap()
        };
        let x = values(Ascent::new(&model, 7, o, &device).unwrap().step(60).x);
        let d = |i: usize, j: usize| -> f32 {
            (0..784)
                .map(|k| (x[i * 784 + k] - x[j * 784 + k]).powi(2))
                .sum()
        };
        d(0, 1) + d(0, 2) + d(1, 2)
    };
    let (alike, apart) = (spread(0.0), spread(10.0));
    assert!(
        apart > alike,
        "squared distances: {alike} without, {apart} with diversity"
    );
}

#[test]
fn adam_steps_are_burns_adam_on_the_negative_gradient() {
    use burn::optim::{AdamConfig, Optimizer};
    let device = cpu();
    let model = model(&device);
    let o = Options {
        adam: true,
        step: 0.05,
        seed: 4,
        ..Options::default()
    };
    let plain = Options {
        adam: false,
        step: 1.0,
        ..o.clone()
    };
    // The plain step with α = 1 gives the gradient itself.
    let mut g = Ascent::new(&model, 6, plain, &device).unwrap();
    let p0 = g.parameters();
    let grad = g.step(1).x - p0.clone();
    let (expected, _) =
        AdamConfig::new()
            .with_epsilon(1e-8)
            .build()
            .step(0.05, p0, grad.neg(), None);
    let mut a = Ascent::new(&model, 6, o, &device).unwrap();
    a.step(1);
    assert!(relative_error(&values(a.parameters()), &values(expected)) < 1e-5);
}

#[test]
fn bad_unit_options_give_clear_errors() {
    let device = cpu();
    let model = model(&device);
    let e = Target::layer(&model, "conv9", None, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("layer") && e.contains("conv1"), "{e}");
    let e = Target::layer(&model, "conv1", Some(vec![99]), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unit"), "{e}");
    for (o, name) in [
        (
            Options {
                scale: 2.0,
                ..Options::default()
            },
            "scale",
        ),
        (
            Options {
                rotate: f32::NAN,
                ..Options::default()
            },
            "rotate",
        ),
        (
            Options {
                fourier: -1.0,
                ..Options::default()
            },
            "fourier",
        ),
        (
            Options {
                restarts: 0,
                ..Options::default()
            },
            "restarts",
        ),
        (
            Options {
                images: 17,
                ..Options::default()
            },
            "images",
        ),
        (
            Options {
                diversity: f32::INFINITY,
                ..Options::default()
            },
            "diversity",
        ),
    ] {
        let e = Ascent::new(&model, 1, o, &device)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(name), "{e}");
    }
    let too_many = Options {
        images: 16,
        restarts: 16,
        ..Options::default()
    };
    let atlas = Target::layer(&model, "conv2", None, false).unwrap();
    let e = Ascent::of(&model, atlas, too_many, &device)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("images"), "{e}");
}
