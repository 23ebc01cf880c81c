//! Gradient × input, SmoothGrad and Integrated Gradients, checked against a conservation law
//! (Euler's theorem for a network without biases), burn's autodiff at the same noisy images,
//! and the completeness axiom.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use deep_inside::attribution::{
    Completeness, Smoothing, gradient_times_input, integrated_gradients, smooth_grad,
};
use deep_inside::data::{Dataset, PIXELS, Shipped};
use deep_inside::model::Network;
use deep_inside::rng::SplitMix;
use deep_inside::saliency::{Method, signed};

const DIGITS: [usize; 5] = [3, 250, 421, 688, 940];

#[test]
fn gradient_times_input_sums_to_the_score_without_biases() {
    // A ReLU network without biases is positively homogeneous: S_c(x) = Σ_i x_i ∂S_c/∂x_i.
    // Max and average pools keep it so; the canonical network's biases include the merged
    // batch norms' shifts.
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network.without_biases();
        let digits = shipped.dataset().heldout().unwrap();
        for &i in &DIGITS {
            let x = image(&digits.image(i), &device);
            let acts = net.trace(x.clone());
            let scores = values(net.forward(x));
            for (class, score) in scores.into_iter().enumerate() {
                let total: f32 = values(gradient_times_input(&net, &acts, class).unwrap())
                    .iter()
                    .sum();
                let err = (total - score).abs() / score.abs().max(1.0);
                assert!(
                    err < 1e-4,
                    "{}: image {i}, class {class}: Σ = {total}, S_c = {score}",
                    shipped.name()
                );
            }
        }
    }
}

#[test]
fn smoothgrad_with_no_noise_is_the_gradient() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network;
        let digits = shipped.dataset().heldout().unwrap();
        for &i in &DIGITS[..2] {
            let pixels = digits.image(i);
            let class = usize::from(digits.labels[i]);
            let gradient = values(
                signed(
                    &net,
                    &net.trace(image(&pixels, &device)),
                    class,
                    Method::Gradient,
                )
                .unwrap(),
            );
            for samples in [1, 7, 32] {
                let smoothing = Smoothing {
                    samples,
                    sigma: 0.0,
                    seed: 5,
                };
                let smooth =
                    values(smooth_grad(&net, &pixels, class, &smoothing, &device).unwrap());
                let err = relative_error(&smooth, &gradient);
                assert!(
                    err <= 1e-6,
                    "{}: image {i}, {samples} samples: error {err}",
                    shipped.name()
                );
            }
        }
    }
}

#[test]
fn smoothgrad_is_the_mean_autodiff_gradient_at_the_same_noisy_images() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network;
        let pixels = shipped.dataset().heldout().unwrap().image(421);
        let smoothing = Smoothing {
            samples: 12,
            sigma: 0.2,
            seed: 77,
        };
        let smooth = values(smooth_grad(&net, &pixels, 4, &smoothing, &device).unwrap());
        // The same noise, drawn again image by image, each gradient by autodiff.
        let mut rng = SplitMix(smoothing.seed);
        let mut mean = vec![0f32; PIXELS];
        for _ in 0..smoothing.samples {
            let noisy: Vec<f32> = pixels
                .iter()
                .map(|&p| p + smoothing.sigma * rng.normal())
                .collect();
            for (m, g) in mean
                .iter_mut()
                .zip(autodiff_gradient(&net, image(&noisy, &device), 4))
            {
                *m += g / smoothing.samples as f32;
            }
        }
        let err = relative_error(&smooth, &mean);
        assert!(err <= 1e-5, "{}: relative error {err}", shipped.name());
        // And the noise does change the map.
        let plain = values(
            signed(
                &net,
                &net.trace(image(&pixels, &device)),
                4,
                Method::Gradient,
            )
            .unwrap(),
        );
        assert!(relative_error(&smooth, &plain) > 0.05, "{}", shipped.name());
    }
}

#[test]
fn smoothgrad_rejects_bad_settings() {
    let device = cpu();
    let net = trained(&device);
    let pixels = heldout().image(0);
    let bad = [
        (0, 0.1, "samples"),
        (257, 0.1, "samples"),
        (4, -0.1, "sigma"),
        (4, f32::NAN, "sigma"),
        (4, 2.0, "sigma"),
    ];
    for (samples, sigma, name) in bad {
        let s = Smoothing {
            samples,
            sigma,
            seed: 0,
        };
        let e = smooth_grad(&net, &pixels, 0, &s, &device).unwrap_err();
        assert!(e.to_string().contains(name), "{e}");
    }
    let e = smooth_grad(&net, &pixels[..10], 0, &Smoothing::default(), &device).unwrap_err();
    assert!(e.to_string().contains("pixels"), "{e}");
}

/// IG's completeness error for one image, class and baseline.
fn completeness_error(net: &Network, pixels: &[f32], base: &[f32], class: usize, m: usize) -> f32 {
    let device = cpu();
    let ig = integrated_gradients(net, pixels, base, class, m, &device).unwrap();
    Completeness::new(&values(ig.attribution), &values(ig.scores), class).relative_error
}

#[test]
fn integrated_gradients_completeness_error_falls_with_steps() {
    let device = cpu();
    let net = trained(&device);
    let digits = heldout();
    let black = vec![0f32; PIXELS];
    let mean = Dataset::Mnist.mean().unwrap();
    for (name, base) in [("black", &black), ("mean", &mean)] {
        let mut previous = f32::INFINITY;
        for m in [2, 8, 32, 64] {
            let errors: Vec<f32> = (0..20)
                .map(|k| {
                    let i = k * 50;
                    completeness_error(
                        &net,
                        &digits.image(i),
                        base,
                        usize::from(digits.labels[i]),
                        m,
                    )
                })
                .collect();
            let mean_error = errors.iter().sum::<f32>() / errors.len() as f32;
            let worst = errors.iter().cloned().fold(0f32, f32::max);
            eprintln!("IG from {name}, m = {m}: mean error {mean_error:.5}, worst {worst:.5}");
            assert!(
                mean_error < previous,
                "{name}: the error did not fall from {previous} at m = {m} ({mean_error})"
            );
            if m == 64 {
                assert!(worst <= 0.01, "{name}, m = 64: worst error {worst}");
            }
            previous = mean_error;
        }
    }
}

#[test]
fn integrated_gradients_of_one_step_is_the_midpoint_gradient_times_the_difference() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network;
        let pixels = shipped.dataset().heldout().unwrap().image(688);
        let base = shipped.dataset().mean().unwrap();
        let ig = integrated_gradients(&net, &pixels, &base, 6, 1, &device).unwrap();
        let midpoint: Vec<f32> = pixels
            .iter()
            .zip(&base)
            .map(|(x, b)| (x + b) / 2.0)
            .collect();
        let expected: Vec<f32> = autodiff_gradient(&net, image(&midpoint, &device), 6)
            .iter()
            .zip(pixels.iter().zip(&base))
            .map(|(g, (x, b))| g * (x - b))
            .collect();
        let err = relative_error(&values(ig.attribution), &expected);
        assert!(err <= 1e-5, "{}: relative error {err}", shipped.name());
        // The scores at x and at the baseline, as one forward pass gives them.
        let ends = values(net.forward(image(&[pixels.clone(), base.clone()].concat(), &device)));
        assert!(relative_error(&values(ig.scores), &ends) <= 1e-5);
        for steps in [0, 255] {
            let e = integrated_gradients(&net, &pixels, &base, 6, steps, &device).unwrap_err();
            assert!(e.to_string().contains("steps"), "{e}");
        }
    }
}
