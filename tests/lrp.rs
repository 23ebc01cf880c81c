//! LRP (METHODS.md §4) on every shipped network: dense layers as convolutions, conservation at
//! every layer, LRP-0 = gradient × input, every rule on a hand-worked two-layer network, the
//! presets' rules by position, and the rules' validation.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::module::Param;
use burn::nn::LinearConfig;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::{Device, Tensor, TensorData};
use common::*;
use deep_inside::Error;
use deep_inside::data::{PIXELS, Shipped};
use deep_inside::lrp::{Rule, Rules, relevance, totals};
use deep_inside::model::{Kind, Layer, LayerConfig, Model, Network, NetworkConfig};
use deep_inside::saliency::{Method, signed};
use deep_inside::walk::PoolRule;

const PICKS: [usize; 5] = [5, 120, 333, 500, 871];

fn rules(layers: Vec<Rule>) -> Rules {
    Rules {
        layers,
        max_pool: PoolRule::Gradient,
    }
}

/// `rule` on every conv and linear layer of `net`.
fn everywhere(rule: Rule, net: &Network) -> Rules {
    rules(vec![rule; net.weighted().len()])
}

/// The same network with every dense layer as a convolution: a Flatten and the Linear after it
/// become one conv whose kernel covers the whole map, a Linear on a flat input a 1×1 conv.
fn dense_as_conv(net: &Network) -> Network {
    let device = net.device();
    let [c, h, w] = net.input;
    let acts = net.trace(Tensor::zeros([1, c, h, w], &device));
    let mut layers = Vec::with_capacity(net.layers.len());
    for (i, layer) in net.layers.iter().enumerate() {
        match layer {
            Layer::Flatten(_) if matches!(net.layers.get(i + 1), Some(Layer::Linear(_))) => {}
            Layer::Linear(linear) => {
                let before = match i.checked_sub(1).map(|p| &net.layers[p]) {
                    Some(Layer::Flatten(_)) => i - 1,
                    _ => i,
                };
                let [_, c, h, w] = acts[before].dims();
                let [_, out] = linear.weight.dims();
                let mut conv = Conv2dConfig::new([c, out], [h, w])
                    .with_bias(linear.bias.is_some())
                    .init(&device);
                // `[in, out]` → `[out, c, h, w]`: the flatten's row-major order of c, h, w.
                conv.weight =
                    Param::from_tensor(linear.weight.val().transpose().reshape([out, c, h, w]));
                conv.bias = linear.bias.as_ref().map(|b| Param::from_tensor(b.val()));
                layers.push(Layer::Conv(conv));
            }
            other => layers.push(other.clone()),
        }
    }
    Network {
        layers,
        input: net.input,
    }
}

#[test]
fn dense_layers_as_convolutions_give_the_same_scores_and_relevance() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).unwrap();
        let net = &model.network;
        let conv = dense_as_conv(net);
        assert!(
            conv.layers
                .iter()
                .all(|l| !matches!(l.kind(), Kind::Linear | Kind::Flatten))
        );
        let (x, _) = pick(shipped, &PICKS, &device);
        let err = relative_error(
            &values(conv.forward(x.clone())),
            &values(net.forward(x.clone())),
        );
        assert!(err <= 1e-5, "{}: scores differ by {err}", shipped.name());
        for preset in [
            "recommended",
            "epsilon",
            "zplus",
            "alpha2beta1",
            "epsilon_plus",
        ] {
            // The rules of the original layers, position by position.
            let r = Rules::preset(preset, &model).unwrap();
            let a = relevance(net, x.clone(), 3, &r).unwrap();
            let b = relevance(&conv, x.clone(), 3, &r).unwrap();
            assert_eq!(a.layers.len(), b.layers.len());
            for (la, lb) in a.layers.iter().zip(&b.layers) {
                assert_eq!(la.full.dims(), lb.full.dims());
                let err = relative_error(&values(la.full.clone()), &values(lb.full.clone()));
                assert!(
                    err <= 1e-5,
                    "{} {preset}, layer {}: {err}",
                    shipped.name(),
                    la.layer
                );
            }
        }
    }
}

/// The class each image scores highest, and that score, on `net`.
fn winners(net: &Network, x: Tensor<4>) -> Vec<(usize, f32)> {
    let scores = values(net.forward(x));
    let classes = scores.len() / PICKS.len();
    scores
        .chunks(classes)
        .map(|row| {
            let c = (0..classes)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap();
            (c, row[c])
        })
        .collect()
}

#[test]
fn relevance_is_conserved_at_every_layer_without_biases() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).unwrap();
        // Biases zeroed on the canonical network: merged batch-norm shifts included.
        let net = model.network.without_biases();
        let (x, _) = pick(shipped, &PICKS, &device);
        let [low, high] = model.config.input_range;
        let zb = Rule::zbox(low, high).unwrap();
        let n = net.weighted().len();
        let below = |first: Rule, rest: Rule| {
            rules(
                std::iter::once(first)
                    .chain(std::iter::repeat_n(rest, n - 1))
                    .collect(),
            )
        };
        let cases = [
            ("LRP-0", everywhere(Rule::Zero, &net)),
            ("z+", everywhere(Rule::Z_PLUS, &net)),
            ("zB + LRP-0", below(zb, Rule::Zero)),
            ("zB + z+", below(zb, Rule::Z_PLUS)),
        ];
        for (k, (class, score)) in winners(&net, x.clone()).into_iter().enumerate() {
            assert!(
                score > 0.0,
                "{}: the winning class scores positive",
                shipped.name()
            );
            let xk = x.clone().narrow(0, k, 1);
            for (name, r) in &cases {
                let out = relevance(&net, xk.clone(), class, r).unwrap();
                assert_eq!(out.layers.len(), n);
                let totals = out
                    .layers
                    .iter()
                    .map(|l| (l.layer, values(totals(l.full.clone()))[0]))
                    .chain([(0, values(totals(out.pixels.clone()))[0])]);
                for (layer, total) in totals {
                    let err = (total - score).abs();
                    assert!(
                        err <= 1e-4 * score.abs(),
                        "{} {name}, image {k}, layer {layer}: ΣR {total} vs S_c {score}",
                        shipped.name()
                    );
                }
            }
        }
    }
}

/// LRP-0 is gradient × input on a ReLU network: `R = a ⊙ ∂S_c/∂a` holds from the top down
/// (with biases too, as each `z` includes its bias; average pools proportional).
#[test]
fn lrp_zero_is_gradient_times_input() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).unwrap();
        let (x, labels) = pick(shipped, &PICKS, &device);
        let pixels = values(x.clone());
        for (biases, net, tolerance) in [
            ("without biases", model.network.without_biases(), 1e-5),
            ("with biases", model.network.clone(), 1e-4),
        ] {
            let acts = net.trace(x.clone());
            for class in [labels[0], 7] {
                let out = relevance(&net, x.clone(), class, &everywhere(Rule::Zero, &net)).unwrap();
                let lrp = values(out.pixels);
                let gradient = values(signed(&net, &acts, class, Method::Gradient).unwrap());
                let gxi: Vec<f32> = gradient.iter().zip(&pixels).map(|(g, x)| g * x).collect();
                for (k, (a, b)) in lrp.chunks(PIXELS).zip(gxi.chunks(PIXELS)).enumerate() {
                    let err = relative_error(a, b);
                    assert!(
                        err <= tolerance,
                        "{} {biases}, class {class}, image {k}: {err}",
                        shipped.name()
                    );
                }
            }
        }
    }
}

/// The bias of the last layer for `class`.
fn last_bias(net: &Network, class: usize) -> f32 {
    let bias = match &net.layers[*net.weighted().last().unwrap()] {
        Layer::Linear(linear) => linear.bias.as_ref().map(|b| b.val()),
        Layer::Conv(conv) => conv.bias.as_ref().map(|b| b.val()),
        _ => None,
    };
    bias.map_or(0.0, |b| values(b)[class])
}

/// ε takes `ε / (z + ε)` of what passes each layer. At the top this is exact: with
/// `S_c = z_c = Σ_j a_j w_jc + b_c`, the relevance entering the last layer is
/// `S_c (S_c − b_c) / (S_c + ε)`, smaller in magnitude for every larger ε; at the pixels, after
/// every layer has taken its share, ε = 100 leaves next to nothing.
#[test]
fn epsilon_absorbs_more_relevance_as_it_grows() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network;
        let (x, _) = pick(shipped, &PICKS, &device);
        for (k, (class, score)) in winners(&net, x.clone()).into_iter().enumerate() {
            assert!(
                score > 0.0,
                "{}: the winning class scores positive",
                shipped.name()
            );
            let xk = x.clone().narrow(0, k, 1);
            let inner = score - last_bias(&net, class);
            let mut last = f32::INFINITY;
            for eps in [0.0, 0.1, 1.0, 10.0, 100.0] {
                let r = everywhere(Rule::epsilon(eps).unwrap(), &net);
                let out = relevance(&net, xk.clone(), class, &r).unwrap();
                let top = values(totals(out.layers.last().unwrap().full.clone()))[0];
                let expected = score * inner / (score + eps);
                assert!(
                    (top - expected).abs() <= 1e-4 * score,
                    "{} image {k}, ε {eps}: ΣR {top} entering the last layer, expected {expected}",
                    shipped.name()
                );
                assert!(
                    top.abs() < last,
                    "{} image {k}, ε {eps}: |ΣR| {top} is not below {last}",
                    shipped.name()
                );
                last = top.abs();
                if eps == 100.0 {
                    let pixels = values(totals(out.pixels))[0];
                    assert!(
                        pixels.abs() <= 1e-3 * score,
                        "{} image {k}: ΣR {pixels} at the pixels with ε = 100, S_c {score}",
                        shipped.name()
                    );
                }
            }
        }
    }
}

/// x = [1, 2] (a 1×1×2 image) → Flatten → Linear W1 = [[1, −1], [2, 1]] (rows: inputs),
/// b1 = 0 → ReLU → Linear W2 = [[1], [−2]], b2 = 1.
/// Forward: z1 = [1·1 + 2·2, 1·(−1) + 2·1] = [5, 1], h = [5, 1], S = 5 − 2 + 1 = 4.
fn two_layers(device: &Device) -> (Network, Tensor<4>) {
    let config = NetworkConfig::new(
        [1, 1, 2],
        vec![
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(2, 2)),
            LayerConfig::Relu,
            LayerConfig::Linear(LinearConfig::new(2, 1)),
        ],
    );
    let net = with_parameters(
        &config,
        &[(&[1., -1., 2., 1.], &[0., 0.]), (&[1., -2.], &[1.])],
        device,
    );
    let x = Tensor::from_data(TensorData::new(vec![1f32, 2.], [1, 1, 1, 2]), device);
    (net, x)
}

fn hand(first: Rule, second: Rule) -> (Vec<f32>, Vec<f32>) {
    let device = cpu();
    let (net, x) = two_layers(&device);
    let out = relevance(&net, x, 0, &rules(vec![first, second])).unwrap();
    assert_eq!(values(out.scores.clone()), [4.0]);
    assert_eq!(values(out.layers[0].full.clone()), values(out.pixels));
    (
        values(out.layers[0].full.clone()),
        values(out.layers[1].full.clone()),
    )
}

fn close(a: &[f32], b: &[f32]) {
    assert!(
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-5),
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
    let ab = Rule::alpha_beta(2.0, 1.0).unwrap();
    let (rx, rh) = hand(ab, ab);
    close(&rh, &[20. / 3., -4.]);
    close(&rx, &[20. / 3., 8. / 3.]);

    // zB with the box [0, 2] below LRP-0 (R_h = [5, −2]):
    //   z = x·w − 0·w⁺ − 2·w⁻: [5, 1 + 2] = [5, 3], s = [1, −2/3];
    //   W1·s = [1 + 2/3, 2 − 2/3], W1⁻·s = [2/3, 0];
    //   R_x = x ⊙ W1·s − 2·W1⁻·s = [5/3 − 4/3, 8/3 − 0] = [1/3, 8/3]  (sums to 3, conserved).
    let (rx, _) = hand(Rule::zbox(0.0, 2.0).unwrap(), Rule::Zero);
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
fn proportional_pooling_conserves_too() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network.without_biases();
        let (x, _) = pick(shipped, &PICKS[..1], &device);
        let (class, score) = winners(&net, x.clone())[0];
        let mut r = everywhere(Rule::Zero, &net);
        r.max_pool = PoolRule::Proportional;
        let out = relevance(&net, x, class, &r).unwrap();
        let total = values(totals(out.pixels))[0];
        assert!(
            (total - score).abs() <= 1e-4 * score.abs(),
            "{}: ΣR {total} vs S_c {score}",
            shipped.name()
        );
    }
}

/// The recommended composite by position: zB on the pixels, LRP-0 on the scores, γ on the
/// convs and ε on the dense layers between.
#[test]
fn presets_assign_rules_by_kind_and_position() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).unwrap();
        let kinds: Vec<Kind> = model.weighted().iter().map(|l| l.kind).collect();
        let r = Rules::preset("recommended", &model).unwrap();
        assert_eq!(r.layers.len(), kinds.len());
        assert_eq!(r.max_pool, PoolRule::Gradient);
        let [low, high] = model.config.input_range;
        for (i, (rule, kind)) in r.layers.iter().zip(&kinds).enumerate() {
            let expected = if i == 0 {
                Rule::ZBox { low, high }
            } else if i + 1 == kinds.len() {
                Rule::Zero
            } else if *kind == Kind::Conv {
                Rule::Gamma(0.25)
            } else {
                Rule::Epsilon(0.25)
            };
            assert_eq!(*rule, expected, "{} layer {i}", shipped.name());
        }
        let everywhere = Rules::preset("zplus", &model).unwrap();
        assert!(everywhere.layers.iter().all(|r| *r == Rule::Z_PLUS));
        let plus = Rules::preset("epsilon_plus", &model).unwrap();
        for (rule, kind) in plus.layers.iter().zip(&kinds) {
            let expected = match kind {
                Kind::Conv => Rule::Z_PLUS,
                _ => Rule::Epsilon(0.25),
            };
            assert_eq!(*rule, expected);
        }
        // One rule per conv/linear layer, by text.
        let text: Vec<String> = kinds.iter().map(|_| "epsilon(0.1)".to_string()).collect();
        let custom = Rules::custom(&text, &model).unwrap();
        assert!(custom.layers.iter().all(|r| *r == Rule::Epsilon(0.1)));
        let err = Rules::custom(&text[1..], &model).unwrap_err();
        assert!(
            err.to_string().contains("one rule per conv/linear layer"),
            "{err}"
        );
    }
}

fn argument(err: Error) -> String {
    match err {
        Error::Argument { name, .. } => name,
        other => panic!("expected an argument error, got {other:?}"),
    }
}

#[test]
fn rules_are_validated_and_read_back() {
    let device = cpu();
    let model: Model = model(&device);
    assert!(Rules::preset("recommended", &model).is_ok());
    let err = Rules::preset("nope", &model).unwrap_err();
    assert_eq!(argument(err), "composite");
    let bounds = [0.0, 1.0];
    assert_eq!(Rule::parse("gamma", bounds), Ok(Rule::Gamma(0.25)));
    assert_eq!(
        Rule::parse(" epsilon(0.1) ", bounds),
        Ok(Rule::Epsilon(0.1))
    );
    assert_eq!(
        Rule::parse("alphabeta(3, 2)", bounds),
        Ok(Rule::AlphaBeta {
            alpha: 3.0,
            beta: 2.0
        })
    );
    assert_eq!(
        Rule::parse("zbox", [-1.0, 1.0]),
        Ok(Rule::ZBox {
            low: -1.0,
            high: 1.0
        })
    );
    for (text, name) in [
        ("bogus", "rule"),
        ("epsilon(", "rule"),
        ("epsilon(x)", "rule"),
        ("zero(1)", "rule"),
        ("epsilon(-1)", "epsilon"),
        ("gamma(NaN)", "gamma"),
        ("alphabeta(2, 0)", "alpha"),
        ("alphabeta(0, -1)", "beta"),
        ("zbox(1, 0)", "bounds"),
    ] {
        let err = Rule::parse(text, bounds).unwrap_err();
        assert_eq!(argument(err), name, "{text}");
    }
    let mut text: Vec<String> = vec!["zero".into(); 4];
    text[2] = "bogus".into();
    let err = Rules::custom(&text, &model).unwrap_err();
    assert_eq!(argument(err), "composite[2]");
    for rule in [
        Rule::Zero,
        Rule::Epsilon(0.1),
        Rule::Gamma(0.5),
        Rule::Z_PLUS,
        Rule::AlphaBeta {
            alpha: 2.0,
            beta: 1.0,
        },
        Rule::AlphaBeta {
            alpha: 3.0,
            beta: 2.0,
        },
        Rule::ZBox {
            low: -1.0,
            high: 2.0,
        },
        Rule::WSquare,
        Rule::Flat,
    ] {
        assert_eq!(Rule::parse(&rule.name(), bounds), Ok(rule));
    }
}
