//! The model-randomisation sanity check over 100 held-out images: the mean Spearman rank
//! correlation of each method's map with the trained network's, per stage of the cascade
//! (signed maps, and magnitudes for comparison).
//! `cargo run --release --example sanity [-- --model mnist|fashion]`

use burn::tensor::Tensor;
use deep_inside::attribution::gradient_times_input;
use deep_inside::backend;
use deep_inside::data::{Dataset, image_tensor};
use deep_inside::lrp::{Rules, relevance};
use deep_inside::model::Network;
use deep_inside::saliency::{Method, signed};
use deep_inside::sanity::{STAGES, cascade, spearman};

const IMAGES: usize = 100;
const SEED: u64 = 2018;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32")
}

fn maps(net: &Network, pixels: &[f32], class: usize) -> Vec<Vec<f32>> {
    let device = backend::cpu();
    let x = image_tensor(pixels, &device).unwrap();
    let acts = net.trace(x.clone());
    let mut out = vec![
        values(signed(net, &acts, class, Method::Gradient).unwrap()),
        values(gradient_times_input(net, &acts, class).unwrap()),
        values(signed(net, &acts, class, Method::Deconvnet).unwrap()),
        values(signed(net, &acts, class, Method::Guided).unwrap()),
    ];
    let rules = Rules::preset("recommended").unwrap();
    out.push(values(
        relevance(net, x, class, &rules).unwrap().layers[0]
            .map
            .clone(),
    ));
    out
}

fn main() {
    let dataset = match std::env::args().skip_while(|a| a != "--model").nth(1) {
        Some(name) => Dataset::parse(&name).expect("--model mnist|fashion"),
        None => Dataset::Mnist,
    };
    let device = backend::cpu();
    let net = Network::from_bytes(dataset.weights().unwrap(), &device).expect("weights");
    let stages = cascade(&net, SEED).unwrap();
    let images = dataset.heldout().expect("held-out images");
    let names = [
        "gradient",
        "gradient × input",
        "DeconvNet",
        "guided backprop",
        "LRP (recommended)",
    ];
    let mut signed_rho = vec![[0f32; 5]; names.len()];
    let mut abs_rho = vec![[0f32; 5]; names.len()];
    for d in 0..IMAGES {
        let i = d * images.len() / IMAGES;
        let (pixels, class) = (images.image(i), usize::from(images.labels[i]));
        let trained = maps(&stages[0], &pixels, class);
        for (s, stage) in stages.iter().enumerate() {
            for (m, map) in maps(stage, &pixels, class).iter().enumerate() {
                let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
                signed_rho[m][s] += spearman(&trained[m], map).unwrap() / IMAGES as f32;
                abs_rho[m][s] += spearman(&abs(&trained[m]), &abs(map)).unwrap() / IMAGES as f32;
            }
        }
    }
    for (title, rho) in [("signed maps", &signed_rho), ("magnitudes |map|", &abs_rho)] {
        println!(
            "\nMean Spearman ρ with the trained network's map, {title}, over {IMAGES} held-out {} images (seed {SEED}):\n",
            dataset.name()
        );
        println!(
            "| method | {} |",
            STAGES
                .map(|s| if s == "trained" {
                    s.to_string()
                } else {
                    format!("{s} random")
                })
                .join(" | ")
        );
        println!("|---|{}", "---|".repeat(STAGES.len()));
        for (name, row) in names.iter().zip(rho) {
            let cells: Vec<String> = row.iter().map(|r| format!("{r:.2}")).collect();
            println!("| {name} | {} |", cells.join(" | "));
        }
    }
}
