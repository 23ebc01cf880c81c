//! A user's own model: ONNX graphs and the export script's safetensors files become the same
//! network as a burn model, give the same scores and explanations as the network they were
//! written from, and hostile files are refused with a named error, never a panic.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::onnx::{Attr, Graph, int_tensor, node, tensor, value_info};
use common::*;
use deep_inside::Error;
use deep_inside::lrp::{self, Rules};
use deep_inside::model::import::{self, Format, Imported};
use deep_inside::model::{Kind, Layer, Model, Network};
use deep_inside::rng::SplitMix;
use deep_inside::saliency::{self, Method};

/// The shipped small MNIST model (architecture and canonical network).
fn model_of(device: &burn::tensor::Device) -> Model {
    common::model(device)
}

const MEAN: f32 = 0.1307;
const STD: f32 = 0.3081;

/// How the dense layers are written.
#[derive(Clone, Copy)]
enum Dense {
    /// `Gemm` with `transB = 1` and PyTorch's `[out, in]` weight, after a `Flatten`.
    Gemm,
    /// `MatMul` by `[in, out]` then `Add` of the bias, after a `Reshape` to `[-1, features]`.
    MatMulAdd,
}

/// The shipped small MNIST net written as ONNX by hand, with `(x − MEAN) / STD` in front and,
/// if asked, a softmax at the end.
fn exported(net: &Network, dense: Dense, softmax: bool) -> Graph {
    let mut g = Graph::default();
    g.inputs.push(value_info("input", &[-1, 1, 28, 28]));
    g.initializers.push(tensor("mean", &[1, 1, 1, 1], &[MEAN]));
    g.initializers.push(tensor("std", &[1], &[STD]));
    g.nodes
        .push(node("Sub", "sub", &["input", "mean"], &["x0"], &[]));
    g.nodes
        .push(node("Div", "div", &["x0", "std"], &["x1"], &[]));
    let mut current = "x1".to_string();
    for (i, layer) in net.layers.iter().enumerate() {
        let out = format!("t{i}");
        let (w, b) = (format!("w{i}"), format!("b{i}"));
        let ins: [&str; 3] = [&current, &w, &b];
        match layer {
            Layer::Conv(c) => {
                let dims = c.weight.dims().map(|d| d as i64);
                g.initializers
                    .push(tensor(&w, &dims, &values(c.weight.val())));
                let bias = c.bias.as_ref().unwrap().val();
                g.initializers.push(tensor(&b, &[dims[0]], &values(bias)));
                let attrs = [
                    ("kernel_shape", Attr::Ints(&dims[2..])),
                    ("strides", Attr::Ints(&[1, 1])),
                    ("pads", Attr::Ints(&[0, 0, 0, 0])),
                ];
                g.nodes
                    .push(node("Conv", &format!("conv_{i}"), &ins, &[&out], &attrs));
            }
            Layer::Relu(_) => {
                g.nodes
                    .push(node("Relu", &format!("relu_{i}"), &ins[..1], &[&out], &[]))
            }
            Layer::MaxPool(_) => {
                let attrs = [
                    ("kernel_shape", Attr::Ints(&[2, 2])),
                    ("strides", Attr::Ints(&[2, 2])),
                ];
                g.nodes.push(node(
                    "MaxPool",
                    &format!("pool_{i}"),
                    &ins[..1],
                    &[&out],
                    &attrs,
                ));
            }
            Layer::Flatten(_) => match dense {
                Dense::Gemm => {
                    let attrs = [("axis", Attr::Int(1))];
                    g.nodes
                        .push(node("Flatten", "flatten", &ins[..1], &[&out], &attrs));
                }
                Dense::MatMulAdd => {
                    g.initializers.push(int_tensor("shape", &[-1, 512]));
                    g.nodes.push(node(
                        "Reshape",
                        "reshape",
                        &[&current, "shape"],
                        &[&out],
                        &[],
                    ));
                }
            },
            Layer::Linear(l) => {
                let [inputs, outputs] = l.weight.dims();
                let weight = values(l.weight.val());
                let bias = values(l.bias.as_ref().unwrap().val());
                g.initializers.push(tensor(&b, &[outputs as i64], &bias));
                match dense {
                    Dense::Gemm => {
                        let mut t = vec![0.0; weight.len()];
                        for r in 0..inputs {
                            for c in 0..outputs {
                                t[c * inputs + r] = weight[r * outputs + c];
                            }
                        }
                        g.initializers
                            .push(tensor(&w, &[outputs as i64, inputs as i64], &t));
                        let attrs = [("transB", Attr::Int(1)), ("alpha", Attr::Float(1.0))];
                        g.nodes
                            .push(node("Gemm", &format!("gemm_{i}"), &ins, &[&out], &attrs));
                    }
                    Dense::MatMulAdd => {
                        g.initializers
                            .push(tensor(&w, &[inputs as i64, outputs as i64], &weight));
                        let mid = format!("m{i}");
                        g.nodes.push(node(
                            "MatMul",
                            &format!("matmul_{i}"),
                            &ins[..2],
                            &[&mid],
                            &[],
                        ));
                        g.nodes
                            .push(node("Add", &format!("add_{i}"), &[&mid, &b], &[&out], &[]));
                    }
                }
            }
            other => panic!("the small net has no {:?}", other.kind()),
        }
        current = out;
    }
    if softmax {
        let attrs = [("axis", Attr::Int(1))];
        g.nodes.push(node(
            "Softmax",
            "softmax",
            &[&current],
            &["probabilities"],
            &attrs,
        ));
        current = "probabilities".into();
    }
    g.outputs.push(value_info(&current, &[-1, 10]));
    g
}

fn load(bytes: &[u8]) -> Result<Imported, Error> {
    import::import(bytes, None)
}

fn message(result: Result<Imported, Error>) -> String {
    match result {
        Ok(_) => panic!("the file was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn an_onnx_chain_gives_the_networks_scores_gradients_and_relevance() {
    let device = cpu();
    let original = trained(&device);
    let digits = heldout();
    let pixels: Vec<f32> = (0..3).flat_map(|i| digits.image(i)).collect();
    let x = batch(&original, &pixels, &device);
    let normalised = x.clone().sub_scalar(MEAN).div_scalar(STD);
    let expected = values(original.forward(normalised.clone()));
    for (dense, softmax) in [(Dense::Gemm, true), (Dense::MatMulAdd, false)] {
        let imported = load(&exported(&original, dense, softmax).model()).unwrap();
        assert_eq!(imported.format, Format::Onnx);
        assert_eq!(
            imported.notes.len(),
            usize::from(softmax),
            "{:?}",
            imported.notes
        );
        let model = Model::new(imported.config.clone(), &imported.network).unwrap();
        let kinds: Vec<Kind> = model.table.iter().map(|l| l.kind).collect();
        assert_eq!(kinds[0], Kind::Normalize);
        assert_eq!(kinds.len(), original.layers.len() + 1);
        let logits = values(model.network.forward(x.clone()));
        assert!(relative_error(&logits, &expected) < 1e-5, "logits");

        // The gradient is with respect to the pixels: the walk agrees with autodiff through the
        // normalisation, and both are the original's gradient divided by the std.
        let class = 3;
        let walked = values(
            saliency::signed(
                &model.network,
                &model.network.trace(x.clone()),
                class,
                Method::Gradient,
            )
            .unwrap(),
        );
        let autodiff = autodiff_gradient(&model.network, x.clone(), class);
        assert!(
            relative_error(&walked, &autodiff) < 1e-4,
            "walk vs autodiff"
        );
        let scaled: Vec<f32> = autodiff_gradient(&original, normalised.clone(), class)
            .into_iter()
            .map(|g| g / STD)
            .collect();
        assert!(
            relative_error(&walked, &scaled) < 1e-4,
            "chain rule through the normalisation"
        );

        // Relevance is an amount: the normalisation passes it unchanged, and zB's pixel bounds
        // are mapped through it, so LRP equals the original's with bounds (0 − m)/s, (1 − m)/s.
        let rules = Rules::preset("recommended", &model).unwrap();
        let ours = lrp::relevance(&model.network, x.clone(), class, &rules).unwrap();
        let (low, high) = ((0.0 - MEAN) / STD, (1.0 - MEAN) / STD);
        let reference_model = model_of(&device);
        let reference_rules = Rules::custom(
            &[
                format!("zbox({low},{high})"),
                "gamma".into(),
                "epsilon".into(),
                "zero".into(),
            ],
            &reference_model,
        )
        .unwrap();
        let reference =
            lrp::relevance(&original, normalised.clone(), class, &reference_rules).unwrap();
        assert!(
            relative_error(&values(ours.pixels), &values(reference.pixels)) < 1e-4,
            "relevance with normalisation"
        );
    }
}

#[test]
fn class_names_come_from_the_metadata() {
    let original = trained(&cpu());
    let mut graph = exported(&original, Dense::Gemm, false);
    let names: Vec<String> = (0..10).map(|i| format!("digit {i}")).collect();
    graph
        .metadata
        .push(("class_names".into(), serde_names(&names)));
    let imported = load(&graph.model()).unwrap();
    assert_eq!(imported.config.class_names, names);
    // The wrong number of names is a note, not a failure.
    let mut graph = exported(&original, Dense::Gemm, false);
    graph
        .metadata
        .push(("class_names".into(), serde_names(&names[..3])));
    let imported = load(&graph.model()).unwrap();
    assert!(imported.config.class_names.is_empty());
    assert!(
        imported.notes.iter().any(|n| n.contains("class names")),
        "{:?}",
        imported.notes
    );
}

fn serde_names(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// A small valid graph: input `[1, c, side, side]`, a 1×1 conv to `classes` channels, global
/// average pooling, flatten. `extra` nodes go between the conv and the pooling.
fn tiny(c: i64, side: i64, classes: i64) -> Graph {
    let mut g = Graph::default();
    g.inputs.push(value_info("input", &[1, c, side, side]));
    let w = vec![0.1; (classes * c) as usize];
    g.initializers.push(tensor("w", &[classes, c, 1, 1], &w));
    g.nodes
        .push(node("Conv", "conv", &["input", "w"], &["a"], &[]));
    g.nodes
        .push(node("GlobalAveragePool", "gap", &["a"], &["b"], &[]));
    g.nodes
        .push(node("Flatten", "flatten", &["b"], &["out"], &[]));
    g.outputs.push(value_info("out", &[1, classes]));
    g
}

#[test]
fn graphs_that_are_not_chains_are_refused_naming_the_node() {
    assert!(load(&tiny(1, 8, 4).model()).is_ok());
    // A residual connection: `add_3` adds the conv's output to the input.
    let mut g = tiny(1, 8, 1);
    g.nodes
        .insert(1, node("Add", "add_3", &["a", "input"], &["a2"], &[]));
    g.nodes[2] = node("GlobalAveragePool", "gap", &["a2"], &["b"], &[]);
    let m = message(load(&g.model()));
    assert!(
        m.contains("tensor 'input' feeds 2 nodes")
            || m.contains("node 'add_3' (Add) joins two branches"),
        "{m}"
    );
    let mut g = tiny(1, 8, 1);
    g.nodes[1] = node("Add", "add_3", &["a", "a"], &["b"], &[]);
    assert_eq!(
        message(load(&g.model())),
        "model: node 'add_3' (Add) joins two branches; only sequential networks are supported"
    );
    // A second input.
    let mut g = tiny(1, 8, 4);
    g.inputs.push(value_info("mask", &[1, 1, 8, 8]));
    assert!(message(load(&g.model())).contains("2 inputs (input, mask)"));
    // An op that is not supported.
    let mut g = tiny(1, 8, 4);
    g.nodes
        .insert(1, node("Sigmoid", "sigmoid_1", &["a"], &["s"], &[]));
    g.nodes[2] = node("GlobalAveragePool", "gap", &["s"], &["b"], &[]);
    assert!(
        message(load(&g.model())).starts_with("model: node 'sigmoid_1' (Sigmoid) is not supported")
    );
    // A node off the chain.
    let mut g = tiny(1, 8, 4);
    g.nodes.push(node("Relu", "stray", &["w"], &["z"], &[]));
    assert!(message(load(&g.model())).contains("node 'stray' (Relu) is not on the path"));
    // A normalisation after the first layer.
    let mut g = tiny(1, 8, 4);
    g.initializers.push(tensor("k", &[1], &[2.0]));
    g.nodes
        .insert(1, node("Mul", "mul", &["a", "k"], &["s"], &[]));
    g.nodes[2] = node("GlobalAveragePool", "gap", &["s"], &["b"], &[]);
    assert!(message(load(&g.model())).contains("node 'mul' (Mul) comes after the first layer"));
}

#[test]
fn limits_are_named_before_anything_large_is_allocated() {
    assert!(message(load(&tiny(3, 96, 4).model())).contains("at most 64×64, not 96×96"));
    assert!(message(load(&tiny(2, 8, 4).model())).contains("1 or 3 channels, not 2"));
    assert!(message(load(&tiny(1, 8, 1001).model())).contains("1 to 1000 classes, not 1001"));
    // A dense layer of 10⁹ weights: refused by the parameter limit, from its dimensions alone
    // (the file holds no values for it).
    let mut g = Graph::default();
    g.inputs.push(value_info("input", &[1, 1, 8, 8]));
    g.initializers.push(tensor("w", &[64, 1_000_000_000], &[]));
    g.nodes
        .push(node("Flatten", "flatten", &["input"], &["f"], &[]));
    g.nodes
        .push(node("Gemm", "gemm_huge", &["f", "w"], &["out"], &[]));
    g.outputs.push(value_info("out", &[1, 1_000_000_000]));
    let m = message(load(&g.model()));
    assert!(
        m.contains("20000000 parameters") || m.contains("1000 classes"),
        "{m}"
    );
    // A file over 100 MB.
    let big = vec![0u8; import::MAX_FILE + 1];
    assert!(message(load(&big)).contains("at most 100 MB"));
    // 100,000 nodes.
    let mut g = tiny(1, 8, 4);
    for i in 0..100_000 {
        g.nodes
            .push(node("Identity", &format!("id{i}"), &["x"], &["y"], &[]));
    }
    assert!(message(load(&g.model())).contains("more than 4096 nodes"));
}

#[test]
fn a_hundred_layer_chain_loads() {
    let mut g = Graph::default();
    g.inputs.push(value_info("input", &[1, 1, 4, 4]));
    let mut current = "input".to_string();
    for i in 0..50 {
        let (w, a, r) = (format!("w{i}"), format!("a{i}"), format!("r{i}"));
        g.initializers.push(tensor(&w, &[1, 1, 1, 1], &[1.01]));
        g.nodes.push(node(
            "Conv",
            &format!("conv{i}"),
            &[&current, &w],
            &[&a],
            &[],
        ));
        g.nodes
            .push(node("Relu", &format!("relu{i}"), &[&a], &[&r], &[]));
        current = r;
    }
    g.nodes
        .push(node("GlobalAveragePool", "gap", &[&current], &["g"], &[]));
    g.nodes
        .push(node("Flatten", "flatten", &["g"], &["out"], &[]));
    g.outputs.push(value_info("out", &[1, 1]));
    let imported = load(&g.model()).unwrap();
    assert_eq!(imported.table().unwrap().len(), 102);
    let x = burn::tensor::Tensor::from_data(
        burn::tensor::TensorData::new(vec![1.0f32; 16], [1, 1, 4, 4]),
        &cpu(),
    );
    let score = values(imported.network.forward(x))[0];
    assert!((score - 1.01f32.powi(50)).abs() < 1e-4, "{score}");
}

#[test]
fn corrupt_files_are_refused_with_a_reason() {
    let good = tiny(1, 8, 4).model();
    // Truncated at every length.
    for n in 0..good.len() {
        assert!(load(&good[..n]).is_err(), "truncated to {n} bytes");
    }
    // Wrong magic: a PNG, a PyTorch zip, text.
    assert!(load(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").is_err());
    assert!(message(load(b"PK\x03\x04rest of a zip")).contains("PyTorch pickle"));
    assert!(load(b"hello, world").is_err());
    // A length pointing past the end of the file.
    let mut past = good.clone();
    past.extend([0x3a, 0xff, 0xff, 0xff, 0x0f]); // field 7 (graph), 4 GB long
    assert!(message(load(&past)).contains("runs past the end"));
    // Tensors whose shapes disagree with the graph: 3 values for 4×1×1×1 weights, and a bias
    // of the wrong length.
    let mut g = tiny(1, 8, 4);
    g.initializers[0] = tensor("w", &[4, 1, 1, 1], &[0.1; 3]);
    assert!(message(load(&g.model())).contains("12 bytes for 4 floats"));
    let mut g = tiny(1, 8, 4);
    g.initializers.push(tensor("bias", &[5], &[0.0; 5]));
    g.nodes[0] = node("Conv", "conv", &["input", "w", "bias"], &["a"], &[]);
    let m = message(load(&g.model()));
    assert!(
        m.contains("node 'conv' (Conv): bias has 5 values, the layer needs 4"),
        "{m}"
    );
    // NaN and infinite weights.
    for bad in [f32::NAN, f32::INFINITY] {
        let mut g = tiny(1, 8, 4);
        g.initializers[0] = tensor("w", &[4, 1, 1, 1], &[0.1, bad, 0.1, 0.1]);
        assert!(message(load(&g.model())).contains("NaN or infinite"));
    }
}

/// One mutation of `bytes`: flipped bits, overwritten or inserted bytes, a cut, a copied span,
/// or a byte made a large varint, a few times over.
fn mutate(bytes: &[u8], rng: &mut SplitMix) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        match rng.below(6) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = [0x00, 0x7f, 0x80, 0xff][rng.below(4)],
            2 => out.insert(at, rng.below(256) as u8),
            3 => out.truncate(at),
            4 => {
                let len = rng.below(64).min(out.len() - at);
                let span = out[at..at + len].to_vec();
                let to = rng.below(out.len());
                out.splice(to..to, span);
            }
            _ => {
                out.splice(at..at + 1, [0xff, 0xff, 0xff, 0xff, 0x0f]);
            }
        }
    }
    out
}

/// The model files the fuzz starts from: a hand-written graph and the reference fixtures.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = vec![(
        "exported.onnx".to_string(),
        exported(&trained(&cpu()), Dense::MatMulAdd, true).model(),
    )];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/user-models");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("onnx" | "safetensors")
        ) {
            seeds.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    seeds
}

#[test]
fn ten_thousand_mutated_files_load_or_are_refused() {
    let seeds = seeds();
    let mut rng = SplitMix(14);
    let (mut loaded, mut refused) = (0, 0);
    for i in 0..10_000 {
        let (name, bytes) = &seeds[i % seeds.len()];
        let file = mutate(bytes, &mut rng);
        match import::import(&file, None) {
            Ok(m) => {
                // What loads is a working model.
                let model =
                    Model::new(m.config, &m.network).unwrap_or_else(|e| panic!("{name} #{i}: {e}"));
                assert!(!model.table.is_empty());
                loaded += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                refused += 1;
            }
        }
    }
    println!(
        "{} seeds; 10,000 mutations: {loaded} loaded, {refused} refused",
        seeds.len()
    );
    assert!(refused > 1000, "the mutations hit the parser");
}

/// A safetensors file: the header (tensors and `__metadata__`), then the f32 data.
fn safetensors_file(
    metadata: &[(&str, &str)],
    tensors: &[(&str, Vec<usize>, Vec<f32>)],
) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let meta: serde_json::Map<String, serde_json::Value> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).into()))
        .collect();
    header.insert("__metadata__".into(), meta.into());
    let (mut data, mut offset) = (Vec::new(), 0usize);
    for (name, shape, values) in tensors {
        let end = offset + 4 * values.len();
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}),
        );
        data.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        offset = end;
    }
    let json = serde_json::Value::Object(header).to_string();
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json.as_bytes());
    out.extend(data);
    out
}

#[test]
fn safetensors_files_without_a_usable_architecture_are_refused_by_name() {
    const LINEAR: &str = r#"[{"type": "Flatten"}, {"type": "Linear", "in_features": 4, "out_features": 2, "bias": true}]"#;
    let tensors = || {
        vec![
            ("1.weight", vec![2, 4], vec![0.5; 8]),
            ("1.bias", vec![2], vec![0.0; 2]),
        ]
    };
    let file = |layers: &str| {
        safetensors_file(
            &[
                ("format", "deep-inside/sequential-v1"),
                ("input_shape", "[1, 2, 2]"),
                ("layers", layers),
            ],
            &tensors(),
        )
    };
    // The valid file: PyTorch's [out, in] linear weight, transposed by burn's adapter.
    let imported = load(&file(LINEAR)).unwrap();
    assert_eq!(imported.format, Format::Safetensors);
    let x = burn::tensor::Tensor::from_data(
        burn::tensor::TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 2, 2]),
        &cpu(),
    );
    assert_eq!(values(imported.network.forward(x)), [5.0, 5.0]);
    // No metadata, another format, a layer PyTorch has but we do not, a softmax in the middle.
    assert!(message(load(&safetensors_file(&[], &tensors()))).contains("format is None"));
    let tanh = r#"[{"type": "Tanh"}]"#;
    assert!(message(load(&file(tanh))).contains("layer 0 of the metadata: Tanh is not supported"));
    let middle = r#"[{"type": "Softmax"}, {"type": "Flatten"}, {"type": "Linear", "in_features": 4, "out_features": 2, "bias": true}]"#;
    assert!(message(load(&file(middle))).contains("a softmax is only dropped at the end"));
    let missing =
        r#"[{"type": "Flatten"}, {"type": "Linear", "in_features": 4, "out_features": 2}]"#;
    assert!(message(load(&file(missing))).contains("it has no bias"));
    // Weights that do not fit the layer list.
    let wide = r#"[{"type": "Flatten"}, {"type": "Linear", "in_features": 4, "out_features": 3, "bias": true}]"#;
    assert!(message(load(&file(wide))).starts_with("model: weights"));
    let huge = r#"[{"type": "Flatten"}, {"type": "Linear", "in_features": 4, "out_features": 1000000000, "bias": true}]"#;
    assert!(message(load(&file(huge))).contains("20000000 parameters"));
}
