//! The model-randomisation sanity check: the cascade re-initialises exactly the layers it
//! says, on every shipped network, its maps are the methods' own, and randomising the top
//! layer changes the gradient map (Adebayo et al. 2018). Maps are compared signed (the paper's
//! "no absolute value" rank correlation): on magnitudes, the valid convolution's border (edge
//! pixels feed fewer windows, whatever the weights) keeps even a fully random network's map at
//! ρ ≈ 0.5.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use deep_inside::attribution::gradient_times_input;
use deep_inside::data::Shipped;
use deep_inside::lrp::{Rules, relevance};
use deep_inside::model::{Layer, Network};
use deep_inside::saliency::{Method, signed};
use deep_inside::sanity::{METHODS, SEED, cascade, maps, spearman, stages};

/// The weight and bias of every conv and linear layer, from the input side.
fn parameters(net: &Network) -> Vec<(Vec<f32>, Vec<f32>)> {
    net.weighted()
        .into_iter()
        .map(|i| match &net.layers[i] {
            Layer::Conv(conv) => (
                values(conv.weight.val()),
                conv.bias.as_ref().map_or(Vec::new(), |b| values(b.val())),
            ),
            Layer::Linear(linear) => (
                values(linear.weight.val()),
                linear.bias.as_ref().map_or(Vec::new(), |b| values(b.val())),
            ),
            _ => unreachable!("weighted() lists conv and linear layers"),
        })
        .collect()
}

#[test]
fn the_cascade_reinitialises_from_the_top_down() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).unwrap();
        let net = &model.network;
        let names = stages(&model);
        let stages = cascade(net, 9).unwrap();
        let layers = net.weighted().len();
        assert_eq!(stages.len(), layers + 1);
        assert_eq!(names.len(), stages.len());
        assert_eq!(names[0], "trained");
        for (s, name) in names.iter().enumerate().skip(1) {
            assert_eq!(*name, model.weighted()[layers - s].name);
        }
        let trained = parameters(net);
        for (s, stage) in stages.iter().enumerate() {
            let p = parameters(stage);
            for layer in 0..layers {
                let random = layer >= layers - s;
                assert_eq!(
                    p[layer].0 != trained[layer].0,
                    random,
                    "{} stage {} layer {layer}",
                    shipped.name(),
                    names[s]
                );
                if random {
                    assert!(p[layer].1.iter().all(|&b| b == 0.0));
                } else {
                    assert_eq!(p[layer].1, trained[layer].1);
                }
            }
        }
        // The same seed gives the same networks, another seed others.
        let again = cascade(net, 9).unwrap();
        assert_eq!(parameters(&again[layers]), parameters(&stages[layers]));
        let other = cascade(net, 10).unwrap();
        assert_ne!(parameters(&other[1]), parameters(&stages[1]));
    }
}

/// `sanity::maps` is every method's own map at every stage, summed over channels.
#[test]
fn the_maps_of_every_stage_are_the_methods_own() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).unwrap();
        let stages = cascade(&model.network, SEED).unwrap();
        let rules = Rules::preset("recommended", &model).unwrap();
        let (x, labels) = pick(shipped, &[77], &device);
        let class = labels[0];
        let all = maps(&stages, x.clone(), class, &rules).unwrap();
        assert_eq!(all.dims(), [stages.len() * METHODS.len(), 1, 28, 28]);
        let all = values(all);
        for (s, net) in stages.iter().enumerate() {
            let acts = net.trace(x.clone());
            let own = [
                signed(net, &acts, class, Method::Gradient).unwrap(),
                gradient_times_input(net, &acts, class).unwrap(),
                signed(net, &acts, class, Method::Deconvnet).unwrap(),
                signed(net, &acts, class, Method::Guided).unwrap(),
                relevance(net, x.clone(), class, &rules).unwrap().pixels,
            ];
            for (m, map) in own.into_iter().enumerate() {
                let at = (s * METHODS.len() + m) * 784;
                let err = relative_error(&all[at..at + 784], &values(map.sum_dim(1)));
                assert!(
                    err <= 1e-6,
                    "{} stage {s} {}: {err}",
                    shipped.name(),
                    METHODS[m]
                );
            }
        }
    }
}

#[test]
fn randomising_the_top_layer_changes_the_gradient_map() {
    let device = cpu();
    let net = trained(&device);
    let stages = cascade(&net, SEED).unwrap();
    let digits = heldout();
    let count = 50;
    let mut rho = vec![vec![0f32; stages.len()]; 3];
    for d in 0..count {
        let i = d * 20;
        let (pixels, class) = (digits.image(i), usize::from(digits.labels[i]));
        for (m, method) in Method::ALL.into_iter().enumerate() {
            let map = |n: &Network| {
                values(signed(n, &n.trace(image(&pixels, &device)), class, method).unwrap())
            };
            let reference = map(&stages[0]);
            for (s, stage) in stages.iter().enumerate() {
                rho[m][s] += spearman(&reference, &map(stage)).unwrap() / count as f32;
            }
        }
    }
    for (m, method) in Method::ALL.into_iter().enumerate() {
        eprintln!(
            "{:>10}: mean Spearman per stage {:?}",
            method.name(),
            rho[m]
        );
    }
    assert!((rho[0][0] - 1.0).abs() < 1e-6);
    assert!(rho[0][1] < 0.5, "gradient after FC2: {}", rho[0][1]);
    // The paper's finding: guided backprop hardly notices.
    assert!(
        rho[2][1] > rho[0][1] + 0.3,
        "guided after FC2: {}",
        rho[2][1]
    );
}
