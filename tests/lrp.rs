//! LRP (METHODS.md §4): FC-as-conv, conservation, LRP-0 = gradient × input, every rule on a
//! hand-worked two-layer network.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::{Tensor, TensorData};
use common::*;
use deep_inside::lrp::{Rule, Rules, relevance, totals};
use deep_inside::model::{Layer, Network, PIXELS};
use deep_inside::saliency::{Method, signed};
use deep_inside::walk::PoolRule;

fn some_digits(device: &burn::tensor::Device) -> (Tensor<4>, Vec<usize>) {
    let digits = heldout();
    let picks = [5usize, 120, 333, 500, 871];
    let images: Vec<f32> = picks.iter().flat_map(|&i| digits.image(i)).collect();
    let labels = picks
        .iter()
        .map(|&i| usize::from(digits.labels[i]))
        .collect();
    (image(&images, device), labels)
}

fn rules(layers: [Rule; 4]) -> Rules {
    Rules {
        layers: layers.to_vec(),
        pool: PoolRule::WinnerTakeAll,
    }
}

#[test]
fn fc_as_conv_gives_the_same_scores_and_the_same_relevance() {
    let device = cpu();
    let net = trained(&device);
    let conv = net.fc_as_conv([1, 28, 28]);
    assert!(
        conv.layers
            .iter()
            .all(|l| !matches!(l, Layer::Linear { .. } | Layer::Flatten))
    );
    let (x, _) = some_digits(&device);
    let err = relative_error(
        &values(conv.forward(x.clone())),
        &values(net.forward(x.clone())),
    );
    assert!(err <= 1e-5, "scores differ by {err}");
    for preset in ["recommended", "epsilon", "zplus", "alpha2beta1"] {
        let r = Rules::preset(preset).unwrap();
        let a = relevance(&net, x.clone(), 3, &r).unwrap();
        let b = relevance(&conv, x.clone(), 3, &r).unwrap();
        for (la, lb) in a.layers.iter().zip(&b.layers) {
            let err = relative_error(
                &values(
                    la.full
                        .clone()
                        .reshape([la.full.dims().iter().product::<usize>()]),
                ),
                &values(
                    lb.full
                        .clone()
                        .reshape([lb.full.dims().iter().product::<usize>()]),
                ),
            );
            assert!(err <= 1e-5, "{preset} {}: {err}", la.name);
        }
    }
}

#[test]
fn relevance_is_conserved_at_every_layer_without_biases() {
    let device = cpu();
    let net = trained(&device).without_biases().fc_as_conv([1, 28, 28]);
    let (x, labels) = some_digits(&device);
    let zb = Rule::ZBox {
        low: 0.0,
        high: 1.0,
    };
    let cases = [
        ("LRP-0", rules([Rule::Zero; 4])),
        ("z+", rules([Rule::Z_PLUS; 4])),
        (
            "zB + LRP-0",
            rules([zb, Rule::Zero, Rule::Zero, Rule::Zero]),
        ),
        (
            "zB + z+",
            rules([zb, Rule::Z_PLUS, Rule::Z_PLUS, Rule::Z_PLUS]),
        ),
    ];
    for (name, r) in cases {
        for (k, &class) in labels.iter().enumerate() {
            let out = relevance(&net, x.clone(), class, &r).unwrap();
            let score = values(out.scores.clone())[k * 10 + class];
            assert!(score > 0.0, "the digit's own class scores positive");
            for layer in &out.layers {
                let total = values(totals(layer.full.clone()))[k];
                let err = (total - score).abs();
                assert!(
                    err <= 1e-4 * score.abs(),
                    "{name}, digit {k}, {}: ΣR {total} vs S_c {score}",
                    layer.name
                );
            }
        }
    }
}

#[test]
fn lrp_zero_without_biases_is_gradient_times_input() {
    let device = cpu();
    let net = trained(&device).without_biases();
    let (x, labels) = some_digits(&device);
    let acts = net.trace(x.clone());
    let pixels = values(x.clone());
    for class in [labels[0], 7] {
        let out = relevance(&net, x.clone(), class, &rules([Rule::Zero; 4])).unwrap();
        let lrp = values(out.layers[0].full.clone());
        let gradient = values(signed(&net, &acts, class, Method::Gradient).unwrap());
        let gxi: Vec<f32> = gradient.iter().zip(&pixels).map(|(g, x)| g * x).collect();
        for (k, (a, b)) in lrp.chunks(PIXELS).zip(gxi.chunks(PIXELS)).enumerate() {
            let err = relative_error(a, b);
            assert!(err <= 1e-5, "class {class}, digit {k}: {err}");
        }
    }
}

#[test]
fn epsilon_absorbs_more_relevance_as_it_grows() {
    let device = cpu();
    let net = trained(&device).fc_as_conv([1, 28, 28]);
    let (x, labels) = some_digits(&device);
    let mut last = f32::INFINITY;
    for eps in [0.0, 0.1, 1.0, 10.0, 100.0] {
        let out = relevance(&net, x.clone(), labels[0], &rules([Rule::Epsilon(eps); 4])).unwrap();
        let total = values(totals(out.layers[0].full.clone()))[0];
        assert!(total < last, "ε {eps}: ΣR {total} is not below {last}");
        last = total;
    }
}

/// x = [1, 2] → Linear W1 = [[1, −1], [2, 1]] (rows: inputs), b1 = 0 → ReLU
///   → Linear W2 = [[1], [−2]], b2 = 1.
/// Forward: z1 = [1·1 + 2·2, 1·(−1) + 2·1] = [5, 1], h = [5, 1], S = 5 − 2 + 1 = 4.
fn two_layers() -> (Network, Tensor<4>) {
    let device = cpu();
    let t1 = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &device);
    let t2 =
        |v: &[f32], s: [usize; 2]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), s), &device);
    let net = Network {
        layers: vec![
            Layer::Linear {
                name: "fc1",
                weight: t2(&[1., -1., 2., 1.], [2, 2]),
                bias: t1(&[0., 0.]),
            },
            Layer::Relu,
            Layer::Linear {
                name: "fc2",
                weight: t2(&[1., -2.], [2, 1]),
                bias: t1(&[1.]),
            },
        ],
    };
    let x = Tensor::from_data(TensorData::new(vec![1f32, 2.], [1, 2, 1, 1]), &device);
    (net, x)
}

fn hand(first: Rule, second: Rule) -> (Vec<f32>, Vec<f32>) {
    let (net, x) = two_layers();
    let r = Rules {
        layers: vec![first, second],
        pool: PoolRule::WinnerTakeAll,
    };
    let out = relevance(&net, x, 0, &r).unwrap();
    assert_eq!(values(out.scores.clone()), [4.0]);
    (
        values(out.layers[0].full.clone()),
        values(out.layers[1].full.clone()),
    )
}

fn close(a: &[f32], b: &[f32]) {
    assert!(
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-5),
        "{a:?} vs {b:?}"
    );
}

#[test]
fn every_rule_gives_the_hand_worked_values() {
    // LRP-0. Top: z = 4 (bias in), s = 1, R_h = h ⊙ W2·s = [5, −2] (the bias keeps 1).
    // Bottom: s = [5/5, −2/1] = [1, −2], W1·s = [1 + 2, 2 − 2] = [3, 0], R_x = x ⊙ that = [3, 0].
    let (rx, rh) = hand(Rule::Zero, Rule::Zero);
    close(&rh, &[5., -2.]);
    close(&rx, &[3., 0.]);

    // LRP-ε, ε = 1. Top: s = 4/5, R_h = [4, −1.6].
    // Bottom: z = [6, 2], s = [2/3, −0.8], W1·s = [2/3 + 0.8, 4/3 − 0.8], R_x = [22/15, 16/15].
    let (rx, rh) = hand(Rule::Epsilon(1.0), Rule::Epsilon(1.0));
    close(&rh, &[4., -1.6]);
    close(&rx, &[22. / 15., 16. / 15.]);

    // LRP-γ, γ = 1: ρ(W2) = [2, −2], ρ(b2) = 2, z = 10 − 2 + 2 = 10, s = 0.4, R_h = [4, −0.8].
    // ρ(W1) = [[2, −1], [4, 2]], z = [10, 3], s = [0.4, −0.8/3],
    // ρ(W1)·s = [0.8 + 0.8/3, 1.6 − 1.6/3] = [16/15, 16/15], R_x = [16/15, 32/15].
    let (rx, rh) = hand(Rule::Gamma(1.0), Rule::Gamma(1.0));
    close(&rh, &[4., -0.8]);
    close(&rx, &[16. / 15., 32. / 15.]);

    // z⁺: z⁺ = 5·1 + b⁺ = 6, R_h = [5·4/6, 0] = [10/3, 0].
    // W1⁺ = [[1, 0], [2, 1]], z⁺ = [5, 2], s = [2/3, 0], R_x = [1·2/3, 2·4/3] = [2/3, 8/3].
    let (rx, rh) = hand(Rule::Z_PLUS, Rule::Z_PLUS);
    close(&rh, &[10. / 3., 0.]);
    close(&rx, &[2. / 3., 8. / 3.]);

    // α2β1. Top: positive part [10/3, 0]; negative part z⁻ = 1·(−2) = −2 gives [0, 4];
    //   R_h = 2·[10/3, 0] − [0, 4] = [20/3, −4].
    // Bottom, R = [20/3, −4]: positive z⁺ = [5, 2], s⁺ = [4/3, −2], W1⁺·s⁺ = [4/3, 2/3],
    //   R⁺ = [4/3, 4/3]; negative W1⁻ = [[0, −1], [0, 0]], z⁻ = [0, −1], s⁻ = [·, 4]
    //   (nothing flows from the empty side), W1⁻·s⁻ = [−4, 0], R⁻ = [−4, 0];
    //   R_x = 2·R⁺ − R⁻ = [8/3 + 4, 8/3] = [20/3, 8/3].
    let ab = Rule::AlphaBeta {
        alpha: 2.0,
        beta: 1.0,
    };
    let (rx, rh) = hand(ab, ab);
    close(&rh, &[20. / 3., -4.]);
    close(&rx, &[20. / 3., 8. / 3.]);

    // zB with the box [0, 2] below LRP-0 (R_h = [5, −2]):
    //   z = x·w − 0·w⁺ − 2·w⁻: [5, 1 + 2] = [5, 3], s = [1, −2/3];
    //   W1·s = [1 + 2/3, 2 − 2/3], W1⁻·s = [2/3, 0];
    //   R_x = x ⊙ W1·s − 2·W1⁻·s = [5/3 − 4/3, 8/3 − 0] = [1/3, 8/3]  (sums to 3, conserved).
    let (rx, _) = hand(
        Rule::ZBox {
            low: 0.0,
            high: 2.0,
        },
        Rule::Zero,
    );
    close(&rx, &[1. / 3., 8. / 3.]);

    // w² below LRP-0: W1² = [[1, 1], [4, 1]], column sums [5, 2],
    //   R_x = [1/5·5 + 1/2·(−2), 4/5·5 + 1/2·(−2)] = [0, 3].
    let (rx, _) = hand(Rule::WSquare, Rule::Zero);
    close(&rx, &[0., 3.]);

    // flat below LRP-0: each output spreads evenly over both inputs: [(5 − 2)/2; 2].
    let (rx, _) = hand(Rule::Flat, Rule::Zero);
    close(&rx, &[1.5, 1.5]);
}

#[test]
fn proportional_pooling_and_presets() {
    let device = cpu();
    let net = trained(&device).without_biases().fc_as_conv([1, 28, 28]);
    let (x, labels) = some_digits(&device);
    let mut r = rules([Rule::Zero; 4]);
    r.pool = PoolRule::Proportional;
    let out = relevance(&net, x, labels[0], &r).unwrap();
    let score = values(out.scores.clone())[labels[0]];
    let total = values(totals(out.layers[0].full.clone()))[0];
    assert!(
        (total - score).abs() <= 1e-4 * score.abs(),
        "proportional pooling conserves too"
    );
    assert!(Rules::preset("recommended").is_ok());
    assert!(Rules::preset("nope").unwrap_err().0.contains("composite"));
    assert!(Rule::parse("gamma", 0.1, 0.5).is_ok());
    assert!(
        Rule::parse("bogus", 0.1, 0.5)
            .unwrap_err()
            .0
            .contains("rule")
    );
}
