//! Users' models against the tools people trust: three small PyTorch models, exported as ONNX
//! (by both of PyTorch's exporters) and by `scripts/export_pytorch.py`, loaded through the
//! page's own path (`import` then `Model::new`), must give PyTorch's logits and gradient, Zennit's guided backprop and
//! DeconvNet, and Zennit's EpsilonGammaBox and EpsilonPlus relevance. The fixtures come from
//! `scripts/reference/make_fixtures.py` (run by hand; its README has the conventions).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::{Tensor, TensorData};
use common::*;
use deep_inside::lrp::{self, Rules};
use deep_inside::model::import::{self, Format};
use deep_inside::model::{Kind, Model};
use deep_inside::saliency::{self, Method};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    input_shape: [usize; 3],
    inputs: Vec<Vec<f32>>,
    classes: Vec<usize>,
    logits: Vec<Vec<f32>>,
    gradient: Vec<Vec<f32>>,
    guided: Vec<Vec<f32>>,
    deconvnet: Vec<Vec<f32>>,
    lrp_epsilon_gamma_box: Vec<Vec<f32>>,
    lrp_epsilon_plus: Vec<Vec<f32>>,
}

const MODELS: [&str; 3] = ["bn_avgpool", "rgb_stride", "normalized"];

fn path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/user-models")
        .join(name)
}

fn fixture(name: &str) -> Fixture {
    let text = std::fs::read_to_string(path(&format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The model from `file`, as the page loads it.
fn load(file: &str) -> Model {
    let imported = import::import(&std::fs::read(path(file)).unwrap(), None).unwrap();
    Model::new(imported.config, &imported.network).unwrap()
}

/// Zennit's composites as rule lists: EpsilonGammaBox puts zB on the first conv, γ = 0.25 on
/// the other convs, ε on every dense layer; EpsilonPlus z⁺ on convs, ε on dense layers (ε =
/// 10⁻⁶, Zennit's default stabiliser). zB's bounds are the pixels' [0, 1], which our walk maps
/// through the model's normalisation as Zennit's `low`/`high` are given.
fn zennit(model: &Model, composite: &str) -> Rules {
    let mut first_conv = true;
    let rules: Vec<String> = model
        .weighted()
        .iter()
        .map(|l| match (composite, l.kind) {
            ("epsilon_gamma_box", Kind::Conv) if std::mem::take(&mut first_conv) => "zbox".into(),
            ("epsilon_gamma_box", Kind::Conv) => "gamma(0.25)".into(),
            ("epsilon_plus", Kind::Conv) => "zplus".into(),
            _ => "epsilon(0.000001)".into(),
        })
        .collect();
    Rules::custom(&rules, model).unwrap()
}

/// Every map of one model file against the fixture: returns them, to compare the formats.
fn check(name: &str, format: &str) -> Vec<Vec<f32>> {
    let f = fixture(name);
    let model = load(&format!("{name}.{format}"));
    assert_eq!(model.input(), f.input_shape, "{name}.{format}");
    let device = model.network.device();
    let [c, h, w] = f.input_shape;
    let mut all = Vec::new();
    for (i, pixels) in f.inputs.iter().enumerate() {
        let x: Tensor<4> =
            Tensor::from_data(TensorData::new(pixels.clone(), [1, c, h, w]), &device);
        let class = f.classes[i];
        let label = |what: &str| format!("{name}.{format}, input {i}, {what}");
        let logits = values(model.network.forward(x.clone()));
        let e = relative_error(&logits, &f.logits[i]);
        assert!(e < 1e-4, "{}: {e}", label("logits"));
        let trace = model.network.trace(x.clone());
        for (method, expected, what) in [
            (Method::Gradient, &f.gradient[i], "gradient"),
            (Method::Guided, &f.guided[i], "guided backprop"),
            (Method::Deconvnet, &f.deconvnet[i], "DeconvNet"),
        ] {
            let map = values(saliency::signed(&model.network, &trace, class, method).unwrap());
            let e = relative_error(&map, expected);
            println!("{}: relative error {e:.1e}", label(what));
            assert!(e < 1e-4, "{}: {e}", label(what));
            all.push(map);
        }
        for (composite, expected) in [
            ("epsilon_gamma_box", &f.lrp_epsilon_gamma_box[i]),
            ("epsilon_plus", &f.lrp_epsilon_plus[i]),
        ] {
            let r = lrp::relevance(&model.network, x.clone(), class, &zennit(&model, composite))
                .unwrap();
            let map = values(r.pixels);
            let e = relative_error(&map, expected);
            println!("{}: relative error {e:.1e}", label(composite));
            assert!(e < 1e-3, "{}: {e}", label(composite));
            all.push(map);
        }
    }
    all
}

#[test]
fn users_models_match_pytorch_and_zennit_from_both_formats() {
    for name in MODELS {
        let onnx = check(name, "onnx");
        let safetensors = check(name, "safetensors");
        // PyTorch's newer (dynamo) exporter: ReduceMean for the global pool, Reshape for the
        // flatten, its own opset.
        let dynamo = check(name, "dynamo.onnx");
        // The files of one model give the same maps (up to float rounding: the ONNX export
        // may fold batch norm into the conv before we do).
        for ((a, b), c) in onnx.iter().zip(&safetensors).zip(&dynamo) {
            let e = relative_error(a, b).max(relative_error(c, b));
            assert!(e < 1e-5, "{name}: onnx vs safetensors {e}");
        }
    }
}

#[test]
fn the_files_say_what_they_hold() {
    let formats = |name: &str| {
        ["onnx", "safetensors"].map(|ext| {
            let bytes = std::fs::read(path(&format!("{name}.{ext}"))).unwrap();
            (
                Format::detect(&bytes).unwrap(),
                import::import(&bytes, None).unwrap(),
            )
        })
    };
    for name in MODELS {
        let [(onnx, a), (safetensors, b)] = formats(name);
        assert_eq!((onnx, safetensors), (Format::Onnx, Format::Safetensors));
        assert_eq!(a.config.input, b.config.input);
        let first = |m: &import::Imported| m.table().unwrap()[0].kind;
        let normalised = name == "normalized";
        assert_eq!(first(&a) == Kind::Normalize, normalised, "{name}.onnx");
        assert_eq!(
            first(&b) == Kind::Normalize,
            normalised,
            "{name}.safetensors"
        );
        // The normalized model ends in a softmax, which is dropped with a note.
        assert_eq!(
            a.notes.iter().any(|n| n.contains("oftmax")),
            normalised,
            "{:?}",
            a.notes
        );
        assert_eq!(
            b.notes.iter().any(|n| n.contains("oftmax")),
            normalised,
            "{:?}",
            b.notes
        );
        let names = if name == "rgb_stride" {
            [
                "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            ]
            .map(String::from)
            .to_vec()
        } else {
            Vec::new()
        };
        assert_eq!(a.config.class_names, names, "{name}.onnx");
        assert_eq!(b.config.class_names, names, "{name}.safetensors");
    }
}
