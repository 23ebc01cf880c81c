//! The foundation: the embedded weights, accuracy, CPU backends, bad input.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use deep_inside::data::{self, Digits, check_class, check_image};
use deep_inside::model::{self, CLASSES, Network, PIXELS};

#[test]
fn embedded_weights_load_and_round_trip() {
    let params = model::decode_parameters(data::Dataset::Mnist.weights().unwrap()).unwrap();
    assert_eq!(params.len(), 8, "weight and bias of 4 layers");
    let count: usize = params.iter().map(|p| p.values.len()).sum();
    assert!(count > 50_000 && count < 200_000, "{count} parameters");
    assert_eq!(
        model::encode_parameters(&params),
        data::Dataset::Mnist.weights().unwrap()
    );
    let net = trained(&cpu());
    assert_eq!(net.layers.len(), model::ARCHITECTURE.len());
}

#[test]
fn held_out_accuracy_is_at_least_98_percent() {
    let device = cpu();
    let net = trained(&device);
    let digits = heldout();
    assert_eq!(digits.len(), 1000);
    for class in 0..10u8 {
        assert_eq!(digits.labels.iter().filter(|&&l| l == class).count(), 100);
    }
    let accuracy = accuracy(&net, &digits);
    println!("held-out accuracy: {:.2}%", accuracy * 100.0);
    assert!(accuracy >= 0.98, "accuracy {accuracy}");
}

fn accuracy(net: &Network, digits: &Digits) -> f32 {
    let device = cpu();
    let mut hits = 0;
    for start in (0..digits.len()).step_by(500) {
        let end = (start + 500).min(digits.len());
        let all: Vec<f32> = (start..end).flat_map(|i| digits.image(i)).collect();
        let logits = values(net.forward(image(&all, &device)));
        hits += logits
            .chunks_exact(CLASSES)
            .zip(&digits.labels[start..end])
            .filter(|(row, label)| {
                let best = (0..CLASSES)
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap();
                best == usize::from(**label)
            })
            .count();
    }
    hits as f32 / digits.len() as f32
}

/// Reads a gzipped IDX file of Debian's dataset-fashion-mnist, without its header.
fn fashion_idx(name: &str, header: usize) -> Vec<u8> {
    use std::io::Read;
    let path = format!("/usr/share/datasets/fashion-mnist/{name}");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!("{path}: {e} (scripts/setup.sh installs dataset-fashion-mnist)")
    });
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap();
    bytes.split_off(header)
}

#[test]
fn fashion_test_accuracy_is_at_least_90_percent() {
    let net = Network::from_bytes(data::Dataset::Fashion.weights().unwrap(), &cpu()).unwrap();
    let shipped = data::Dataset::Fashion.heldout().unwrap();
    assert_eq!(shipped.len(), 1000);
    let on_shipped = accuracy(&net, &shipped);
    // The whole Fashion-MNIST test set, read independently of the training code.
    let test = Digits {
        labels: fashion_idx("t10k-labels-idx1-ubyte.gz", 8),
        pixels: fashion_idx("t10k-images-idx3-ubyte.gz", 16),
    };
    assert_eq!(test.len(), 10_000);
    let on_test = accuracy(&net, &test);
    println!(
        "Fashion-MNIST accuracy: {:.2}% on the 10,000 test images, {:.2}% on the 1,000 shipped",
        on_test * 100.0,
        on_shipped * 100.0
    );
    assert!(on_test >= 0.90, "test accuracy {on_test}");
    assert!(on_shipped >= 0.88, "shipped accuracy {on_shipped}");
}

#[test]
fn every_cpu_backend_gives_the_same_logits() {
    let devices = deep_inside::backend::cpu_devices();
    #[cfg(all(feature = "flex", feature = "ndarray"))]
    assert_eq!(devices.len(), 2, "flex and ndarray are both compiled in");
    let digits = heldout();
    let images: Vec<f32> = (0..20).flat_map(|i| digits.image(i)).collect();
    let reference = values(trained(&devices[0].1).forward(image(&images, &devices[0].1)));
    for (name, device) in &devices[1..] {
        let logits = values(trained(device).forward(image(&images, device)));
        let err = relative_error(&logits, &reference);
        println!("{name} vs {}: relative error {err:e}", devices[0].0);
        assert!(err <= 1e-5, "{name}: {err}");
    }
}

/// The logits the browser tests compare against (`tests/fixtures/logits.txt`): this test keeps
/// the file in step with the weights. `DEEP_INSIDE_BLESS=1 cargo test` rewrites it.
#[test]
fn reference_logits_fixture_is_current() {
    let device = cpu();
    let digits = heldout();
    let images: Vec<f32> = (0..5).flat_map(|i| digits.image(i)).collect();
    let logits = values(trained(&device).forward(image(&images, &device)));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/logits.txt");
    if std::env::var("DEEP_INSIDE_BLESS").is_ok() {
        let text: Vec<String> = logits.iter().map(|v| format!("{v:e}")).collect();
        std::fs::write(path, text.join("\n") + "\n").unwrap();
    }
    let stored: Vec<f32> = std::fs::read_to_string(path)
        .expect("fixture exists (DEEP_INSIDE_BLESS=1 cargo test writes it)")
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(relative_error(&stored, &logits) <= 1e-6);
}

#[test]
fn bad_files_and_inputs_are_errors_not_panics() {
    let device = cpu();
    assert!(Network::from_bytes(b"", &device).is_err());
    assert!(Network::from_bytes(b"DIW1\xff\xff\xff\xff", &device).is_err());
    let mut truncated = data::Dataset::Mnist.weights().unwrap().to_vec();
    truncated.truncate(truncated.len() - 3);
    assert!(Network::from_bytes(&truncated, &device).is_err());
    // A valid file for another architecture.
    let other = model::encode_parameters(&[model::Parameter {
        shape: vec![2, 2],
        values: vec![0.0; 4],
    }]);
    assert!(
        Network::from_bytes(&other, &device)
            .unwrap_err()
            .0
            .contains("tensors")
    );
    assert!(Digits::decode(b"DID1\x01\x00\x00\x00").is_err());

    assert!(
        check_image("pixels", &[0.0; 783])
            .unwrap_err()
            .0
            .contains("pixels")
    );
    let mut nan = vec![0.0; PIXELS];
    nan[7] = f32::NAN;
    assert!(
        check_image("pixels", &nan)
            .unwrap_err()
            .0
            .contains("index 7")
    );
    nan[7] = 1e30;
    assert!(check_image("pixels", &nan).is_err());
    assert!(check_class("class", 10).is_err());
    assert!(check_class("class", -1).is_err());
    assert_eq!(check_class("class", 9), Ok(9));
}
