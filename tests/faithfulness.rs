//! Deletion and insertion curves: their end points and steps against single forward passes,
//! the AUC against a hand computation, and the claim that gradient saliency and LRP
//! delete the evidence faster than a random order.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::activation;
use common::*;
use deep_inside::data::{PIXELS, SIDE, Shipped};
use deep_inside::faithfulness::{
    Perturbation, auc, check_step, curves, points, random_ranking, ranking,
};
use deep_inside::lrp::{Rules, relevance};
use deep_inside::model::Network;
use deep_inside::saliency::{Method, saliency};

fn probability(net: &Network, pixels: &[f32], class: usize) -> f32 {
    let device = cpu();
    values(activation::softmax(net.forward(image(pixels, &device)), 1))[class]
}

#[test]
fn auc_is_the_normalised_trapezoid_area() {
    assert_eq!(auc(&[1.0, 0.5, 0.0]), 0.5);
    // (0.9 + 0.2 + 0.1 + 0.1 − 0.45 − 0.05) / 3
    assert!((auc(&[0.9, 0.2, 0.1, 0.1]) - 0.8 / 3.0).abs() < 1e-6);
    assert!((auc(&[0.3; 50]) - 0.3).abs() < 1e-6);
}

#[test]
fn curve_points_are_the_probabilities_of_the_perturbed_images() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network;
        let digits = shipped.dataset().heldout().unwrap();
        let (pixels, class) = (digits.image(321), usize::from(digits.labels[321]));
        let map = values(saliency(&net, image(&pixels, &device), class, Method::Gradient).unwrap());
        let k = 50;
        let rankings = vec![
            ranking(&map, [SIDE, SIDE]).unwrap(),
            random_ranking(PIXELS, 3),
        ];
        let n = points(PIXELS, k);
        assert_eq!(n, 17);
        let blank = vec![0f32; PIXELS];
        for perturbation in Perturbation::ALL {
            let all =
                values(curves(&net, &pixels, class, &rankings, k, perturbation, &device).unwrap());
            assert_eq!(all.len(), 2 * n);
            for (r, order) in rankings.iter().enumerate() {
                let curve = &all[r * n..(r + 1) * n];
                // Step 5 by hand: the first 250 ranked pixels removed, or put back.
                let mut by_hand = match perturbation {
                    Perturbation::Deletion => pixels.clone(),
                    Perturbation::Insertion => blank.clone(),
                };
                for &i in &order[..5 * k] {
                    by_hand[i] = if perturbation == Perturbation::Deletion {
                        0.0
                    } else {
                        pixels[i]
                    };
                }
                let (start, end) = match perturbation {
                    Perturbation::Deletion => (&pixels, &blank),
                    Perturbation::Insertion => (&blank, &pixels),
                };
                for (at, image) in [(0, start), (5, &by_hand), (n - 1, end)] {
                    let p = probability(&net, image, class);
                    assert!(
                        (curve[at] - p).abs() < 1e-5,
                        "{} {perturbation:?} point {at}: {} vs {p}",
                        shipped.name(),
                        curve[at]
                    );
                }
            }
        }
    }
}

#[test]
fn rankings_put_the_highest_value_first_and_bad_ones_are_refused() {
    let mut map = vec![0f32; PIXELS];
    map[7] = 3.0;
    map[500] = 2.0;
    map[9] = -1.0;
    let order = ranking(&map, [SIDE, SIDE]).unwrap();
    assert_eq!(&order[..3], &[7, 500, 0]);
    assert_eq!(order[PIXELS - 1], 9);
    assert!(ranking(&map[..5], [SIDE, SIDE]).is_err());
    // Any size: a 2×3 map.
    assert_eq!(
        ranking(&[0.0, 5.0, -1.0, 2.0, 2.0, 9.0], [2, 3]).unwrap(),
        [5, 1, 3, 4, 0, 2]
    );
    assert_eq!(points(6, 4), 3);
    assert!(check_step(6, 6).is_ok());
    assert!(check_step(6, 7).is_err() && check_step(6, 0).is_err());
    let device = cpu();
    let net = trained(&device);
    let pixels = heldout().image(0);
    let mut twice = random_ranking(PIXELS, 1);
    twice[0] = twice[1];
    for (bad, k) in [
        (vec![twice], 16),
        (vec![random_ranking(PIXELS, 1)], 0),
        (vec![random_ranking(PIXELS - 1, 1)], 16),
        (vec![], 16),
    ] {
        assert!(curves(&net, &pixels, 0, &bad, k, Perturbation::Deletion, &device).is_err());
    }
}

#[test]
fn gradient_and_lrp_delete_the_evidence_faster_than_a_random_order() {
    let device = cpu();
    let net = trained(&device);
    let digits = heldout();
    let rules = Rules::preset("recommended", &model(&device)).unwrap();
    let k = 16;
    let n = points(PIXELS, k);
    let mut sums = [0f32; 3];
    let count = 100;
    for d in 0..count {
        let i = d * 10;
        let (pixels, class) = (digits.image(i), usize::from(digits.labels[i]));
        let x = image(&pixels, &device);
        let gradient = values(saliency(&net, x.clone(), class, Method::Gradient).unwrap());
        let lrp = values(
            relevance(&net, x, class, &rules).unwrap().layers[0]
                .map
                .clone(),
        );
        let rankings = vec![
            ranking(&gradient, [SIDE, SIDE]).unwrap(),
            ranking(&lrp, [SIDE, SIDE]).unwrap(),
            random_ranking(PIXELS, i as u64),
        ];
        let all = values(
            curves(
                &net,
                &pixels,
                class,
                &rankings,
                k,
                Perturbation::Deletion,
                &device,
            )
            .unwrap(),
        );
        for (s, curve) in sums.iter_mut().zip(all.chunks(n)) {
            *s += auc(curve) / count as f32;
        }
    }
    let [gradient, lrp, random] = sums;
    eprintln!(
        "mean deletion AUC over {count} digits: gradient {gradient:.3}, LRP {lrp:.3}, random {random:.3}"
    );
    assert!(gradient < random, "gradient {gradient} vs random {random}");
    assert!(lrp < random, "LRP {lrp} vs random {random}");
}
