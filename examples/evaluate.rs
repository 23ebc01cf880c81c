//! Every metric of `deep_inside::evaluation` for every method over the held-out images of each
//! shipped model, or of a user's model file: means with 95 % bootstrap intervals, and the
//! methods' ranks. Writes `docs/evaluation-<model>-<images>[-cheap].csv` (every value) and prints
//! markdown tables (README, BENCHMARKS).
//!
//! `cargo run --release --example evaluate [-- --model mnist|mnist-deep|fashion | --file
//! my-cnn.onnx] [--images N] [--cheap] [--breakdown]`
//!
//! A user's model (an `.onnx`, or the `.safetensors` of scripts/export_pytorch.py) comes without
//! images: it is shown the held-out MNIST digits, made into its input shape as the page makes
//! them (grey copied to every channel, resized bilinearly), each explained for the class the
//! model predicts.

use std::time::Instant;

use clap::Parser;
use deep_inside::backend;
use deep_inside::data::{Digits, Shipped};
use deep_inside::evaluation::{Evaluator, Method, Metric, Settings, Table};
use deep_inside::lrp::Rules;
use deep_inside::metrics::{Output, predict};
use deep_inside::model::Model;
use deep_inside::model::import;

#[derive(Parser)]
#[command(about = "Quantus-style evaluation of every method over the held-out images")]
struct Args {
    /// A shipped model; every shipped model when neither this nor --file is given.
    #[arg(long, conflicts_with = "file")]
    model: Option<String>,
    /// A user's model file (.onnx or .safetensors), shown the held-out MNIST digits.
    #[arg(long)]
    file: Option<std::path::PathBuf>,
    /// How many held-out images (at most 1,000; fewer are spread evenly over the set, which is
    /// sorted by class).
    #[arg(long, default_value_t = 1000)]
    images: usize,
    /// Only the cheap metrics (no sensitivities, Lipschitz or MPRT).
    #[arg(long)]
    cheap: bool,
    /// Images per batch (and per progress line).
    #[arg(long, default_value_t = 50)]
    chunk: usize,
    /// Instead of the table: the time of each metric alone, and of the maps alone (sparseness
    /// needs nothing beyond them), per image and method.
    #[arg(long)]
    breakdown: bool,
}

/// A model to evaluate, and its images (`c·h·w` values each) with the class each is explained
/// for.
struct Subject {
    name: String,
    title: String,
    model: Model,
    images: Vec<Vec<f32>>,
    classes: Vec<usize>,
}

fn main() -> Result<(), deep_inside::Error> {
    let args = Args::parse();
    let metrics = if args.cheap {
        Metric::cheap()
    } else {
        Metric::ALL.to_vec()
    };
    let subjects = match (&args.file, &args.model) {
        (Some(file), _) => vec![user(file, args.images)?],
        (None, Some(name)) => vec![shipped(Shipped::parse(name)?, args.images)?],
        (None, None) => Shipped::ALL
            .into_iter()
            .map(|s| shipped(s, args.images))
            .collect::<Result<_, _>>()?,
    };
    for subject in subjects {
        let rules = Rules::preset("recommended", &subject.model)?;
        if args.breakdown {
            breakdown(&subject, &rules, &metrics)?;
            continue;
        }
        let evaluator = Evaluator::new(
            &subject.model,
            rules,
            &Method::ALL,
            &metrics,
            Settings::default(),
        )?;
        let started = Instant::now();
        let n = subject.images.len();
        let mut table: Option<Table> = None;
        let mut first = 0;
        while first < n {
            let last = (first + args.chunk).min(n);
            let pixels: Vec<f32> = subject.images[first..last].concat();
            let chunk = evaluator.evaluate(&pixels, &subject.classes[first..last], first as u64)?;
            match &mut table {
                Some(t) => t.extend(chunk)?,
                None => table = Some(chunk),
            }
            eprintln!(
                "{}: {last}/{n} images, {:.1} s",
                subject.name,
                started.elapsed().as_secs_f64()
            );
            first = last;
        }
        let table = table.expect("at least one image");
        let seconds = started.elapsed().as_secs_f64();
        let path = format!(
            "docs/evaluation-{}-{n}{}.csv",
            subject.name,
            if args.cheap { "-cheap" } else { "" }
        );
        std::fs::write(&path, table.csv())
            .map_err(|e| deep_inside::Error::file(&path, e.to_string()))?;
        print(&table, &subject.title, seconds);
    }
    Ok(())
}

/// `n` of `digits` (at most all), spread evenly: the set is sorted by class.
fn spread(digits: &Digits, n: usize) -> Vec<usize> {
    let n = n.clamp(1, digits.len());
    (0..n).map(|i| i * digits.len() / n).collect()
}

/// A shipped model and its own held-out images, each explained for its label.
fn shipped(model: Shipped, n: usize) -> Result<Subject, deep_inside::Error> {
    let digits = model.dataset().heldout()?;
    let picks = spread(&digits, n);
    Ok(Subject {
        name: model.name().into(),
        title: format!(
            "{}, {} held-out images, each explained for its label",
            model.title(),
            picks.len()
        ),
        model: model.load(&backend::cpu())?,
        images: picks.iter().map(|&i| digits.image(i)).collect(),
        classes: picks
            .iter()
            .map(|&i| usize::from(digits.labels[i]))
            .collect(),
    })
}

/// A user's model file, shown held-out MNIST digits in its input shape, each explained for the
/// class it predicts.
fn user(file: &std::path::Path, n: usize) -> Result<Subject, deep_inside::Error> {
    let what = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| deep_inside::Error::file(&what, e))?;
    let imported = import::import(&bytes, None)?;
    let model = Model::new(imported.config, &imported.network)?;
    let digits = Shipped::Mnist.dataset().heldout()?;
    let images: Vec<Vec<f32>> = spread(&digits, n)
        .into_iter()
        .map(|i| fit(&digits.image(i), model.input()))
        .collect();
    // The predicted class: S_c of every image, one batched pass per class.
    let all = images.concat();
    let scores: Vec<Vec<f32>> = (0..model.classes())
        .map(|c| predict(&model.network, &all, c, Output::Logit))
        .collect::<Result<_, _>>()?;
    let classes = (0..images.len())
        .map(|i| (0..scores.len()).fold(0, |b, c| if scores[c][i] > scores[b][i] { c } else { b }))
        .collect();
    let stem = file
        .file_stem()
        .map_or("user".into(), |s| s.to_string_lossy().into_owned());
    Ok(Subject {
        title: format!(
            "{stem} ({}), {} held-out MNIST digits, each explained for its predicted class",
            imported.format.name(),
            images.len()
        ),
        name: stem,
        model,
        images,
        classes,
    })
}

/// A 28 × 28 grey digit in `[c, h, w]`: grey copied to every channel, resized bilinearly
/// (half-pixel centres, clamped to [0, 1]), as the page's worker does (`fit` in www/worker.js).
fn fit(digit: &[f32], [c, h, w]: [usize; 3]) -> Vec<f32> {
    const SIDE: usize = 28;
    let at = |n: usize, m: usize, j: usize| {
        let x = ((j as f32 + 0.5) * n as f32 / m as f32 - 0.5).clamp(0.0, (n - 1) as f32);
        let i = x.floor() as usize;
        (i, (i + 1).min(n - 1), x - i as f32)
    };
    let mut plane = vec![0f32; h * w];
    for (y, row) in plane.chunks_mut(w).enumerate() {
        let (y0, y1, ty) = at(SIDE, h, y);
        for (x, v) in row.iter_mut().enumerate() {
            let (x0, x1, tx) = at(SIDE, w, x);
            let p = |yy: usize, xx: usize| digit[yy * SIDE + xx];
            let top = p(y0, x0) * (1.0 - tx) + p(y0, x1) * tx;
            let bottom = p(y1, x0) * (1.0 - tx) + p(y1, x1) * tx;
            *v = (top * (1.0 - ty) + bottom * ty).clamp(0.0, 1.0);
        }
    }
    plane.repeat(c)
}

/// Milliseconds per image of every method for each metric alone.
fn breakdown(
    subject: &Subject,
    rules: &Rules,
    metrics: &[Metric],
) -> Result<(), deep_inside::Error> {
    let pixels = subject.images.concat();
    let n = subject.images.len();
    println!("| metric | ms per image (8 methods) |\n|---|---:|");
    for &metric in metrics {
        let evaluator = Evaluator::new(
            &subject.model,
            rules.clone(),
            &Method::ALL,
            &[metric],
            Settings::default(),
        )?;
        let started = Instant::now();
        evaluator.evaluate(&pixels, &subject.classes, 0)?;
        let ms = started.elapsed().as_secs_f64() * 1e3 / n as f64;
        println!("| {} | {ms:.1} |", metric.about().quantus);
    }
    Ok(())
}

/// The markdown tables: means with intervals, then ranks.
fn print(table: &Table, title: &str, seconds: f64) {
    let summaries = table.summaries(0);
    let (ranks, mean_rank) = table.ranks(&summaries);
    let k = table.metrics.len();
    println!("\n### {title} ({seconds:.0} s natively on the CPU)\n");
    let header: Vec<String> = table
        .metrics
        .iter()
        .map(|m| {
            let about = m.about();
            let arrow = match about.better {
                deep_inside::evaluation::Better::Higher => "↑",
                deep_inside::evaluation::Better::Lower => "↓",
            };
            format!("{} {arrow}", about.quantus)
        })
        .collect();
    println!("| method | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(k));
    for (i, method) in table.methods.iter().enumerate() {
        let cells: Vec<String> = (0..k)
            .map(|j| {
                let s = &summaries[i * k + j];
                format!("{} [{}, {}]", fmt(s.mean), fmt(s.low), fmt(s.high))
            })
            .collect();
        println!("| {} | {} |", method.title(), cells.join(" | "));
    }
    println!("\nRanks (1 = best by the mean; ties share):\n");
    println!("| method | {} | mean rank |", header.join(" | "));
    println!("|---|{}---:|", "---:|".repeat(k));
    for (i, method) in table.methods.iter().enumerate() {
        let cells: Vec<String> = (0..k).map(|j| format!("{}", ranks[i * k + j])).collect();
        println!(
            "| {} | {} | {:.2} |",
            method.title(),
            cells.join(" | "),
            mean_rank[i]
        );
    }
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v != 0.0 && (v.abs() >= 1000.0 || v.abs() < 0.01) {
        format!("{v:.2e}")
    } else {
        format!("{v:.3}")
    }
}
