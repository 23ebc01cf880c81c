//! Saliency (paper §3), DeconvNet and guided backprop (§4), checked against burn's autodiff,
//! finite differences, and tiny networks worked out by hand.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::{DType, Device, FloatDType, Tensor, TensorData};
use common::*;
use deep_inside::localise::{BoundingBox, localise};
use deep_inside::model::{CLASSES, Layer, Network, PIXELS};
use deep_inside::saliency::{Method, saliency, signed};
use deep_inside::walk::{Composite, ReluRule, walk};

#[test]
fn walk_gradient_equals_autodiff_for_every_class() {
    let device = cpu();
    let net = trained(&device);
    let digits = heldout();
    let images: Vec<f32> = [0, 137, 402, 777, 999]
        .iter()
        .flat_map(|&i| digits.image(i))
        .collect();
    let x = image(&images, &device);
    let acts = net.trace(x.clone());
    for class in 0..CLASSES {
        let walked = values(signed(&net, &acts, class, Method::Gradient).unwrap());
        let reference = autodiff_gradient(&net, x.clone(), class);
        for (k, (a, b)) in walked
            .chunks(PIXELS)
            .zip(reference.chunks(PIXELS))
            .enumerate()
        {
            let err = relative_error(a, b);
            assert!(
                err <= 1e-5,
                "class {class}, image {k}: relative error {err}"
            );
        }
    }
}

fn values64<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .try_into_vec_as::<f64>()
        .expect("numeric tensor")
}

/// The network in f64, so that finite differences are not swamped by f32 rounding.
fn in_f64(net: &Network) -> Network {
    net.map_parameters(
        |w| w.cast(FloatDType::F64),
        |w| w.cast(FloatDType::F64),
        |b| b.cast(FloatDType::F64),
    )
}

/// Which side of zero every ReLU input is, and where every max-pool's maximum is: the
/// piecewise-linear region of the network at each image of the batch.
fn patterns(net: &Network, x: Tensor<4>) -> Vec<Vec<u8>> {
    let acts = net.trace(x);
    let n = acts[0].dims()[0];
    let mut out = vec![Vec::new(); n];
    for (layer, a) in net.layers.iter().zip(&acts) {
        match layer {
            Layer::Relu => {
                let v = values64(a.clone());
                let per = v.len() / n;
                for (k, chunk) in v.chunks(per).enumerate() {
                    out[k].extend(chunk.iter().map(|&x| (x > 0.0) as u8));
                }
            }
            Layer::MaxPool { size } => {
                let [_, c, h, w] = a.dims();
                let v = values64(a.clone());
                for k in 0..n {
                    for ch in 0..c {
                        for y in (0..h).step_by(*size) {
                            for x in (0..w).step_by(*size) {
                                let at = |dy: usize, dx: usize| {
                                    v[((k * c + ch) * h + y + dy) * w + x + dx]
                                };
                                let mut best = (0, f64::NEG_INFINITY);
                                for i in 0..size * size {
                                    let val = at(i / size, i % size);
                                    if val > best.1 {
                                        best = (i, val);
                                    }
                                }
                                out[k].push(best.0 as u8);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn central_differences_agree_where_the_pattern_is_stable() {
    let device = cpu();
    let net = trained(&device);
    let wide = in_f64(&net);
    let digits = heldout();
    let h = 1e-3f64;
    let mut checked = 0;
    for &(index, class) in &[(3usize, None), (250, Some(4usize)), (640, None)] {
        let x0 = digits.image(index);
        let class = class.unwrap_or(usize::from(digits.labels[index]));
        let gradient = values(
            signed(
                &net,
                &net.trace(image(&x0, &device)),
                class,
                Method::Gradient,
            )
            .unwrap(),
        );
        let scale = gradient.iter().fold(0f32, |m, g| m.max(g.abs()));
        // x, then x ± h·e_i for every pixel, in one f64 batch.
        let mut batch: Vec<f64> = x0.iter().map(|&v| f64::from(v)).collect();
        for i in 0..PIXELS {
            for sign in [1.0, -1.0] {
                let mut x: Vec<f64> = x0.iter().map(|&v| f64::from(v)).collect();
                x[i] += sign * h;
                batch.extend(x);
            }
        }
        let n = batch.len() / PIXELS;
        let x = Tensor::<4>::from_data(
            TensorData::new(batch, [n, 1, 28, 28]),
            (&device, DType::F64),
        );
        let scores = values64(wide.forward(x.clone()));
        let pattern = patterns(&wide, x);
        for (i, &g) in gradient.iter().enumerate() {
            let (plus, minus) = (1 + 2 * i, 2 + 2 * i);
            // Only where the ReLU and max-pool pattern is the same at x − h, x and x + h, and
            // the gradient is not negligible (so a relative error means something).
            if pattern[plus] != pattern[0] || pattern[minus] != pattern[0] {
                continue;
            }
            if g.abs() < 1e-2 * scale {
                continue;
            }
            let fd = (scores[plus * CLASSES + class] - scores[minus * CLASSES + class]) / (2.0 * h);
            let err = (fd - f64::from(g)).abs() / f64::from(g.abs());
            assert!(
                err <= 1e-2,
                "digit {index} class {class} pixel {i}: fd {fd} vs {}",
                g
            );
            checked += 1;
        }
    }
    println!("{checked} pixels checked against central differences");
    assert!(checked > 100, "only {checked} stable pixels were found");
}

fn tensor1(v: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

fn tensor2(v: &[f32], shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
}

/// x (2) → Linear W1 (2→3) + b1 → ReLU → Linear W2 (3→2).
///   W1 = [[1, −1, 2], [1, 1, −1]] (rows: inputs), b1 = [0, 0, −1], x = [1, 2]
///   ⇒ ReLU input [3, 1, −1], open where > 0: [1, 1, 0].
///   W2 column of class 0: [1, −2, 3], so the signal reaching the ReLU is g = [1, −2, 3].
#[test]
fn each_relu_rule_on_a_hand_worked_network() {
    let device = cpu();
    let net = Network {
        layers: vec![
            Layer::Linear {
                name: "fc1",
                weight: tensor2(&[1., -1., 2., 1., 1., -1.], [2, 3], &device),
                bias: tensor1(&[0., 0., -1.], &device),
            },
            Layer::Relu,
            Layer::Linear {
                name: "fc2",
                weight: tensor2(&[1., 2., -2., 1., 3., -1.], [3, 2], &device),
                bias: tensor1(&[0., 0.], &device),
            },
        ],
    };
    let x = Tensor::<4>::from_data(TensorData::new(vec![1f32, 2.], [1, 2, 1, 1]), &device);
    let acts = net.trace(x);
    assert_eq!(values(acts[1].clone()), [3., 1., -1.]);
    let top = Tensor::<4>::from_data(TensorData::new(vec![1f32, 0.], [1, 2, 1, 1]), &device);
    let run = |relu| {
        values(walk(&net, &acts, top.clone(), &Composite::backprop(relu, 2)).unwrap()[0].clone())
    };
    // gradient: g·[1,1,0] = [1,−2,0];  W1·that = [1+2+0, 1−2−0] = [3, −1]
    assert_eq!(run(ReluRule::Gradient), [3., -1.]);
    // DeconvNet: g·1[g>0] = [1,0,3];  W1·that = [1+0+6, 1+0−3] = [7, −2]
    assert_eq!(run(ReluRule::Deconvnet), [7., -2.]);
    // guided: g·[1,1,0]·1[g>0] = [1,0,0];  W1·that = [1, 1]
    assert_eq!(run(ReluRule::Guided), [1., 1.]);
    // identity (LRP's ReLU): g = [1,−2,3];  W1·g = [1+2+6, 1−2−3] = [9, −4]
    assert_eq!(run(ReluRule::Identity), [9., -4.]);
}

/// x (3×3) → Conv K (2×2) → ReLU → MaxPool 2 → Flatten → Linear w.
///   x = [[1,2,0],[0,1,3],[2,0,1]], K = [[1,−1],[2,1]]
///   conv = [[0, 7], [3, −1]], so the pool's switch is at (0, 1), value 7.
///   With w = 2, the signal 2 reaches conv output (0, 1) whatever the ReLU rule (a = 7 > 0,
///   g > 0), and the conv step puts 2·K at offset (0, 1): [[0,2,−2],[0,4,2],[0,0,0]].
#[test]
fn conv_and_max_pool_steps_are_the_same_for_all_three_methods() {
    let device = cpu();
    let net_with = |w: f32| Network {
        layers: vec![
            Layer::Conv {
                name: "conv",
                weight: Tensor::from_data(
                    TensorData::new(vec![1f32, -1., 2., 1.], [1, 1, 2, 2]),
                    &device,
                ),
                bias: tensor1(&[0.], &device),
            },
            Layer::Relu,
            Layer::MaxPool { size: 2 },
            Layer::Flatten,
            Layer::Linear {
                name: "fc",
                weight: tensor2(&[w], [1, 1], &device),
                bias: tensor1(&[0.], &device),
            },
        ],
    };
    let x = Tensor::<4>::from_data(
        TensorData::new(vec![1f32, 2., 0., 0., 1., 3., 2., 0., 1.], [1, 1, 3, 3]),
        &device,
    );
    let net = net_with(2.0);
    let acts = net.trace(x.clone());
    assert_eq!(values(acts[1].clone()), [0., 7., 3., -1.]);
    let expected = [0., 2., -2., 0., 4., 2., 0., 0., 0.];
    for method in Method::ALL {
        assert_eq!(
            values(signed(&net, &acts, 0, method).unwrap()),
            expected,
            "{method:?}"
        );
    }
    // A negative signal at the ReLU: the gradient passes it (a > 0), the other two stop it.
    let net = net_with(-2.0);
    let acts = net.trace(x);
    let negated: Vec<f32> = expected.iter().map(|v| -v).collect();
    assert_eq!(
        values(signed(&net, &acts, 0, Method::Gradient).unwrap()),
        negated
    );
    assert_eq!(
        values(signed(&net, &acts, 0, Method::Deconvnet).unwrap()),
        [0.; 9]
    );
    assert_eq!(
        values(signed(&net, &acts, 0, Method::Guided).unwrap()),
        [0.; 9]
    );
}

#[test]
fn saliency_is_the_magnitude_and_differs_by_class() {
    let device = cpu();
    let net = trained(&device);
    let x0 = heldout().image(0);
    let x = image(&x0, &device);
    let m3 = values(saliency(&net, x.clone(), 3, Method::Gradient).unwrap());
    let g3 = values(signed(&net, &net.trace(x.clone()), 3, Method::Gradient).unwrap());
    assert!(m3.iter().zip(&g3).all(|(m, g)| *m == g.abs()));
    let m5 = values(saliency(&net, x, 5, Method::Gradient).unwrap());
    assert!(
        relative_error(&m3, &m5) > 0.1,
        "class 3 and 5 maps should differ"
    );
    assert!(Method::parse("guided").is_ok());
    assert!(Method::parse("lrp").unwrap_err().0.contains("method"));
}

#[test]
fn localisation_of_a_real_saliency_map_lies_on_the_digit() {
    let device = cpu();
    let net = trained(&device);
    let digits = heldout();
    let x0 = digits.image(10);
    let class = usize::from(digits.labels[10]);
    let map = values(saliency(&net, image(&x0, &device), class, Method::Gradient).unwrap());
    let l = localise(&map, 28, 28, 0.95).unwrap();
    let selected = l.mask.iter().filter(|m| **m).count();
    assert!(
        (30..=40).contains(&selected),
        "{selected} pixels above the 95% quantile"
    );
    let BoundingBox {
        x,
        y,
        width,
        height,
    } = l.bbox.unwrap();
    assert!(x + width <= 28 && y + height <= 28 && width * height > 0);
}
