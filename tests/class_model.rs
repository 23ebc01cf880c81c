//! Class model visualisation (paper §2; docs/METHODS.md, "Class model visualisation") on the
//! CPU backend.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use deep_inside::class_model::{
    Ascent, DEFAULT_STEPS, Objective, Options, Start, objective, start,
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
