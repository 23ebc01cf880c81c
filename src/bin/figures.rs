//! Draws the figures in `docs/`: the ten class models at the default settings, from each start
//! (rows: noise, mean image, a held-out digit), each image normalised to its own range; and
//! `docs/class-model-presets.png`, the ten class models of each shipped network under each
//! preset from noise (rows: mnist paper, mnist readable, mnist-deep paper, …), shown as pixels:
//! values clamped to [0, 1], so an image that left the box shows it; and `docs/atlas/`, the
//! "readable" atlas of every conv layer (after its ReLU) of each shipped network, 16 channels a
//! row, as pixels.
//!
//! `cargo run --release --features train --bin figures`

use std::fs;

use deep_inside::backend;
use deep_inside::class_model::{Ascent, DEFAULT_STEPS, Options, PRESETS, Target, objective, start};
use deep_inside::data::{self, SIDE, Shipped, softmax};
use deep_inside::model::Kind;

const SCALE: usize = 4;
const GAP: usize = 4;

fn main() {
    let device = backend::cpu();
    let model = Shipped::Mnist.load(&device).expect("embedded model");
    let starts = ["noise", "mean", "dataset"];
    let cell = SIDE * SCALE + GAP;
    let (width, height) = (10 * cell + GAP, starts.len() * cell + GAP);
    let mut image = vec![255u8; width * height];
    for (row, name) in starts.iter().enumerate() {
        for class in 0..10 {
            let seed = class as u64;
            let options = Options {
                start: start(name, Some(data::Dataset::Mnist), None, seed).expect("start"),
                seed,
                ..Options::default()
            };
            let mut ascent =
                Ascent::new(&model, class as i64, options.clone(), &device).expect("ascent");
            let state = ascent.step(DEFAULT_STEPS);
            let x: Vec<f32> = state.x.into_data().try_into_vec().expect("image");
            let scores: Vec<f32> = state.scores.into_data().try_into_vec().expect("scores");
            println!(
                "{name:>7} class {class}: S_c {:7.2}  p {:.4}  objective {:7.2}  x in [{:.2}, {:.2}]",
                scores[class],
                softmax(&scores)[class],
                objective(&options, class, &scores, &x, model.input()),
                x.iter().cloned().fold(f32::INFINITY, f32::min),
                x.iter().cloned().fold(f32::NEG_INFINITY, f32::max),
            );
            let lo = x.iter().cloned().fold(f32::INFINITY, f32::min);
            let hi = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let span = if hi > lo { hi - lo } else { 1.0 };
            for y in 0..SIDE * SCALE {
                for xx in 0..SIDE * SCALE {
                    let v = (x[(y / SCALE) * SIDE + xx / SCALE] - lo) / span;
                    let (py, px) = (GAP + row * cell + y, GAP + class * cell + xx);
                    image[py * width + px] = (v * 255.0).round() as u8;
                }
            }
        }
    }
    fs::create_dir_all("docs").expect("docs/");
    fs::write("docs/class-models.png", png_gray(&image, width, height)).expect("write");
    println!("wrote docs/class-models.png ({width}×{height})");
    presets(&device);
    atlases(&device);
}

/// Every channel of each conv layer (the ReLU after it), "readable", from noise, seed 0.
fn atlases(device: &burn::tensor::Device) {
    const ROW: usize = 16;
    let cell = SIDE * SCALE + GAP;
    fs::create_dir_all("docs/atlas").expect("docs/atlas/");
    for shipped in [Shipped::Mnist, Shipped::MnistDeep, Shipped::Fashion] {
        let model = shipped.load(device).expect("a shipped model");
        for (i, info) in model.table.iter().enumerate() {
            let conv = model.table[..i]
                .iter()
                .rev()
                .find(|l| l.kind != Kind::BatchNorm)
                .filter(|l| l.kind == Kind::Conv);
            let (Kind::Relu, Some(conv)) = (info.kind, conv) else {
                continue;
            };
            let target = Target::layer(&model, &info.name, None, false).expect("a layer");
            let n = target.units.len();
            let options = Options::preset("readable").expect("a preset");
            let x: Vec<f32> = Ascent::of(&model, target, options, device)
                .expect("an atlas")
                .step(DEFAULT_STEPS)
                .x
                .into_data()
                .try_into_vec()
                .expect("images");
            let rows = n.div_ceil(ROW);
            let (width, height) = (ROW.min(n) * cell + GAP, rows * cell + GAP);
            let mut image = vec![255u8; width * height];
            for (k, one) in x.chunks_exact(SIDE * SIDE).enumerate() {
                let (row, col) = (k / ROW, k % ROW);
                for y in 0..SIDE * SCALE {
                    for xx in 0..SIDE * SCALE {
                        let v = one[(y / SCALE) * SIDE + xx / SCALE].clamp(0.0, 1.0);
                        let (py, px) = (GAP + row * cell + y, GAP + col * cell + xx);
                        image[py * width + px] = (v * 255.0).round() as u8;
                    }
                }
            }
            let file = format!("docs/atlas/{}-{}.png", shipped.name(), conv.name);
            fs::write(&file, png_gray(&image, width, height)).expect("write");
            println!(
                "wrote {file} ({n} channels of {} after {})",
                info.name, conv.name
            );
        }
    }
}

/// The class models of every shipped network under every preset, from noise, seed 0.
fn presets(device: &burn::tensor::Device) {
    let networks = [Shipped::Mnist, Shipped::MnistDeep, Shipped::Fashion];
    let cell = SIDE * SCALE + GAP;
    let rows = networks.len() * PRESETS.len();
    let (width, height) = (10 * cell + GAP, rows * cell + GAP);
    let mut image = vec![255u8; width * height];
    for (n, shipped) in networks.iter().enumerate() {
        let model = shipped.load(device).expect("a shipped model");
        for (p, (preset, _)) in PRESETS.iter().enumerate() {
            let row = n * PRESETS.len() + p;
            for class in 0..10 {
                let options = Options::preset(preset).expect("a preset");
                let mut ascent =
                    Ascent::new(&model, class as i64, options, device).expect("ascent");
                let x: Vec<f32> = ascent
                    .step(DEFAULT_STEPS)
                    .x
                    .into_data()
                    .try_into_vec()
                    .expect("image");
                for y in 0..SIDE * SCALE {
                    for xx in 0..SIDE * SCALE {
                        let v = x[(y / SCALE) * SIDE + xx / SCALE].clamp(0.0, 1.0);
                        let (py, px) = (GAP + row * cell + y, GAP + class * cell + xx);
                        image[py * width + px] = (v * 255.0).round() as u8;
                    }
                }
            }
            println!("{} {preset}: row {row}", shipped.name());
        }
    }
    fs::write(
        "docs/class-model-presets.png",
        png_gray(&image, width, height),
    )
    .expect("write");
    println!("wrote docs/class-model-presets.png ({width}×{height})");
}

/// A minimal PNG encoder (8-bit greyscale, stored deflate blocks): no dependency for one figure.
fn png_gray(pixels: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push((i + 1 == blocks.len()) as u8);
        let len = block.len() as u16;
        z.extend(len.to_le_bytes());
        z.extend((!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend(((b << 16) | a).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = (width as u32).to_be_bytes().to_vec();
    ihdr.extend((height as u32).to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", z), (b"IEND", vec![])] {
        out.extend((data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend(&data);
        out.extend(&chunk);
        out.extend(crc32(&chunk).to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
