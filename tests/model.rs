//! The foundation: the shipped models (burn configs and burnpack weights), accuracy, batch-norm
//! merging, CPU backends, bad files and input.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use deep_inside::Error;
use deep_inside::data::{Dataset, Digits, PIXELS, Shipped, check_image};
use deep_inside::model::{Kind, Model, architectures, store};

#[test]
fn shipped_models_load_and_round_trip_through_the_store() {
    let device = cpu();
    for shipped in Shipped::ALL {
        let files = shipped.files().unwrap();
        let config = store::config_from_json(files.config).unwrap();
        let net = store::load(&config, files.weights, &device).unwrap();
        let again = store::load(&config, &store::save(&net).unwrap(), &device).unwrap();
        let x = image(&heldout().image(0), &device);
        assert_eq!(
            values(net.forward(x.clone())),
            values(again.forward(x)),
            "{}: burnpack round trip",
            shipped.name()
        );
        let model = Model::new(config, &net).unwrap();
        assert_eq!(model.classes(), 10);
        assert_eq!(model.class_names().len(), 10);
        println!(
            "{}: {} layers, {} parameters",
            shipped.name(),
            model.table.len(),
            model.table.iter().map(|l| l.parameters).sum::<usize>()
        );
    }
    let small = model(&device);
    let kinds: Vec<Kind> = small.weighted().iter().map(|l| l.kind).collect();
    assert_eq!(kinds, [Kind::Conv, Kind::Conv, Kind::Linear, Kind::Linear]);
    let names: Vec<&str> = small.weighted().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["conv1", "conv2", "fc1", "fc2"]);
    assert_eq!(
        small.table.iter().map(|l| l.parameters).sum::<usize>(),
        80_202
    );
}

#[test]
fn held_out_accuracy_is_at_least_98_percent() {
    let device = cpu();
    let digits = heldout();
    assert_eq!(digits.len(), 1000);
    for class in 0..10u8 {
        assert_eq!(digits.labels.iter().filter(|&&l| l == class).count(), 100);
    }
    for shipped in [Shipped::Mnist, Shipped::MnistDeep] {
        let net = shipped.load(&device).unwrap().network;
        let accuracy = accuracy(&net, &digits);
        println!(
            "{}: held-out accuracy {:.2}%",
            shipped.name(),
            accuracy * 100.0
        );
        assert!(accuracy >= 0.98, "{}: accuracy {accuracy}", shipped.name());
    }
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
    let net = Shipped::Fashion.load(&cpu()).unwrap().network;
    let shipped = Dataset::Fashion.heldout().unwrap();
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
fn merged_batch_norm_gives_the_same_logits() {
    let device = cpu();
    let files = Shipped::MnistDeep.files().unwrap();
    let config = store::config_from_json(files.config).unwrap();
    let original = store::load(&config, files.weights, &device).unwrap();
    assert!(original.layers.iter().any(|l| l.kind() == Kind::BatchNorm));
    let canonical = original.canonical().unwrap();
    assert!(
        canonical
            .layers
            .iter()
            .all(|l| !matches!(l.kind(), Kind::BatchNorm | Kind::Dropout))
    );
    let digits = heldout();
    let images: Vec<f32> = (0..50).flat_map(|i| digits.image(i * 20)).collect();
    let x = image(&images, &device);
    let a = values(original.forward(x.clone()));
    let b = values(canonical.forward(x));
    let err = relative_error(&b, &a);
    println!("merged batch norm: relative error of the logits {err:e}");
    assert!(err <= 1e-5, "{err}");
}

#[test]
fn every_cpu_backend_gives_the_same_logits() {
    let devices = deep_inside::backend::cpu_devices();
    #[cfg(all(feature = "flex", feature = "ndarray"))]
    assert_eq!(devices.len(), 2, "flex and ndarray are both compiled in");
    let digits = heldout();
    let images: Vec<f32> = (0..20).flat_map(|i| digits.image(i)).collect();
    for shipped in [Shipped::Mnist, Shipped::MnistDeep] {
        let on = |device| shipped.load(device).unwrap().network;
        let reference = values(on(&devices[0].1).forward(image(&images, &devices[0].1)));
        for (name, device) in &devices[1..] {
            let logits = values(on(device).forward(image(&images, device)));
            let err = relative_error(&logits, &reference);
            println!(
                "{}: {name} vs {}: relative error {err:e}",
                shipped.name(),
                devices[0].0
            );
            assert!(err <= 1e-5, "{name}: {err}");
        }
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
    let files = Shipped::Mnist.files().unwrap();
    let config = store::config_from_json(files.config).unwrap();
    assert!(store::load(&config, b"", &device).is_err());
    assert!(store::load(&config, b"BURN\xff\xff\xff\xff", &device).is_err());
    let mut truncated = files.weights.to_vec();
    truncated.truncate(truncated.len() - 3);
    assert!(store::load(&config, &truncated, &device).is_err());
    // A valid file for another architecture.
    let deep = Shipped::MnistDeep.files().unwrap();
    let err = store::load(&config, deep.weights, &device).unwrap_err();
    println!("another architecture's weights: {err}");
    assert!(matches!(err, Error::File { .. }), "{err:?}");
    // NaN weights.
    let mut net = store::load(&config, files.weights, &device).unwrap();
    if let deep_inside::model::Layer::Conv(conv) = &mut net.layers[0] {
        conv.weight = burn::module::Param::from_tensor(conv.weight.val().mul_scalar(f32::NAN));
    }
    let nan = store::save(&net).unwrap();
    let err = store::load(&config, &nan, &device).unwrap_err();
    assert!(err.to_string().contains("NaN"), "{err}");
    assert!(store::config_from_json(b"{").is_err());
    assert!(store::config_from_json(b"{\"input\": [1, 28, 28], \"layers\": []}").is_err());
    assert!(Digits::decode(b"DID1\x01\x00\x00\x00").is_err());

    let err = check_image("pixels", &[0.0; 783], [1, 28, 28]).unwrap_err();
    assert!(err.to_string().contains("pixels"), "{err}");
    let mut nan = vec![0.0; PIXELS];
    nan[7] = f32::NAN;
    let err = check_image("pixels", &nan, [1, 28, 28]).unwrap_err();
    assert!(err.to_string().contains("index 7"), "{err}");
    nan[7] = 1e30;
    assert!(check_image("pixels", &nan, [1, 28, 28]).is_err());
    let small = model(&device);
    assert!(small.check_class("class", 10).is_err());
    assert!(small.check_class("class", -1).is_err());
    assert_eq!(small.check_class("class", 9), Ok(9));
}

#[test]
fn architectures_that_cannot_work_are_refused_naming_the_layer() {
    use burn::nn::LinearConfig;
    use burn::nn::conv::Conv2dConfig;
    use deep_inside::model::{LayerConfig, NetworkConfig};
    let refuse = |config: NetworkConfig, layer: Option<usize>, says: &str| {
        let err = config.check().unwrap_err();
        let text = err.to_string();
        println!("{text}");
        match (&err, layer) {
            (Error::Architecture { layer: Some(l), .. }, Some(index)) => {
                assert_eq!(l.index, index, "{text}")
            }
            (Error::Architecture { layer: None, .. }, None) => {}
            _ => panic!("unexpected error {err:?}"),
        }
        assert!(text.contains(says), "{text:?} should say {says:?}");
        assert!(config.init(&cpu()).is_err());
    };
    // A kernel larger than its input.
    refuse(
        NetworkConfig::new(
            [1, 4, 4],
            vec![LayerConfig::Conv(Conv2dConfig::new([1, 2], [5, 5]))],
        ),
        Some(0),
        "kernel spans 5 pixels",
    );
    // A flatten whose size does not match the next linear layer.
    let mut small = architectures::small(&architectures::DIGITS);
    small.layers[7] = LayerConfig::Linear(LinearConfig::new(500, 128));
    refuse(small, Some(7), "the flatten before it gives 512");
    // More than 64×64 input.
    refuse(
        NetworkConfig::new([1, 65, 65], vec![LayerConfig::Flatten]),
        None,
        "at most 64×64",
    );
    // Channels that do not match.
    let mut small = architectures::small(&architectures::DIGITS);
    small.layers[3] = LayerConfig::Conv(Conv2dConfig::new([8, 32], [5, 5]));
    refuse(small, Some(3), "takes 8 channels, its input has 16");
    // A dense layer on a spatial input.
    refuse(
        NetworkConfig::new(
            [1, 8, 8],
            vec![LayerConfig::Linear(LinearConfig::new(64, 10))],
        ),
        Some(0),
        "add a Flatten",
    );
    // Batch norm with nothing to merge into.
    refuse(
        NetworkConfig::new(
            [1, 8, 8],
            vec![
                LayerConfig::BatchNorm(burn::nn::BatchNormConfig::new(1)),
                LayerConfig::Flatten,
            ],
        ),
        Some(0),
        "must follow a conv or linear",
    );
    // The output is not one score per class.
    refuse(
        NetworkConfig::new([1, 8, 8], vec![LayerConfig::Relu]),
        None,
        "one score per class",
    );
    // Too many classes.
    refuse(
        NetworkConfig::new(
            [1, 2, 2],
            vec![
                LayerConfig::Flatten,
                LayerConfig::Linear(LinearConfig::new(4, 1001)),
            ],
        ),
        None,
        "1 to 1000 classes",
    );
    // Too many parameters, refused before anything is allocated: 12.3 M + 7.0 M, then 7.0 M
    // more at the last layer.
    refuse(
        NetworkConfig::new(
            [3, 64, 64],
            vec![
                LayerConfig::Flatten,
                LayerConfig::Linear(LinearConfig::new(12288, 1000)),
                LayerConfig::Linear(LinearConfig::new(1000, 7000)),
                LayerConfig::Linear(LinearConfig::new(7000, 1000)),
            ],
        ),
        Some(3),
        "exceed 20000000 parameters",
    );
}
