//! Every metric of `deep_inside::evaluation` for every method over the held-out images of each
//! shipped model: means with 95 % bootstrap intervals, and the methods' ranks. Writes
//! `docs/evaluation-<model>-<images>[-cheap].csv` (every value) and prints markdown tables
//! (README, BENCHMARKS).
//!
//! `cargo run --release --example evaluate [-- --model mnist|mnist-deep|fashion] [--images N]
//! [--cheap]`

use std::time::Instant;

use clap::Parser;
use deep_inside::backend;
use deep_inside::data::Shipped;
use deep_inside::evaluation::{Evaluator, Method, Metric, Settings, Table};
use deep_inside::lrp::Rules;

#[derive(Parser)]
#[command(about = "Quantus-style evaluation of every method over the held-out images")]
struct Args {
    /// A shipped model; every shipped model when left out.
    #[arg(long)]
    model: Option<String>,
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

fn main() -> Result<(), deep_inside::Error> {
    let args = Args::parse();
    let models = match &args.model {
        Some(name) => vec![Shipped::parse(name)?],
        None => vec![Shipped::Mnist, Shipped::MnistDeep, Shipped::Fashion],
    };
    let metrics = if args.cheap {
        Metric::cheap()
    } else {
        Metric::ALL.to_vec()
    };
    let device = backend::cpu();
    for shipped in models {
        let model = shipped.load(&device)?;
        let images = shipped.dataset().heldout()?;
        let n = args.images.min(images.len());
        let rules = Rules::preset("recommended", &model)?;
        if args.breakdown {
            breakdown(&model, &rules, &images, n, &metrics)?;
            continue;
        }
        let evaluator = Evaluator::new(&model, rules, &Method::ALL, &metrics, Settings::default())?;
        let started = Instant::now();
        let mut table: Option<Table> = None;
        let mut first = 0;
        while first < n {
            let last = (first + args.chunk).min(n);
            let pick = |i: usize| i * images.len() / n;
            let pixels: Vec<f32> = (first..last).flat_map(|i| images.image(pick(i))).collect();
            let classes: Vec<usize> = (first..last)
                .map(|i| usize::from(images.labels[pick(i)]))
                .collect();
            let chunk = evaluator.evaluate(&pixels, &classes, first as u64)?;
            match &mut table {
                Some(t) => t.extend(chunk)?,
                None => table = Some(chunk),
            }
            eprintln!(
                "{}: {last}/{n} images, {:.1} s",
                shipped.name(),
                started.elapsed().as_secs_f64()
            );
            first = last;
        }
        let table = table.expect("at least one image");
        let seconds = started.elapsed().as_secs_f64();
        let path = format!(
            "docs/evaluation-{}-{n}{}.csv",
            shipped.name(),
            if args.cheap { "-cheap" } else { "" }
        );
        std::fs::write(&path, table.csv())
            .map_err(|e| deep_inside::Error::file(&path, e.to_string()))?;
        print(&table, shipped, n, seconds);
    }
    Ok(())
}

/// Seconds per image of every method for each metric alone.
fn breakdown(
    model: &deep_inside::model::Model,
    rules: &Rules,
    images: &deep_inside::data::Digits,
    n: usize,
    metrics: &[Metric],
) -> Result<(), deep_inside::Error> {
    let pick = |i: usize| i * images.len() / n;
    let pixels: Vec<f32> = (0..n).flat_map(|i| images.image(pick(i))).collect();
    let classes: Vec<usize> = (0..n)
        .map(|i| usize::from(images.labels[pick(i)]))
        .collect();
    println!("| metric | ms per image (8 methods) |\n|---|---:|");
    for &metric in metrics {
        let evaluator = Evaluator::new(
            model,
            rules.clone(),
            &Method::ALL,
            &[metric],
            Settings::default(),
        )?;
        let started = Instant::now();
        evaluator.evaluate(&pixels, &classes, 0)?;
        let ms = started.elapsed().as_secs_f64() * 1e3 / n as f64;
        println!("| {} | {ms:.1} |", metric.about().quantus);
    }
    Ok(())
}

/// The markdown tables: means with intervals, then ranks.
fn print(table: &Table, shipped: Shipped, n: usize, seconds: f64) {
    let summaries = table.summaries(0);
    let (ranks, mean_rank) = table.ranks(&summaries);
    let k = table.metrics.len();
    println!(
        "\n### {} ({n} held-out images, each explained for its label; {seconds:.0} s natively on the CPU)\n",
        shipped.title()
    );
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
