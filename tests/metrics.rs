//! The evaluation metrics (`deep_inside::metrics`) against Quantus 0.6.0 and against hand
//! computations. `tests/fixtures/quantus.json` holds Quantus's values for 20 held-out digits
//! (two of each class) of the shipped MNIST net and three of our methods' maps (exported by
//! `export_for_quantus` below, fed to Quantus by `scripts/reference/quantus_fixtures.py`; see
//! scripts/reference/README.md). Deterministic metrics must match per image (relative 10⁻⁴,
//! counts and verdicts exactly); stochastic ones (other noise, other draws) on the mean over the
//! 20 digits, within 5 %.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::*;
use deep_inside::faithfulness::{Perturbation, curves, ranking};
use deep_inside::metrics::axiomatic::{self, SHIFT};
use deep_inside::metrics::complexity::{self, EFFECTIVE_EPSILON};
use deep_inside::metrics::faithfulness::{self as faith, Monotonicity};
use deep_inside::metrics::localisation::{self, ink};
use deep_inside::metrics::randomisation::{self, EMPRT_BINS};
use deep_inside::metrics::robustness::{self, Noise};
use deep_inside::metrics::{Explain, Explainer, Output, predict};
use deep_inside::model::{Layer, LayerConfig, Network, NetworkConfig};
use deep_inside::rng::SplitMix;
use deep_inside::saliency::Method;
use serde::Deserialize;

/// How many held-out digits are compared with Quantus (see [`picks`]).
const DIGITS: usize = 20;
/// Settings shared with scripts/reference/quantus_fixtures.py.
const FEATURES_IN_STEP: usize = 4;
const PATCH: usize = 8;
const REGIONS: usize = 100;
const SAMPLES: usize = 50;
const RUNS: usize = 1000;
const MONOTONICITY: Monotonicity = Monotonicity {
    samples: 10,
    features_in_step: 28,
    eps: 1e-5,
    seed: 0,
};
const SUBSET: usize = 224;

/// The three methods compared, by the names the fixture uses.
fn methods() -> Vec<(&'static str, Explainer)> {
    vec![
        ("gradient", Explainer::Backprop(Method::Gradient)),
        ("gradientInput", Explainer::GradientInput),
        ("guided", Explainer::Backprop(Method::Guided)),
    ]
}

fn map_of(net: &Network, explain: &impl Explain, pixels: &[f32], class: usize) -> Vec<f32> {
    let x = batch(net, pixels, &net.device());
    values(explain.explain(net, x, class).expect("explains"))
}

/// The held-out digits compared with Quantus: the first two of each class (the file is sorted
/// by class, so the first 20 would all be zeros).
fn picks() -> Vec<usize> {
    let digits = heldout();
    let mut seen = [0; 10];
    (0..digits.len())
        .filter(|&i| {
            let label = usize::from(digits.labels[i]);
            seen[label] += 1;
            seen[label] <= DIGITS / 10
        })
        .collect()
}

/// One digit: its pixels and label.
fn digit(i: usize) -> (Vec<f32>, usize) {
    let digits = heldout();
    (digits.image(i), usize::from(digits.labels[i]))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

/// Writes what `quantus_fixtures.py` needs: the net's weights (burn's layout: conv
/// `[out, in, kh, kw]`, linear `[in, out]`), the digits, their logits, and every method's map
/// for every class. Run by hand:
/// `cargo test --features ndarray,train --test metrics -- --ignored export_for_quantus`;
/// the file goes to `$QUANTUS_EXPORT` or the temp dir.
#[test]
#[ignore = "writes the input of scripts/reference/quantus_fixtures.py; run by hand"]
fn export_for_quantus() {
    let device = cpu();
    let model = model(&device);
    let net = &model.network;
    let mut weights = Vec::new();
    for (info, i) in model.weighted().into_iter().zip(net.weighted()) {
        let (shape, w, b) = match &net.layers[i] {
            Layer::Conv(conv) => (
                conv.weight.dims().to_vec(),
                values(conv.weight.val()),
                conv.bias.as_ref().map(|b| values(b.val())),
            ),
            Layer::Linear(l) => (
                l.weight.dims().to_vec(),
                values(l.weight.val()),
                l.bias.as_ref().map(|b| values(b.val())),
            ),
            _ => unreachable!("weighted() lists conv and linear layers"),
        };
        weights.push(serde_json::json!({
            "name": info.name, "shape": shape, "weight": w, "bias": b,
        }));
    }
    let (mut images, mut labels, mut logits) = (Vec::new(), Vec::new(), Vec::new());
    let mut maps: BTreeMap<&str, Vec<Vec<Vec<f32>>>> = BTreeMap::new();
    for index in picks() {
        let (pixels, label) = digit(index);
        logits.push(values(net.forward(batch(net, &pixels, &device))));
        for (name, explain) in methods() {
            let per_class = (0..10).map(|c| map_of(net, &explain, &pixels, c)).collect();
            maps.entry(name).or_default().push(per_class);
        }
        images.push(pixels);
        labels.push(label);
    }
    let out = serde_json::json!({
        "weights": weights, "indices": picks(), "images": images, "labels": labels,
        "logits": logits, "maps": maps,
    });
    let path = std::env::var("QUANTUS_EXPORT").unwrap_or_else(|_| {
        std::env::temp_dir()
            .join("deep-inside-quantus.json")
            .display()
            .to_string()
    });
    std::fs::write(&path, out.to_string()).expect("writes the export");
    println!("wrote {path}");
}

// ---------------------------------------------------------------------------------------------
// Hand computations.

#[test]
fn sparseness_and_complexity_of_known_maps() {
    let n = 100;
    let flat = vec![0.5f32; n];
    let mut one = vec![0f32; n];
    one[7] = -3.0;
    // Gini: a flat map is 0; one value holding all is (n − 1)/n, but for the 10⁻⁷ guard.
    assert!(complexity::sparseness(&flat).unwrap().abs() < 1e-9);
    let gini = complexity::sparseness(&one).unwrap();
    let eps = 1e-7;
    let hand = ((n as f64 - 1.0) * (1.0 + eps) - (n as f64 - 1.0) * eps)
        / (n as f64 * (1.0 + n as f64 * eps));
    assert!(rel(gini, hand) < 1e-12, "{gini} vs {hand}");
    // Entropy: ln n for a flat map, 0 for one value.
    assert!(rel(complexity::complexity(&flat).unwrap(), (n as f64).ln()) < 1e-9);
    assert!(complexity::complexity(&one).unwrap().abs() < 1e-9);
    // Effective complexity counts |a|/max|a| > ε.
    let map = [1.0f32, -0.5, 1e-6, 0.0, 2e-5];
    assert_eq!(
        complexity::effective_complexity(&map, EFFECTIVE_EPSILON).unwrap(),
        3
    );
    assert!(complexity::sparseness(&[]).is_err());
    assert!(complexity::complexity(&[f32::NAN]).is_err());
}

#[test]
fn localisation_of_known_maps() {
    let mask = [false, true, true, false, false];
    // The maximum (0.9) lies at index 2, inside.
    let map = [0.1f32, 0.5, 0.9, -0.2, 0.3];
    assert!(localisation::pointing_game(&map, &mask).unwrap());
    // A tie for the maximum, one inside and one outside: a hit.
    assert!(
        localisation::pointing_game(
            &[0.9, 0.9, 0.0, 0.0, 0.0],
            &[false, true, false, false, false]
        )
        .unwrap()
    );
    assert!(!localisation::pointing_game(&[0.9, 0.1, 0.0, 0.0, 0.0], &mask).unwrap());
    // Mass: (0.5 + 0.9) / (0.1 + 0.5 + 0.9 − 0.2 + 0.3) = 1.4 / 1.6.
    let mass = localisation::relevance_mass_accuracy(&map, &mask).unwrap();
    assert!(rel(mass, 1.4 / 1.6) < 1e-6);
    // Rank: K = 2, the two highest are 0.9 (in) and 0.5 (in).
    assert_eq!(
        localisation::relevance_rank_accuracy(&map, &mask).unwrap(),
        1.0
    );
    // Ties at the K-th value go to the lower index: 0.5 at 0 (out) beats 0.5 at 2 (in).
    let tied = [0.5f32, 0.9, 0.5, 0.0, 0.0];
    assert_eq!(
        localisation::relevance_rank_accuracy(&tied, &mask).unwrap(),
        0.5
    );
    assert!(localisation::pointing_game(&map, &[false; 5]).is_err());
    assert!(localisation::pointing_game(&map, &[true; 4]).is_err());
    assert_eq!(ink(&[0.2, 0.5, 0.51]), vec![false, false, true]);
}

/// A linear net without biases, `S_c(x) = w_c · x`: gradient × input is exact, so removing a
/// subset drops the score by the map's sum over it.
fn linear_net(device: &burn::tensor::Device) -> Network {
    let config = NetworkConfig::new(
        [1, 4, 4],
        vec![
            LayerConfig::Flatten,
            LayerConfig::Linear(burn::nn::LinearConfig::new(16, 3)),
        ],
    );
    let w: Vec<f32> = (0..48)
        .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
        .collect();
    with_parameters(&config, &[(&w, &[0.0; 3])], device)
}

#[test]
fn faithfulness_correlation_is_one_where_the_map_is_exact() {
    let device = cpu();
    let net = linear_net(&device);
    let pixels: Vec<f32> = (0..16).map(|i| (i as f32 * 0.37).sin().abs()).collect();
    let map = map_of(&net, &Explainer::GradientInput, &pixels, 1);
    let rho = faith::faithfulness_correlation(&net, &pixels, &map, 1, 30, 5, 3).unwrap();
    assert!((rho - 1.0).abs() < 1e-5, "{rho}");
    // The same seed gives the same value; bad settings are refused.
    assert_eq!(
        rho,
        faith::faithfulness_correlation(&net, &pixels, &map, 1, 30, 5, 3).unwrap()
    );
    assert!(faith::faithfulness_correlation(&net, &pixels, &map, 1, 30, 17, 3).is_err());
    assert!(faith::faithfulness_correlation(&net, &pixels, &map, 1, 1, 5, 3).is_err());
}

#[test]
fn completeness_holds_for_gradient_times_input_without_biases() {
    let device = cpu();
    let net = linear_net(&device);
    let pixels: Vec<f32> = (0..16).map(|i| (i as f32 * 0.37).sin().abs()).collect();
    let map = map_of(&net, &Explainer::GradientInput, &pixels, 2);
    let c = axiomatic::completeness(&net, &pixels, &map, 2).unwrap();
    assert!(c.relative_error < 1e-5, "{c:?}");
    let s = predict(&net, &pixels, 2, Output::Logit).unwrap()[0];
    assert!(
        rel(c.difference, f64::from(s)) < 1e-6,
        "black is 0 here: S(b) = 0"
    );
    // The gradient is no attribution of the score: far from complete.
    let g = map_of(&net, &Explainer::Backprop(Method::Gradient), &pixels, 2);
    assert!(
        axiomatic::completeness(&net, &pixels, &g, 2)
            .unwrap()
            .relative_error
            > 0.1
    );
}

#[test]
fn input_invariance_of_the_gradient_and_not_of_gradient_times_input() {
    let device = cpu();
    let net = trained(&device);
    let (pixels, label) = digit(0);
    // The shifted net undoes the shift: the same scores.
    let moved = axiomatic::shifted(&net, SHIFT).unwrap();
    let x: Vec<f32> = pixels.iter().map(|p| p + SHIFT).collect();
    let a = predict(&net, &pixels, label, Output::Logit).unwrap()[0];
    let b = predict(&moved, &x, label, Output::Logit).unwrap()[0];
    assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "{a} vs {b}");
    for (explain, invariant) in [
        (Explainer::Backprop(Method::Gradient), true),
        (Explainer::GradientInput, false),
    ] {
        let map = map_of(&net, &explain, &pixels, label);
        let got = axiomatic::input_invariance(&net, &pixels, &map, label, &explain, SHIFT).unwrap();
        assert_eq!(got, invariant, "{explain:?}");
    }
}

#[test]
fn a_constant_map_does_not_move_under_noise() {
    // On the linear net the gradient is the same everywhere: every sensitivity is 0, and so is
    // the Lipschitz estimate.
    let device = cpu();
    let net = linear_net(&device);
    let pixels = vec![0.5f32; 16];
    let explain = Explainer::Backprop(Method::Gradient);
    let map = map_of(&net, &explain, &pixels, 0);
    let noise = Noise {
        samples: 8,
        ..Noise::SENSITIVITY
    };
    assert_eq!(
        robustness::max_sensitivity(&net, &pixels, &map, 0, &explain, &noise).unwrap(),
        0.0
    );
    assert_eq!(
        robustness::avg_sensitivity(&net, &pixels, &map, 0, &explain, &noise).unwrap(),
        0.0
    );
    let lip = robustness::local_lipschitz_estimate(
        &net,
        &pixels,
        &map,
        0,
        &explain,
        &Noise {
            samples: 8,
            ..Noise::LIPSCHITZ
        },
    );
    assert_eq!(lip.unwrap(), 0.0);
    // Gradient × input moves by w ⊙ δ: ‖w ⊙ δ‖ / ‖w ⊙ x‖ ≤ r·max|w| / ‖w ⊙ x‖.
    let gi = Explainer::GradientInput;
    let map = map_of(&net, &gi, &pixels, 0);
    let s = robustness::sensitivities(&net, &pixels, &map, 0, &gi, &noise).unwrap();
    let w = &map_of(&net, &explain, &pixels, 0);
    let norm = map
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum::<f64>()
        .sqrt();
    let bound = 0.2 * w.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt() / norm;
    assert!(
        s.iter().all(|&v| v > 0.0 && v <= bound + 1e-6),
        "{s:?} ≤ {bound}"
    );
}

#[test]
fn pixel_flipping_is_the_deletion_curve_without_its_start() {
    let device = cpu();
    let net = trained(&device);
    let (pixels, label) = digit(1);
    let map = map_of(&net, &Explainer::GradientInput, &pixels, label);
    let got = faith::pixel_flipping(&net, &pixels, &map, label, 16).unwrap();
    let order = ranking(&map, [28, 28]).unwrap();
    let all = values(
        curves(
            &net,
            &pixels,
            label,
            &[order],
            16,
            Perturbation::Deletion,
            &device,
        )
        .unwrap(),
    );
    assert_eq!(got.curve, all[1..].to_vec());
    assert_eq!(got.curve.len(), 49);
    let hand: f32 = got.curve.iter().sum::<f32>() - got.curve[0] / 2.0 - got.curve[48] / 2.0;
    assert!((got.auc - hand).abs() < 1e-5);
}

#[test]
fn region_perturbation_against_single_forward_passes() {
    // 28 is not a multiple of 8: the 4 × 4 grid overhangs by 2 on each side, so the first
    // region is rows and columns 0..6 of the image.
    let device = cpu();
    let net = trained(&device);
    let (pixels, label) = digit(2);
    let mut map = vec![0f32; 784];
    map[0] = 5.0; // region 0 first
    map[27 * 28 + 27] = 3.0; // then the last region (rows and columns 22..28)
    let got = faith::region_perturbation(&net, &pixels, &map, label, 8, 2).unwrap();
    let p = |image: &[f32]| predict(&net, image, label, Output::Probability).unwrap()[0];
    let mut image = pixels.clone();
    for y in 0..6 {
        for x in 0..6 {
            image[y * 28 + x] = 0.0;
        }
    }
    let first = p(&pixels) - p(&image);
    for y in 22..28 {
        for x in 22..28 {
            image[y * 28 + x] = 0.0;
        }
    }
    let second = p(&pixels) - p(&image);
    assert_eq!(got.curve.len(), 2);
    assert!((got.curve[0] - first).abs() < 1e-6 && (got.curve[1] - second).abs() < 1e-6);
    assert!(faith::region_perturbation(&net, &pixels, &map, label, 0, 2).is_err());
}

#[test]
fn monotonicity_correlation_is_seeded_and_bounded() {
    let device = cpu();
    let net = trained(&device);
    let (pixels, label) = digit(3);
    let map = map_of(&net, &Explainer::Backprop(Method::Gradient), &pixels, label);
    let settings = Monotonicity {
        samples: 4,
        features_in_step: 56,
        ..Monotonicity::default()
    };
    let a = faith::monotonicity_correlation(&net, &pixels, &map, label, &settings).unwrap();
    let b = faith::monotonicity_correlation(&net, &pixels, &map, label, &settings).unwrap();
    assert_eq!(a, b);
    assert!((-1.0..=1.0).contains(&a));
    let other = Monotonicity {
        seed: 1,
        ..settings
    };
    assert_ne!(
        a,
        faith::monotonicity_correlation(&net, &pixels, &map, label, &other).unwrap()
    );
    assert!(
        faith::monotonicity_correlation(
            &net,
            &pixels,
            &map,
            label,
            &Monotonicity {
                features_in_step: 0,
                ..settings
            }
        )
        .is_err()
    );
}

#[test]
fn ssim_and_other_classes() {
    let a: Vec<f64> = (0..50).map(|i| (i as f64 * 0.3).sin()).collect();
    assert!((randomisation::ssim(&a, &a).unwrap() - 1.0).abs() < 1e-12);
    // One window of 7: x = (0, 1, 0, 1, 0, 1, 0), y = 1. Range 1: C₁ = 10⁻⁴, C₂ = 9·10⁻⁴;
    // μx = 3/7, μy = 1, σx² = 7/6·(3/7 − 9/49) = 2/7, σy² = σxy = 0.
    let x = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let (c1, c2) = (1e-4, 9e-4);
    let hand = (2.0 * 3.0 / 7.0 + c1) * c2 / ((9.0 / 49.0 + 1.0 + c1) * (2.0 / 7.0 + c2));
    let got = randomisation::ssim(&x, &[1.0; 7]).unwrap();
    assert!(rel(got, hand) < 1e-12, "{got} vs {hand}");
    assert!(randomisation::ssim(&a[..5], &a[..5]).is_err());
    let mut rng = SplitMix(1);
    let mut seen = [0; 10];
    for _ in 0..500 {
        seen[randomisation::other_class(4, 10, &mut rng)] += 1;
    }
    assert_eq!(seen[4], 0);
    assert!(seen.iter().enumerate().all(|(c, &n)| c == 4 || n > 20));
}

#[test]
fn efficient_mprt_randomises_bottom_up() {
    let device = cpu();
    let net = trained(&device);
    let stages = randomisation::bottom_up(&net, 7).unwrap();
    assert_eq!(stages.len(), net.weighted().len() + 1);
    let weights = |n: &Network, i: usize| match &n.layers[i] {
        Layer::Conv(c) => values(c.weight.val()),
        Layer::Linear(l) => values(l.weight.val()),
        _ => unreachable!(),
    };
    let weighted = net.weighted();
    for (s, stage) in stages.iter().enumerate() {
        for (k, &i) in weighted.iter().enumerate() {
            assert_eq!(
                weights(stage, i) == weights(&net, i),
                k >= s,
                "stage {s}, layer {k}"
            );
        }
    }
    // Discrete entropy: 4 values in 4 bins is ln 4; all equal is 0.
    let h = randomisation::discrete_entropy(&[0.0, 1.0, 2.0, 3.0], 4).unwrap();
    assert!((h - 4f64.ln()).abs() < 1e-12);
    assert_eq!(randomisation::discrete_entropy(&[2.0; 5], 10).unwrap(), 0.0);
    let (pixels, label) = digit(0);
    let explain = Explainer::Backprop(Method::Gradient);
    let e = randomisation::efficient_mprt(&net, &pixels, label, &explain, 7, EMPRT_BINS).unwrap();
    assert_eq!(e.entropies.len(), stages.len());
    let last = e.entropies[e.entropies.len() - 1];
    assert!((e.score - (last - e.entropies[0]) / e.entropies[0]).abs() < 1e-12);
    println!("eMPRT entropies {:?}, score {}", e.entropies, e.score);
}

#[test]
fn refusals() {
    let device = cpu();
    let net = trained(&device);
    let (pixels, label) = digit(0);
    let explain = Explainer::Backprop(Method::Gradient);
    assert!(faith::pixel_flipping(&net, &pixels, &[0.0; 10], label, 1).is_err());
    assert!(faith::pixel_flipping(&net, &pixels, &[0.0; 784], 10, 1).is_err());
    let noise = Noise {
        samples: 0,
        ..Noise::SENSITIVITY
    };
    assert!(
        robustness::max_sensitivity(&net, &pixels, &[1.0; 784], label, &explain, &noise).is_err()
    );
    // The first layer of the linear net is a flatten: nothing to shift.
    assert!(axiomatic::shifted(&linear_net(&device), SHIFT).is_err());
}

// ---------------------------------------------------------------------------------------------
// Against Quantus.

#[derive(Deserialize)]
struct Fixture {
    quantus: String,
    labels: Vec<usize>,
    methods: BTreeMap<String, Quantus>,
}

#[derive(Deserialize)]
struct Quantus {
    sparseness: Vec<f64>,
    complexity: Vec<f64>,
    effective_complexity: Vec<usize>,
    pointing_game: Vec<bool>,
    relevance_mass_accuracy: Vec<f64>,
    relevance_rank_accuracy: Vec<f64>,
    pixel_flipping_auc: Vec<f64>,
    region_perturbation_auc: Vec<f64>,
    completeness_holds: Vec<bool>,
    completeness_difference: Vec<f64>,
    random_logit_other: Vec<usize>,
    random_logit: Vec<f64>,
    max_sensitivity: Vec<f64>,
    avg_sensitivity: Vec<f64>,
    local_lipschitz_estimate: Vec<f64>,
    faithfulness_correlation: Vec<f64>,
    monotonicity_correlation: Vec<f64>,
}

fn fixture() -> Fixture {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/quantus.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reads the fixture"))
        .expect("parses the fixture")
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn deterministic_metrics_match_quantus() {
    let device = cpu();
    let net = trained(&device);
    let fixture = fixture();
    assert_eq!(fixture.quantus, "0.6.0");
    let mut worst: BTreeMap<&str, f64> = BTreeMap::new();
    let mut note = |name: &'static str, ours: f64, theirs: f64, what: &str| {
        let e = rel(ours, theirs);
        assert!(e <= 1e-4, "{what}: {name} ours {ours} Quantus {theirs}");
        let w = worst.entry(name).or_default();
        *w = w.max(e);
    };
    for (name, explain) in methods() {
        let q = &fixture.methods[name];
        for (i, &index) in picks().iter().enumerate() {
            let (pixels, label) = digit(index);
            assert_eq!(label, fixture.labels[i]);
            let what = format!("{name}, digit {i}");
            let map = map_of(&net, &explain, &pixels, label);
            let mask = ink(&pixels);
            note(
                "sparseness",
                complexity::sparseness(&map).unwrap(),
                q.sparseness[i],
                &what,
            );
            note(
                "complexity",
                complexity::complexity(&map).unwrap(),
                q.complexity[i],
                &what,
            );
            assert_eq!(
                complexity::effective_complexity(&map, EFFECTIVE_EPSILON).unwrap(),
                q.effective_complexity[i],
                "{what}: effective complexity"
            );
            assert_eq!(
                localisation::pointing_game(&map, &mask).unwrap(),
                q.pointing_game[i],
                "{what}: pointing game"
            );
            note(
                "relevance mass accuracy",
                localisation::relevance_mass_accuracy(&map, &mask).unwrap(),
                q.relevance_mass_accuracy[i],
                &what,
            );
            note(
                "relevance rank accuracy",
                localisation::relevance_rank_accuracy(&map, &mask).unwrap(),
                q.relevance_rank_accuracy[i],
                &what,
            );
            let pf = faith::pixel_flipping(&net, &pixels, &map, label, FEATURES_IN_STEP).unwrap();
            note(
                "pixel flipping AUC",
                f64::from(pf.auc),
                q.pixel_flipping_auc[i],
                &what,
            );
            let rp =
                faith::region_perturbation(&net, &pixels, &map, label, PATCH, REGIONS).unwrap();
            note(
                "region perturbation AUC",
                f64::from(rp.auc),
                q.region_perturbation_auc[i],
                &what,
            );
            let c = axiomatic::completeness(&net, &pixels, &map, label).unwrap();
            assert_eq!(c.holds, q.completeness_holds[i], "{what}: completeness");
            note(
                "completeness S_c(x) − S_c(b)",
                c.difference,
                q.completeness_difference[i],
                &what,
            );
            let other = q.random_logit_other[i];
            note(
                "random logit (Quantus's class)",
                randomisation::random_logit(&net, &pixels, &map, other, &explain).unwrap(),
                q.random_logit[i],
                &what,
            );
        }
    }
    println!("largest relative difference from Quantus over {DIGITS} digits × 3 methods:");
    for (name, e) in worst {
        println!("  {name:32} {e:.2e}");
    }
}

#[test]
fn stochastic_metrics_match_quantus_on_average() {
    let device = cpu();
    let net = trained(&device);
    let fixture = fixture();
    let mut failures = Vec::new();
    for (name, explain) in methods() {
        let q = &fixture.methods[name];
        let mut ours: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let mut rng = SplitMix(2023);
        for (i, &index) in picks().iter().enumerate() {
            let (pixels, label) = digit(index);
            let map = map_of(&net, &explain, &pixels, label);
            let seed = 1000 + i as u64;
            let noise = Noise {
                samples: SAMPLES,
                seed,
                ..Noise::SENSITIVITY
            };
            let s =
                robustness::sensitivities(&net, &pixels, &map, label, &explain, &noise).unwrap();
            ours.entry("max_sensitivity")
                .or_default()
                .push(s.iter().copied().fold(f64::MIN, f64::max));
            ours.entry("avg_sensitivity").or_default().push(mean(&s));
            let noise = Noise {
                samples: SAMPLES,
                seed,
                ..Noise::LIPSCHITZ
            };
            ours.entry("local_lipschitz_estimate").or_default().push(
                robustness::local_lipschitz_estimate(&net, &pixels, &map, label, &explain, &noise)
                    .unwrap(),
            );
            ours.entry("faithfulness_correlation").or_default().push(
                faith::faithfulness_correlation(&net, &pixels, &map, label, RUNS, SUBSET, seed)
                    .unwrap(),
            );
            let settings = Monotonicity {
                seed,
                ..MONOTONICITY
            };
            ours.entry("monotonicity_correlation").or_default().push(
                faith::monotonicity_correlation(&net, &pixels, &map, label, &settings).unwrap(),
            );
            let other = randomisation::other_class(label, 10, &mut rng);
            ours.entry("random_logit")
                .or_default()
                .push(randomisation::random_logit(&net, &pixels, &map, other, &explain).unwrap());
        }
        for (metric, theirs) in [
            ("max_sensitivity", &q.max_sensitivity),
            ("avg_sensitivity", &q.avg_sensitivity),
            ("local_lipschitz_estimate", &q.local_lipschitz_estimate),
            ("faithfulness_correlation", &q.faithfulness_correlation),
            ("monotonicity_correlation", &q.monotonicity_correlation),
            ("random_logit", &q.random_logit),
        ] {
            let (a, b) = (mean(&ours[metric]), mean(theirs));
            println!(
                "{name:14} {metric:26} ours {a:.5} Quantus {b:.5} ({:+.1} %)",
                100.0 * (a - b) / b.abs()
            );
            // Random logit: Quantus, called one image at a time, reseeds its draw each call and
            // so always explains the same rank of other class; ours draws. The values for
            // Quantus's own class match per image in `deterministic_metrics_match_quantus`.
            if metric == "random_logit" {
                continue;
            }
            // Near 0 (gradient × input's monotonicity: most of its groups are exact zeros, grouped
            // in a sort's tie order, which differs) 5 % of the mean is nothing: 0.05 absolute.
            let ok = if b.abs() < 0.1 {
                (a - b).abs() <= 0.05
            } else {
                rel(a, b) <= 0.05
            };
            if !ok {
                failures.push(format!("{name} {metric}: ours {a}, Quantus {b}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Time per metric per image, natively, on the first digit with the gradient (printed; run with
/// `--nocapture`).
#[test]
fn time_per_metric() {
    let device = cpu();
    let net = trained(&device);
    let (pixels, label) = digit(0);
    let explain = Explainer::Backprop(Method::Gradient);
    let map = map_of(&net, &explain, &pixels, label);
    let mask = ink(&pixels);
    let time = |name: &str, f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        println!("{name:48} {:9.2} ms", start.elapsed().as_secs_f64() * 1e3);
    };
    time("explain (gradient, for scale)", &mut || {
        drop(map_of(&net, &explain, &pixels, label))
    });
    time("sparseness", &mut || drop(complexity::sparseness(&map)));
    time("complexity", &mut || drop(complexity::complexity(&map)));
    time("effective complexity", &mut || {
        drop(complexity::effective_complexity(&map, EFFECTIVE_EPSILON))
    });
    time("pointing game", &mut || {
        drop(localisation::pointing_game(&map, &mask))
    });
    time("relevance mass accuracy", &mut || {
        drop(localisation::relevance_mass_accuracy(&map, &mask))
    });
    time("relevance rank accuracy", &mut || {
        drop(localisation::relevance_rank_accuracy(&map, &mask))
    });
    time("pixel flipping (1 per step, 784 passes)", &mut || {
        drop(faith::pixel_flipping(&net, &pixels, &map, label, 1))
    });
    time("pixel flipping (4 per step)", &mut || {
        drop(faith::pixel_flipping(&net, &pixels, &map, label, 4))
    });
    time("region perturbation (8×8, 16 regions)", &mut || {
        drop(faith::region_perturbation(
            &net, &pixels, &map, label, 8, 100,
        ))
    });
    time("faithfulness correlation (100 runs)", &mut || {
        drop(faith::faithfulness_correlation(
            &net, &pixels, &map, label, 100, 224, 0,
        ))
    });
    let m = Monotonicity {
        features_in_step: 28,
        samples: 10,
        ..Monotonicity::default()
    };
    time(
        "monotonicity correlation (28 per step, 10 samples)",
        &mut || {
            drop(faith::monotonicity_correlation(
                &net, &pixels, &map, label, &m,
            ))
        },
    );
    time("max/avg sensitivity (200 samples)", &mut || {
        drop(robustness::sensitivities(
            &net,
            &pixels,
            &map,
            label,
            &explain,
            &Noise::SENSITIVITY,
        ))
    });
    time("local Lipschitz estimate (200 samples)", &mut || {
        drop(robustness::local_lipschitz_estimate(
            &net,
            &pixels,
            &map,
            label,
            &explain,
            &Noise::LIPSCHITZ,
        ))
    });
    time("random logit", &mut || {
        drop(randomisation::random_logit(
            &net,
            &pixels,
            &map,
            (label + 1) % 10,
            &explain,
        ))
    });
    time("efficient MPRT (5 stages)", &mut || {
        drop(randomisation::efficient_mprt(
            &net, &pixels, label, &explain, 0, EMPRT_BINS,
        ))
    });
    time("completeness", &mut || {
        drop(axiomatic::completeness(&net, &pixels, &map, label))
    });
    time("input invariance", &mut || {
        drop(axiomatic::input_invariance(
            &net, &pixels, &map, label, &explain, SHIFT,
        ))
    });
}
