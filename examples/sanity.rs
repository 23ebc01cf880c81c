//! The model-randomisation sanity check over 100 held-out images: the mean Spearman rank
//! correlation of each method's map with the trained network's, per stage of the cascade
//! (signed maps, and magnitudes for comparison).
//! `cargo run --release --example sanity [-- --model mnist|mnist-deep|fashion]`

use burn::tensor::Tensor;
use deep_inside::backend;
use deep_inside::data::Shipped;
use deep_inside::lrp::Rules;
use deep_inside::sanity::{METHODS, SEED, cascade, maps, spearman, stages};

const IMAGES: usize = 100;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32")
}

fn main() {
    let shipped = match std::env::args().skip_while(|a| a != "--model").nth(1) {
        Some(name) => Shipped::parse(&name).expect("--model mnist|mnist-deep|fashion"),
        None => Shipped::Mnist,
    };
    let device = backend::cpu();
    let model = shipped.load(&device).expect("shipped model");
    let names = stages(&model);
    let networks = cascade(&model.network, SEED).unwrap();
    let rules = Rules::preset("recommended", &model).unwrap();
    let images = shipped.dataset().heldout().expect("held-out images");
    let methods = [
        "gradient",
        "gradient × input",
        "DeconvNet",
        "guided backprop",
        "LRP (recommended)",
    ];
    assert_eq!(methods.len(), METHODS.len());
    let mut signed_rho = vec![vec![0f32; names.len()]; methods.len()];
    let mut abs_rho = vec![vec![0f32; names.len()]; methods.len()];
    for d in 0..IMAGES {
        let i = d * images.len() / IMAGES;
        let (pixels, class) = (images.image(i), usize::from(images.labels[i]));
        let x = model.image(&pixels, &device).expect("image");
        // Every method at every stage, stage-major: one map per (stage, method).
        let all = values(maps(&networks, x, class, &rules).unwrap());
        let size = all.len() / (names.len() * methods.len());
        let map = |s: usize, m: usize| {
            let at = (s * methods.len() + m) * size;
            &all[at..at + size]
        };
        let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
        for s in 0..names.len() {
            for m in 0..methods.len() {
                let (trained, stage) = (map(0, m), map(s, m));
                signed_rho[m][s] += spearman(trained, stage).unwrap() / IMAGES as f32;
                abs_rho[m][s] += spearman(&abs(trained), &abs(stage)).unwrap() / IMAGES as f32;
            }
        }
    }
    for (title, rho) in [("signed maps", &signed_rho), ("magnitudes |map|", &abs_rho)] {
        println!(
            "\nMean Spearman ρ with the trained network's map, {title}, over {IMAGES} held-out {} images (seed {SEED}):\n",
            shipped.dataset().name()
        );
        let header: Vec<String> = names
            .iter()
            .map(|s| {
                if s == "trained" {
                    s.clone()
                } else {
                    format!("{s} random")
                }
            })
            .collect();
        println!("| method | {} |", header.join(" | "));
        println!("|---|{}", "---|".repeat(names.len()));
        for (name, row) in methods.iter().zip(rho) {
            let cells: Vec<String> = row.iter().map(|r| format!("{r:.2}")).collect();
            println!("| {name} | {} |", cells.join(" | "));
        }
    }
}
