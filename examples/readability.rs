//! Class models a person can read (issue 20), measured instead of judged by eye. For each
//! shipped network, each class model preset and each start, the ten class models of `--seeds`
//! seeds after `--steps` steps are shown to two judges per data set: classifiers of other
//! architectures (an MLP, and a CNN with 3×3 kernels and average pools), trained with stronger
//! augmentation by `train --model judge-…`, kept in `tests/fixtures/judges/` and never explained.
//! A class model is recognised when a judge's top class is its class.
//!
//! `cargo run --release --example readability [-- --seeds 5 --steps 200] [--ablation]`
//!
//! Prints a Markdown table per run: each judge's recognised classes (of 10, mean over seeds)
//! and mean p(c), the explained network's own p(c), and the share of images inside the pixel
//! box. `--ablation` runs "readable" with each regulariser toggled in turn (taken out where it
//! has it, put in where not), on the two MNIST networks from noise: what each one earns.

use std::time::Instant;

use burn::tensor::{Device, Tensor};
use clap::Parser;
use deep_inside::backend;
use deep_inside::class_model::{self, Ascent, Options};
use deep_inside::data::{Dataset, Shipped, softmax};
use deep_inside::model::Model;

#[derive(Parser)]
#[command(about = "How often independent judges recognise the class models")]
struct Args {
    /// Seeds per class (0..seeds).
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Ascent steps per class model.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// "readable" with each regulariser toggled in turn, on the MNIST networks from noise.
    #[arg(long)]
    ablation: bool,
}

/// A judge of `dataset`'s images: "mlp" or "cnn".
fn judge(dataset: Dataset, kind: &str, device: &Device) -> Model {
    let data = match dataset {
        Dataset::Mnist => "mnist",
        Dataset::Fashion => "fashion",
    };
    let dir = format!(
        "{}/tests/fixtures/judges/{data}-{kind}",
        env!("CARGO_MANIFEST_DIR")
    );
    let read = |f: &str| {
        std::fs::read(format!("{dir}/{f}")).unwrap_or_else(|e| {
            panic!("{dir}/{f}: {e} (train it: train --model judge-{data}-{kind})")
        })
    };
    Model::load(&read("config.json"), &read("weights.bpk"), device).expect("a judge loads")
}

/// The scores of one run over classes × seeds.
#[derive(Default)]
struct Tally {
    images: usize,
    recognised: [usize; 2],
    judge_p: [f64; 2],
    own_p: f64,
    in_box: usize,
}

fn run(
    model: &Model,
    dataset: Dataset,
    judges: &[Model; 2],
    options: &Options,
    args: &Args,
    device: &Device,
) -> Tally {
    let mut t = Tally::default();
    for seed in 0..args.seeds {
        for class in 0..10 {
            let start = if matches!(options.start, class_model::Start::Noise) {
                class_model::Start::Noise
            } else {
                class_model::start("mean", Some(dataset), None, seed).expect("the mean image")
            };
            let o = Options {
                seed,
                start,
                ..options.clone()
            };
            let mut ascent = Ascent::new(model, class, o, device).expect("an ascent");
            let state = ascent.step(args.steps);
            let own = values(state.scores);
            t.own_p += f64::from(softmax(&own)[class as usize]);
            let x = state.x;
            let pixels = values(x.clone().flatten::<1>(0, 3));
            let [low, high] = model.config.input_range;
            t.in_box += usize::from(pixels.iter().all(|&v| (low..=high).contains(&v)));
            for (j, judge) in judges.iter().enumerate() {
                let p = softmax(&values(judge.network.forward(x.clone())));
                let top = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]));
                t.recognised[j] += usize::from(top == Some(class as usize));
                t.judge_p[j] += f64::from(p[class as usize]);
            }
            t.images += 1;
        }
    }
    t
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 values")
}

fn row(network: &str, preset: &str, start: &str, t: &Tally) -> String {
    let n = t.images as f64;
    let of10 = |k: usize| 10.0 * k as f64 / n;
    format!(
        "| {network} | {preset} | {start} | {:.1} | {:.2} | {:.1} | {:.2} | {:.2} | {:.0} % |",
        of10(t.recognised[0]),
        t.judge_p[0] / n,
        of10(t.recognised[1]),
        t.judge_p[1] / n,
        t.own_p / n,
        100.0 * t.in_box as f64 / n,
    )
}

const HEADER: &str = "| network | preset | start | MLP judge: recognised (of 10) | MLP: mean p(c) | \
     CNN judge: recognised (of 10) | CNN: mean p(c) | own p(c) | inside [0, 1] |\n\
     |---|---|---|---:|---:|---:|---:|---:|---:|";

fn main() {
    let args = Args::parse();
    let device = backend::cpu();
    let started = Instant::now();
    println!(
        "`cargo run --release --example readability -- --seeds {} --steps {}{}`: {} seeds × 10 \
         classes per row, {} steps each.\n\n{HEADER}",
        args.seeds,
        args.steps,
        if args.ablation { " --ablation" } else { "" },
        args.seeds,
        args.steps
    );
    let networks = [Shipped::Mnist, Shipped::MnistDeep, Shipped::Fashion];
    for shipped in networks {
        let dataset = shipped.dataset();
        if args.ablation && dataset != Dataset::Mnist {
            continue;
        }
        let model = shipped.load(&device).expect("a shipped model");
        let judges = [
            judge(dataset, "mlp", &device),
            judge(dataset, "cnn", &device),
        ];
        let readable = Options::preset("readable").expect("a preset");
        let runs: Vec<(String, Options)> = if args.ablation {
            // Each regulariser toggled: taken out where "readable" has it, put in (at the
            // strength tried before) where it has not.
            let toggled = |name: &str, on: bool, o: Options| {
                let sign = if on { "without" } else { "with" };
                (format!("readable {sign} {name}"), o)
            };
            vec![
                ("readable".into(), readable.clone()),
                toggled(
                    "clip",
                    readable.clip,
                    Options {
                        clip: !readable.clip,
                        ..readable.clone()
                    },
                ),
                toggled(
                    "jitter 2",
                    readable.jitter > 0,
                    Options {
                        jitter: if readable.jitter > 0 { 0 } else { 2 },
                        ..readable.clone()
                    },
                ),
                toggled(
                    "blur every 4",
                    readable.blur_every > 0,
                    Options {
                        blur_every: if readable.blur_every > 0 { 0 } else { 4 },
                        ..readable.clone()
                    },
                ),
                toggled(
                    "total variation 0.1",
                    readable.total_variation > 0.0,
                    Options {
                        total_variation: if readable.total_variation > 0.0 {
                            0.0
                        } else {
                            0.1
                        },
                        ..readable.clone()
                    },
                ),
            ]
        } else {
            class_model::PRESETS
                .iter()
                .map(|(name, _)| (name.to_string(), Options::preset(name).expect("a preset")))
                .collect()
        };
        let starts: &[&str] = if args.ablation {
            &["noise"]
        } else {
            &["noise", "mean"]
        };
        for (name, options) in &runs {
            for &start in starts {
                let o = Options {
                    start: if start == "noise" {
                        class_model::Start::Noise
                    } else {
                        class_model::Start::Mean(Vec::new())
                    },
                    ..options.clone()
                };
                let t = run(&model, dataset, &judges, &o, &args, &device);
                println!("{}", row(shipped.name(), name, start, &t));
            }
        }
    }
    eprintln!("{:.0} s", started.elapsed().as_secs_f32());
}
