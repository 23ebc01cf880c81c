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
//! `--units` measures unit visualisations instead: each conv layer's atlas, channel by channel,
//! against the channel's mean activation on the held-out images.

use std::time::Instant;

use burn::tensor::{Device, Tensor};
use clap::Parser;
use deep_inside::backend;
use deep_inside::class_model::{self, Ascent, Options, Target};
use deep_inside::data::{Dataset, Shipped, softmax};
use deep_inside::model::{Kind, Model};

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
    /// The candidates for "readable" against it, on every network from noise.
    #[arg(long)]
    compare: bool,
    /// Instead of class models: every channel of each conv layer (after its ReLU), raised how
    /// far above its mean over the held-out set.
    #[arg(long)]
    units: bool,
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

/// "readable" with each switch toggled in turn (taken out where it has it, put in at the
/// strength tried where not), and lucid's own combination (Fourier, sigmoid, Adam and the
/// transformations, with no penalty), which differs from the preset "lucid".
fn ablation(readable: &Options) -> Vec<(String, Options)> {
    let r = readable.clone();
    let toggle = |name: &str, has: bool, o: Options| {
        let sign = if has { "without" } else { "with" };
        (format!("readable {sign} {name}"), o)
    };
    vec![
        ("readable".into(), r.clone()),
        toggle(
            "clip",
            r.clip,
            Options {
                clip: !r.clip,
                ..r.clone()
            },
        ),
        toggle(
            "jitter 2",
            r.jitter > 0,
            Options {
                jitter: if r.jitter > 0 { 0 } else { 2 },
                ..r.clone()
            },
        ),
        toggle(
            "blur every 4",
            r.blur_every > 0,
            Options {
                blur_every: if r.blur_every > 0 { 0 } else { 4 },
                ..r.clone()
            },
        ),
        toggle(
            "total variation 0.1",
            r.total_variation > 0.0,
            Options {
                total_variation: if r.total_variation > 0.0 { 0.0 } else { 0.1 },
                ..r.clone()
            },
        ),
        toggle(
            "scale ±0.1",
            r.scale > 0.0,
            Options {
                scale: if r.scale > 0.0 { 0.0 } else { 0.1 },
                ..r.clone()
            },
        ),
        toggle(
            "rotate ±10°",
            r.rotate > 0.0,
            Options {
                rotate: if r.rotate > 0.0 { 0.0 } else { 10.0 },
                ..r.clone()
            },
        ),
        toggle(
            "sigmoid",
            r.sigmoid,
            Options {
                sigmoid: !r.sigmoid,
                ..r.clone()
            },
        ),
        toggle(
            "Adam (α 0.05)",
            r.adam,
            Options {
                adam: !r.adam,
                step: if r.adam { 0.1 } else { 0.05 },
                ..r.clone()
            },
        ),
        toggle(
            "Fourier 1/f + Adam (α 0.05)",
            r.fourier > 0.0,
            Options {
                fourier: if r.fourier > 0.0 { 0.0 } else { 1.0 },
                adam: true,
                step: 0.05,
                ..r.clone()
            },
        ),
        toggle(
            "4 restarts",
            r.restarts > 1,
            Options {
                restarts: if r.restarts > 1 { 1 } else { 4 },
                ..r.clone()
            },
        ),
        (
            "lucid's own: Fourier + sigmoid + Adam + jitter + scale + rotate; no clip, TV or λ"
                .into(),
            Options {
                fourier: 1.0,
                sigmoid: true,
                adam: true,
                step: 0.05,
                clip: false,
                total_variation: 0.0,
                lambda: 0.0,
                jitter: 2,
                scale: 0.1,
                rotate: 10.0,
                ..r
            },
        ),
    ]
}

/// Every channel of each conv layer (the ReLU after it), as one atlas per layer and seed:
/// its activation (mean over positions) against its mean over the held-out images.
fn units(args: &Args, device: &Device) {
    println!(
        "`cargo run --release --example readability -- --units --seeds {} --steps {}`: the \
         atlas of each conv layer (after its ReLU) from noise, per preset; per channel, its \
         activation over its mean on the held-out images.\n\n\
         | network | preset | layer | channels | ratio: min | median | max | channels ≥ 5× |\n\
         |---|---|---|---:|---:|---:|---:|---:|",
        args.seeds, args.steps
    );
    for shipped in [Shipped::Mnist, Shipped::MnistDeep, Shipped::Fashion] {
        let model = shipped.load(device).expect("a shipped model");
        let digits = shipped.dataset().heldout().expect("held-out images");
        let n = digits.len().min(1000);
        let pixels: Vec<f32> = digits.pixels[..n * 784]
            .iter()
            .map(|&v| f32::from(v) / 255.0)
            .collect();
        let images = Tensor::<4>::from_data(
            burn::tensor::TensorData::new(pixels, [n, 1, 28, 28]),
            device,
        );
        for (i, info) in model.table.iter().enumerate() {
            // A ReLU whose input comes from a conv (directly or through a batch norm).
            let after_conv = info.kind == Kind::Relu
                && model.table[..i]
                    .iter()
                    .rev()
                    .find(|l| l.kind != Kind::BatchNorm)
                    .is_some_and(|l| l.kind == Kind::Conv);
            if !after_conv {
                continue;
            }
            let target = Target::layer(&model, &info.name, None, false).expect("a layer");
            let depth = model.table[..=i]
                .iter()
                .filter(|l| !matches!(l.kind, Kind::BatchNorm | Kind::Dropout))
                .count();
            let heldout = values(
                model.network.layers[..depth]
                    .iter()
                    .fold(images.clone(), |a, l| l.forward(a))
                    .mean_dims(&[0, 2, 3])
                    .flatten::<1>(0, 3),
            );
            for (preset, _) in class_model::PRESETS {
                let mut ratios = vec![];
                for seed in 0..args.seeds {
                    let o = Options {
                        seed,
                        ..Options::preset(preset).expect("a preset")
                    };
                    let s = Ascent::of(&model, target.clone(), o, device)
                        .expect("an atlas")
                        .step(args.steps);
                    for (c, a) in values(s.activation).iter().enumerate() {
                        ratios.push(a / heldout[c].max(1e-6));
                    }
                }
                ratios.sort_by(f32::total_cmp);
                let above = ratios.iter().filter(|&&r| r >= 5.0).count();
                let conv = model.table[..i]
                    .iter()
                    .rev()
                    .find(|l| l.kind == Kind::Conv)
                    .map_or("", |l| l.name.as_str());
                println!(
                    "| {} | {preset} | {} (after {conv}) | {} | {:.1} | {:.1} | {:.1} | {above} of {} |",
                    shipped.name(),
                    info.name,
                    target.units.len(),
                    ratios[0],
                    ratios[ratios.len() / 2],
                    ratios[ratios.len() - 1],
                    ratios.len()
                );
            }
        }
    }
}

fn main() {
    let args = Args::parse();
    if args.units {
        units(&args, &backend::cpu());
        return;
    }
    let device = backend::cpu();
    let started = Instant::now();
    println!(
        "`cargo run --release --example readability -- --seeds {} --steps {}{}`: {} seeds × 10 \
         classes per row, {} steps each.\n\n{HEADER}",
        args.seeds,
        args.steps,
        if args.ablation {
            " --ablation"
        } else if args.compare {
            " --compare"
        } else {
            ""
        },
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
            ablation(&readable)
        } else if args.compare {
            let fourier = Options {
                fourier: 1.0,
                adam: true,
                step: 0.05,
                ..readable.clone()
            };
            vec![
                ("readable".into(), readable.clone()),
                ("+ Fourier 1/f + Adam (α 0.05)".into(), fourier.clone()),
                (
                    "+ Fourier + Adam + scale ±0.1 + rotate ±10°".into(),
                    Options {
                        scale: 0.1,
                        rotate: 10.0,
                        ..fourier.clone()
                    },
                ),
                (
                    "+ Fourier + Adam + 4 restarts".into(),
                    Options {
                        restarts: 4,
                        ..fourier
                    },
                ),
            ]
        } else {
            class_model::PRESETS
                .iter()
                .map(|(name, _)| (name.to_string(), Options::preset(name).expect("a preset")))
                .collect()
        };
        let starts: &[&str] = if args.ablation || args.compare {
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
