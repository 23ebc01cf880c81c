//! The table of mean deletion and insertion AUCs per method over 100 held-out images (every
//! tenth: ten per class), k = 16 pixels per step, class = the label. Kept in the README.
//! `cargo run --release --example faithfulness [-- --model mnist|mnist-deep|fashion]`

use burn::tensor::Tensor;
use deep_inside::attribution::{
    Smoothing, gradient_times_input, integrated_gradients, smooth_grad,
};
use deep_inside::backend;
use deep_inside::data::Shipped;
use deep_inside::faithfulness::{Perturbation, auc, curves, points, random_ranking, ranking};
use deep_inside::lrp::{Rules, relevance};
use deep_inside::saliency::{Method, signed};

const K: usize = 16;
const IMAGES: usize = 100;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32")
}

/// A map summed over channels, one value per pixel position.
fn per_pixel(t: Tensor<4>) -> Vec<f32> {
    values(t.sum_dim(1))
}

fn magnitude(t: Tensor<4>) -> Vec<f32> {
    values(t.abs().max_dim(1))
}

fn main() {
    let shipped = match std::env::args().skip_while(|a| a != "--model").nth(1) {
        Some(name) => Shipped::parse(&name).expect("--model mnist|mnist-deep|fashion"),
        None => Shipped::Mnist,
    };
    let device = backend::cpu();
    let model = shipped.load(&device).expect("shipped model");
    let net = &model.network;
    let [_, h, w] = model.input();
    let images = shipped.dataset().heldout().expect("held-out images");
    let black = vec![0f32; model.input_len()];
    let names = [
        "gradient",
        "DeconvNet",
        "guided backprop",
        "gradient × input",
        "SmoothGrad (n = 32, σ = 0.15)",
        "Integrated Gradients (m = 32, black)",
        "LRP (recommended)",
        "LRP (ε)",
        "random order",
    ];
    let presets = ["recommended", "epsilon"].map(|p| Rules::preset(p, &model).expect("preset"));
    let mut sums = vec![[0f32; 2]; names.len()];
    let started = std::time::Instant::now();
    for d in 0..IMAGES {
        let i = d * images.len() / IMAGES;
        let (pixels, class) = (images.image(i), usize::from(images.labels[i]));
        let x = model.image(&pixels, &device).expect("image");
        let acts = net.trace(x.clone());
        let mut maps: Vec<Vec<f32>> = Method::ALL
            .iter()
            .map(|&m| magnitude(signed(net, &acts, class, m).unwrap()))
            .collect();
        maps.push(per_pixel(gradient_times_input(net, &acts, class).unwrap()));
        let smoothing = Smoothing::default();
        maps.push(magnitude(
            smooth_grad(net, &pixels, class, &smoothing, &device).unwrap(),
        ));
        maps.push(per_pixel(
            integrated_gradients(net, &pixels, &black, class, 32, &device)
                .unwrap()
                .attribution,
        ));
        for rules in &presets {
            let r = relevance(net, x.clone(), class, rules).unwrap();
            maps.push(per_pixel(r.pixels));
        }
        let mut rankings: Vec<Vec<usize>> =
            maps.iter().map(|m| ranking(m, [h, w]).unwrap()).collect();
        rankings.push(random_ranking(h * w, i as u64));
        for (p, perturbation) in Perturbation::ALL.into_iter().enumerate() {
            let all =
                values(curves(net, &pixels, class, &rankings, K, perturbation, &device).unwrap());
            for (sum, curve) in sums.iter_mut().zip(all.chunks(points(h * w, K))) {
                sum[p] += auc(curve) / IMAGES as f32;
            }
        }
    }
    println!(
        "Mean AUC of p(c|x) over {IMAGES} held-out {} images (ten per class, class = label), {K} pixels per step:\n",
        shipped.dataset().name()
    );
    println!("| method | deletion AUC (lower is better) | insertion AUC (higher is better) |");
    println!("|---|---|---|");
    for (name, [deletion, insertion]) in names.iter().zip(&sums) {
        println!("| {name} | {deletion:.3} | {insertion:.3} |");
    }
    eprintln!(
        "({} model, {:.1} s)",
        shipped.name(),
        started.elapsed().as_secs_f32()
    );
}
