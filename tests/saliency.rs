//! Saliency (paper §3), DeconvNet and guided backprop (§4) on every shipped network, checked
//! against burn's autodiff (the whole map, and each step of the walk), finite differences, and
//! tiny networks worked out by hand.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::module::{Module, ModuleMapper, Param};
use burn::nn::LinearConfig;
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{DType, FloatDType, Int, Tensor, TensorData, module};
use common::*;
use deep_inside::Error;
use deep_inside::data::{PIXELS, Shipped};
use deep_inside::localise::{BoundingBox, localise};
use deep_inside::model::config::symmetric_padding;
use deep_inside::model::{Layer, LayerConfig, Network, NetworkConfig};
use deep_inside::saliency::{Method, one_hot, saliency, signed};
use deep_inside::walk::{Composite, ReluRule, walk};

#[test]
fn walk_gradient_equals_autodiff_for_every_class() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let model = shipped.load(&device).unwrap();
        let net = &model.network;
        // The stored network, batch norm and dropout in place: checks the merge as well.
        let stored = original(shipped, &device);
        let (x, _) = pick(shipped, &[0, 137, 402, 777, 999], &device);
        let acts = net.trace(x.clone());
        let mut worst = [0f32; 2];
        for class in 0..model.classes() {
            let walked = values(signed(net, &acts, class, Method::Gradient).unwrap());
            let canonical = autodiff_gradient(net, x.clone(), class);
            let unmerged = autodiff_gradient(&stored, x.clone(), class);
            for (k, a) in walked.chunks(PIXELS).enumerate() {
                let at = k * PIXELS..(k + 1) * PIXELS;
                let errors = [
                    relative_error(a, &canonical[at.clone()]),
                    relative_error(a, &unmerged[at]),
                ];
                assert!(
                    errors[0] <= 1e-5 && errors[1] <= 1e-4,
                    "{}, class {class}, image {k}: relative errors {errors:?}",
                    shipped.name()
                );
                worst = [worst[0].max(errors[0]), worst[1].max(errors[1])];
            }
        }
        println!(
            "{}: walk vs autodiff, worst relative error {:e} (canonical), {:e} (as stored)",
            shipped.name(),
            worst[0],
            worst[1]
        );
    }
}

/// `gᵀ ∂layer(a)/∂a` by burn's autodiff: the chain rule's step back through one layer.
fn vector_jacobian(layer: &Layer, a: Tensor<4>, g: Tensor<4>) -> Vec<f32> {
    let a = a.autodiff().require_grad();
    let grads = (layer.forward(a.clone()) * g).sum().backward();
    values(a.grad(&grads).expect("input gradient"))
}

/// Every step of every method's walk, on every shipped network: at a ReLU the method's own
/// rule (g·1[a>0], g·1[g>0], g·1[a>0]·1[g>0]), elsewhere the layer's chain rule by autodiff
/// (convs with padding and stride, pools, flatten, dense layers).
#[test]
fn each_step_of_each_method_is_its_rule() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network;
        let (x, labels) = pick(shipped, &[42, 580], &device);
        let acts = net.trace(x);
        let top = one_hot(acts[acts.len() - 1].dims(), labels[0], &device).unwrap();
        for method in Method::ALL {
            let signals = walk(&net, &acts, top.clone(), &method.composite(&net)).unwrap();
            for (i, layer) in net.layers.iter().enumerate() {
                let above = signals.get(i + 1).unwrap_or(&top).clone();
                let got = values(signals[i].clone());
                if let Layer::Relu(_) = layer {
                    let (a, g) = (values(acts[i].clone()), values(above));
                    let expected: Vec<f32> = a
                        .iter()
                        .zip(&g)
                        .map(|(&a, &g)| match method {
                            Method::Gradient if a > 0.0 => g,
                            Method::Deconvnet if g > 0.0 => g,
                            Method::Guided if a > 0.0 && g > 0.0 => g,
                            _ => 0.0,
                        })
                        .collect();
                    assert_eq!(got, expected, "{} {method:?} layer {i}", shipped.name());
                } else {
                    let expected = vector_jacobian(layer, acts[i].clone(), above);
                    let err = relative_error(&got, &expected);
                    assert!(
                        err <= 1e-5,
                        "{} {method:?} layer {i} ({:?}): relative error {err}",
                        shipped.name(),
                        layer.kind()
                    );
                }
            }
        }
    }
}

fn values64<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .try_into_vec_as::<f64>()
        .expect("numeric tensor")
}

/// Every float parameter cast to f64.
struct Wide;

impl ModuleMapper for Wide {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        Param::from_tensor(param.val().cast(FloatDType::F64))
    }
}

/// Which side of zero every ReLU input is, and which input every max-pool window picks: the
/// piecewise-linear region of the network at each image of the batch.
fn patterns(net: &Network, x: Tensor<4>) -> Vec<Vec<i64>> {
    let acts = net.trace(x);
    let n = acts[0].dims()[0];
    let mut out = vec![Vec::new(); n];
    let mut add = |t: Tensor<4, Int>| {
        let v: Vec<i64> = t.try_into_vec_as().expect("integer tensor");
        let per = v.len() / n;
        for (k, chunk) in v.chunks(per).enumerate() {
            out[k].extend_from_slice(chunk);
        }
    };
    for (layer, a) in net.layers.iter().zip(&acts) {
        match layer {
            Layer::Relu(_) => add(a.clone().greater_elem(0.0).int()),
            Layer::MaxPool(pool) => {
                let [_, _, h, w] = a.dims();
                let padding =
                    symmetric_padding(&pool.padding, [h, w], pool.kernel_size, pool.stride)
                        .unwrap();
                let options = MaxPoolOptions::new(pool.kernel_size)
                    .with_stride(pool.stride)
                    .with_padding(padding)
                    .with_dilation(pool.dilation);
                let (_, indices) = module::max_pool2d_with_indices(a.clone(), options);
                add(indices);
            }
            _ => {}
        }
    }
    out
}

#[test]
fn central_differences_agree_where_the_pattern_is_stable() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network;
        // In f64, so that finite differences are not swamped by f32 rounding.
        let wide = net.clone().map(&mut Wide);
        let digits = shipped.dataset().heldout().unwrap();
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
            // In chunks, to bound the memory of the f64 traces.
            let (mut scores, mut pattern) = (Vec::new(), Vec::new());
            for chunk in batch.chunks(400 * PIXELS) {
                let x = Tensor::<4>::from_data(
                    TensorData::new(chunk.to_vec(), [chunk.len() / PIXELS, 1, 28, 28]),
                    (&device, DType::F64),
                );
                scores.extend(values64(wide.forward(x.clone())));
                pattern.extend(patterns(&wide, x));
            }
            let classes = scores.len() / pattern.len();
            for (i, &g) in gradient.iter().enumerate() {
                let (plus, minus) = (1 + 2 * i, 2 + 2 * i);
                // Only where the ReLU and max-pool pattern is the same at x − h, x and x + h,
                // and the gradient is not negligible (so a relative error means something).
                if pattern[plus] != pattern[0] || pattern[minus] != pattern[0] {
                    continue;
                }
                if g.abs() < 1e-2 * scale {
                    continue;
                }
                let fd =
                    (scores[plus * classes + class] - scores[minus * classes + class]) / (2.0 * h);
                let err = (fd - f64::from(g)).abs() / f64::from(g.abs());
                assert!(
                    err <= 1e-2,
                    "{}: image {index} class {class} pixel {i}: fd {fd} vs {g}",
                    shipped.name()
                );
                checked += 1;
            }
        }
        println!(
            "{}: {checked} pixels checked against central differences",
            shipped.name()
        );
        assert!(checked > 100, "only {checked} stable pixels were found");
    }
}

/// x (1×1×2) → Flatten → Linear W1 (2→3) + b1 → ReLU → Linear W2 (3→2).
///   W1 = [[1, −1, 2], [1, 1, −1]] (rows: inputs), b1 = [0, 0, −1], x = [1, 2]
///   ⇒ ReLU input [3, 1, −1], open where > 0: [1, 1, 0].
///   W2 column of class 0: [1, −2, 3], so the signal reaching the ReLU is g = [1, −2, 3].
#[test]
fn each_relu_rule_on_a_hand_worked_network() {
    let device = cpu();
    let config = NetworkConfig::new(
        [1, 1, 2],
        vec![
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(2, 3)),
            LayerConfig::Relu,
            LayerConfig::Linear(LinearConfig::new(3, 2)),
        ],
    );
    let net = with_parameters(
        &config,
        &[
            (&[1., -1., 2., 1., 1., -1.], &[0., 0., -1.]),
            (&[1., 2., -2., 1., 3., -1.], &[0., 0.]),
        ],
        &device,
    );
    let x = Tensor::<4>::from_data(TensorData::new(vec![1f32, 2.], [1, 1, 1, 2]), &device);
    let acts = net.trace(x);
    assert_eq!(values(acts[2].clone()), [3., 1., -1.]);
    let top = Tensor::<4>::from_data(TensorData::new(vec![1f32, 0.], [1, 2, 1, 1]), &device);
    let run = |relu| {
        let composite = Composite::backprop(relu, &net);
        values(walk(&net, &acts, top.clone(), &composite).unwrap()[0].clone())
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
    let config = NetworkConfig::new(
        [1, 3, 3],
        vec![
            LayerConfig::Conv(Conv2dConfig::new([1, 1], [2, 2])),
            LayerConfig::Relu,
            LayerConfig::MaxPool(MaxPool2dConfig::new([2, 2])),
            LayerConfig::Flatten,
            LayerConfig::Linear(LinearConfig::new(1, 1)),
        ],
    );
    let net_with = |w: f32| {
        with_parameters(
            &config,
            &[(&[1., -1., 2., 1.], &[0.]), (&[w], &[0.])],
            &device,
        )
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
fn the_walk_refuses_a_network_that_is_not_canonical() {
    let device = cpu();
    let stored = original(Shipped::MnistDeep, &device);
    let (x, _) = pick(Shipped::MnistDeep, &[0], &device);
    let acts = stored.trace(x.clone());
    let err = signed(&stored, &acts, 0, Method::Gradient).unwrap_err();
    let Error::Architecture { layer: Some(l), .. } = &err else {
        panic!("unexpected error {err:?}");
    };
    // The walk goes from the top: the dropout before the last layer is the first it meets.
    assert_eq!(stored.layers[l.index].kind().name(), l.name, "{err}");
    assert!(err.to_string().contains("canonical"), "{err}");
    // A composite with a rule too few.
    let net = stored.canonical().unwrap();
    let mut composite = Method::Gradient.composite(&net);
    composite.layers.pop();
    let acts = net.trace(x);
    let top = one_hot(acts[acts.len() - 1].dims(), 0, &device).unwrap();
    let err = walk(&net, &acts, top, &composite).unwrap_err();
    assert!(err.to_string().contains("composite"), "{err}");
}

#[test]
fn saliency_is_the_magnitude_and_differs_by_class() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let net = shipped.load(&device).unwrap().network;
        let (x, _) = pick(shipped, &[0], &device);
        let m3 = values(saliency(&net, x.clone(), 3, Method::Gradient).unwrap());
        let g3 = values(signed(&net, &net.trace(x.clone()), 3, Method::Gradient).unwrap());
        assert!(m3.iter().zip(&g3).all(|(m, g)| *m == g.abs()));
        let m5 = values(saliency(&net, x, 5, Method::Gradient).unwrap());
        assert!(
            relative_error(&m3, &m5) > 0.1,
            "{}: class 3 and 5 maps should differ",
            shipped.name()
        );
    }
    assert!(Method::parse("guided").is_ok());
    let err = Method::parse("lrp").unwrap_err();
    assert!(
        matches!(&err, Error::Argument { name, .. } if name == "method"),
        "{err}"
    );
    assert!(err.to_string().contains("method"), "{err}");
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
