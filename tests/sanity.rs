//! The model-randomisation sanity check: the cascade re-initialises exactly the layers it
//! says, and randomising the top layer changes the gradient map (Adebayo et al. 2018). Maps are
//! compared signed (the paper's "no absolute value" rank correlation): on magnitudes, the
//! valid convolution's border (edge pixels feed fewer windows, whatever the weights) keeps
//! even a fully random network's map at ρ ≈ 0.5.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use deep_inside::model::Network;
use deep_inside::saliency::{Method, signed};
use deep_inside::sanity::{STAGES, cascade, spearman};

fn parameters(net: &Network) -> Vec<Vec<f32>> {
    net.flat_parameters().into_iter().map(values).collect()
}

#[test]
fn the_cascade_reinitialises_from_the_top_down() {
    let device = cpu();
    let net = trained(&device);
    let stages = cascade(&net, 9).unwrap();
    assert_eq!(stages.len(), STAGES.len());
    let trained = parameters(&net);
    // Weight and bias per layer: conv1, conv2, fc1, fc2.
    for (s, stage) in stages.iter().enumerate() {
        let p = parameters(stage);
        for layer in 0..4 {
            let random = layer >= 4 - s;
            assert_eq!(
                p[2 * layer] != trained[2 * layer],
                random,
                "stage {} layer {layer}",
                STAGES[s]
            );
            if random {
                assert!(p[2 * layer + 1].iter().all(|&b| b == 0.0));
            }
        }
    }
    // The same seed gives the same networks.
    assert_eq!(
        parameters(&cascade(&net, 9).unwrap()[4]),
        parameters(&stages[4])
    );
}

#[test]
fn randomising_the_top_layer_changes_the_gradient_map() {
    let device = cpu();
    let net = trained(&device);
    let stages = cascade(&net, 2018).unwrap();
    let digits = heldout();
    let count = 50;
    let mut rho = [[0f32; 5]; 3];
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
