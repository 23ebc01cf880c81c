//! The table of mean deletion and insertion AUCs per method over 100 held-out images (every
//! tenth: ten per class), k = 16 pixels per step, class = the label. Kept in the README.
//! `cargo run --release --example faithfulness [-- --model mnist|fashion]`

use burn::tensor::Tensor;
use deep_inside::attribution::{
    Smoothing, gradient_times_input, integrated_gradients, smooth_grad,
};
use deep_inside::backend;
use deep_inside::data::{Dataset, image_tensor};
use deep_inside::faithfulness::{Perturbation, auc, curves, points, random_ranking, ranking};
use deep_inside::lrp::{Rules, relevance};
use deep_inside::model::{Network, PIXELS};
use deep_inside::saliency::{Method, signed};

const K: usize = 16;
const IMAGES: usize = 100;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32")
}

fn magnitude(v: Vec<f32>) -> Vec<f32> {
    v.into_iter().map(f32::abs).collect()
}

fn main() {
    let dataset = match std::env::args().skip_while(|a| a != "--model").nth(1) {
        Some(name) => Dataset::parse(&name).expect("--model mnist|fashion"),
        None => Dataset::Mnist,
    };
    let device = backend::cpu();
    let net = Network::from_bytes(dataset.weights().unwrap(), &device).expect("weights");
    let images = dataset.heldout().expect("held-out images");
    let black = vec![0f32; PIXELS];
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
    let mut sums = vec![[0f32; 2]; names.len()];
    let started = std::time::Instant::now();
    for d in 0..IMAGES {
        let i = d * images.len() / IMAGES;
        let (pixels, class) = (images.image(i), usize::from(images.labels[i]));
        let x = image_tensor(&pixels, &device).unwrap();
        let acts = net.trace(x.clone());
        let mut maps: Vec<Vec<f32>> = Method::ALL
            .iter()
            .map(|&m| magnitude(values(signed(&net, &acts, class, m).unwrap())))
            .collect();
        maps.push(values(gradient_times_input(&net, &acts, class).unwrap()));
        let smoothing = Smoothing::default();
        maps.push(magnitude(values(
            smooth_grad(&net, &pixels, class, &smoothing, &device).unwrap(),
        )));
        maps.push(values(
            integrated_gradients(&net, &pixels, &black, class, 32, &device)
                .unwrap()
                .attribution,
        ));
        for preset in ["recommended", "epsilon"] {
            let rules = Rules::preset(preset).unwrap();
            let r = relevance(&net, x.clone(), class, &rules).unwrap();
            maps.push(values(r.layers[0].map.clone()));
        }
        let mut rankings: Vec<Vec<usize>> = maps.iter().map(|m| ranking(m).unwrap()).collect();
        rankings.push(random_ranking(i as u64));
        for (p, perturbation) in Perturbation::ALL.into_iter().enumerate() {
            let all =
                values(curves(&net, &pixels, class, &rankings, K, perturbation, &device).unwrap());
            for (sum, curve) in sums.iter_mut().zip(all.chunks(points(K))) {
                sum[p] += auc(curve) / IMAGES as f32;
            }
        }
    }
    println!(
        "Mean AUC of p(c|x) over {IMAGES} held-out {} images (ten per class, class = label), {K} pixels per step:\n",
        dataset.name()
    );
    println!("| method | deletion AUC (lower is better) | insertion AUC (higher is better) |");
    println!("|---|---|---|");
    for (name, [deletion, insertion]) in names.iter().zip(&sums) {
        println!("| {name} | {deletion:.3} | {insertion:.3} |");
    }
    eprintln!("({:.1} s)", started.elapsed().as_secs_f32());
}
