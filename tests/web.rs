//! In headless browsers (wasm-bindgen-test-runner: Chromium and Firefox with WebGPU enabled by
//! `webdriver.json`, WebKitGTK without WebGPU): the JS API of every shipped model on the CPU and
//! on WebGPU, against each other and against the native results; its catalogues against the
//! model; its errors. Where an engine has no WebGPU, the tests check the fallback instead.
#![cfg(all(target_arch = "wasm32", feature = "web"))]

use std::cell::RefCell;

use deep_inside::data::Shipped;
use deep_inside::web::{
    DeepInside, UserModel, heldout_digits, load_model, localise, models, presets, provide_model,
    rules, stage_marks,
};
use deep_inside::{Error, lrp};
use js_sys::{Array, Float32Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The native logits of the first five held-out digits (kept current by a native test).
const NATIVE_LOGITS: &str = include_str!("fixtures/logits.txt");

/// Held-out image `i` of `model`'s data set.
fn image(model: Shipped, i: usize) -> Vec<f32> {
    model.dataset().heldout().unwrap().image(i)
}

/// Values as JS passes them.
fn js(x: &[f32]) -> JsValue {
    Float32Array::from(x).into()
}

fn field(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

fn at(v: &JsValue, i: u32) -> JsValue {
    Reflect::get_u32(v, i).unwrap()
}

fn length(v: &JsValue) -> u32 {
    v.dyn_ref::<Array>().expect("an array").length()
}

fn number(v: &JsValue, key: &str) -> f64 {
    field(v, key)
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is a number"))
}

fn floats(v: JsValue) -> Vec<f32> {
    v.dyn_into::<Float32Array>()
        .expect("a Float32Array")
        .to_vec()
}

fn strings(v: &JsValue) -> Vec<String> {
    (0..length(v))
        .map(|i| at(v, i).as_string().unwrap())
        .collect()
}

fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

/// Whether this engine must bring up WebGPU here: Chromium (`--enable-unsafe-webgpu`, on
/// SwiftShader) and Firefox (`dom.webgpu.enabled`, on Mesa's lavapipe) do; WebKitGTK has no
/// WebGPU on this machine, so there the tests check the fallback to the CPU instead.
fn webgpu_expected() -> bool {
    let agent = field(&field(&js_sys::global(), "navigator"), "userAgent")
        .as_string()
        .unwrap_or_default();
    agent.contains("Chrome/") || agent.contains("Firefox/")
}

/// An engine without WebGPU: `auto` serves on the CPU and says why, and asking for WebGPU is a
/// `BackendError` that names it.
async fn falls_back_without_webgpu(model: Shipped) {
    let auto = open("auto", model).await;
    assert_eq!(auto.backend(), "cpu");
    assert!(auto.reason().contains("WebGPU"), "{}", auto.reason());
    let forced = DeepInside::open("webgpu", model)
        .await
        .err()
        .expect("webgpu refused");
    assert!(forced.to_string().contains("WebGPU"), "{forced}");
    assert_eq!(logits(&auto, &image(model, 0)).await.len(), 10);
}

async fn settle(p: js_sys::Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

async fn ok(p: js_sys::Promise) -> JsValue {
    settle(p)
        .await
        .unwrap_or_else(|e| panic!("rejected: {}", message(&e)))
}

fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| format!("not an Error: {e:?}"))
}

/// A rejection's `name` and `argument` (empty when it has none).
fn kind(e: &JsValue) -> (String, String) {
    assert!(e.is_instance_of::<js_sys::Error>(), "a JS Error: {e:?}");
    let argument = field(e, "argument").as_string().unwrap_or_default();
    (field(e, "name").as_string().unwrap(), argument)
}

/// Checks that `p` rejects with an `ArgumentError` naming `argument`.
async fn refused(p: js_sys::Promise, argument: &str) {
    let e = settle(p).await.expect_err("rejected");
    assert_eq!(
        kind(&e),
        ("ArgumentError".into(), argument.into()),
        "{}",
        message(&e)
    );
    assert!(message(&e).contains(argument), "{}", message(&e));
}

async fn logits(api: &DeepInside, pixels: &[f32]) -> Vec<f32> {
    floats(field(&ok(api.predict(js(pixels))).await, "logits"))
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

/// The largest difference of two maps, relative to the first map's largest magnitude.
fn map_error(a: &[f32], b: &[f32]) -> f32 {
    let max = a.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    max_abs_diff(a, b) / max
}

thread_local! {
    static LOADED: RefCell<Vec<Shipped>> = const { RefCell::new(Vec::new()) };
}

/// `model` on `backend`. A model the browser build does not embed is handed over first with
/// `provideModel`, from the shipped files; the first time, `create` is checked to refuse it
/// before, and `provideModel` to refuse a corrupt file, naming it.
async fn open(backend: &str, model: Shipped) -> DeepInside {
    if model != Shipped::Mnist && !LOADED.with(|l| l.borrow().contains(&model)) {
        let early = DeepInside::open("cpu", model).await.err().expect("refused");
        assert!(early.to_string().contains("provideModel"), "{early}");
        let bytes = |b: &[u8]| JsValue::from(js_sys::Uint8Array::from(b));
        let (config, weights): (&[u8], &[u8]) = match model {
            Shipped::MnistDeep => (
                include_bytes!("../assets/mnist-deep/config.json"),
                include_bytes!("../assets/mnist-deep/weights.bpk"),
            ),
            _ => (
                include_bytes!("../assets/fashion/config.json"),
                include_bytes!("../assets/fashion/weights.bpk"),
            ),
        };
        let mut files = vec![("config", bytes(config)), ("weights", bytes(weights))];
        if model == Shipped::Fashion {
            files.push((
                "heldout",
                bytes(include_bytes!("../assets/fashion/heldout.bin")),
            ));
            files.push(("mean", bytes(include_bytes!("../assets/fashion/mean.bin"))));
        }
        // A corrupt file is refused by its key, and nothing is kept.
        let corrupt = |key: &str| {
            let mut bad = files.clone();
            for (k, v) in bad.iter_mut() {
                if *k == key {
                    *v = bytes(&[1, 2, 3]);
                }
            }
            let e: JsValue = provide_model(model.name().into(), object(&bad))
                .expect_err("a corrupt file is refused")
                .into();
            assert_eq!(kind(&e), ("ArgumentError".into(), format!("files.{key}")));
        };
        for (key, _) in &files {
            corrupt(key);
        }
        provide_model(model.name().into(), object(&files)).unwrap();
        LOADED.with(|l| l.borrow_mut().push(model));
    }
    DeepInside::open(backend, model).await.unwrap()
}

#[wasm_bindgen_test]
async fn cpu_predict_equals_the_native_result() {
    let api = open("cpu", Shipped::Mnist).await;
    assert_eq!(api.backend(), "cpu");
    let native: Vec<f32> = NATIVE_LOGITS
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    for i in 0..5 {
        let got = logits(&api, &image(Shipped::Mnist, i)).await;
        let diff = max_abs_diff(&got, &native[i * 10..(i + 1) * 10]);
        assert!(diff <= 1e-5, "digit {i}: {diff}");
    }
}

/// Calls `performance[method](name)`, or `performance[method]()` for no name.
fn performance(method: &str, name: Option<&str>) -> JsValue {
    let performance = field(&js_sys::global(), "performance");
    let f: js_sys::Function = field(&performance, method).unchecked_into();
    match name {
        Some(name) => f.call1(&performance, &name.into()),
        None => f.call0(&performance),
    }
    .unwrap()
}

#[wasm_bindgen_test]
async fn warm_up_and_stage_marks_change_no_result_and_the_marks_follow_the_stages() {
    let api = open("cpu", Shipped::Mnist).await;
    let x = image(Shipped::Mnist, 0);
    let before = logits(&api, &x).await;
    assert!(ok(api.warm_up(2.into())).await.is_undefined());
    assert!(ok(api.warm_up(JsValue::UNDEFINED)).await.is_undefined());
    for bad in [0.0, 1001.0, 2.5, f64::NAN] {
        refused(api.warm_up(bad.into()), "rounds").await;
    }
    let e = stage_marks(JsValue::from(1))
        .map_err(JsValue::from)
        .unwrap_err();
    assert_eq!(kind(&e), ("ArgumentError".into(), "on".into()));

    performance("clearMarks", None);
    stage_marks(JsValue::TRUE).unwrap();
    let after = logits(&api, &x).await;
    stage_marks(JsValue::FALSE).unwrap();
    assert_eq!(before, after, "bit for bit");
    // Each stage's mark, once, in the order of the stages.
    let stages = [
        "di:converted",
        "di:uploaded",
        "di:computed",
        "di:read",
        "di:result",
    ];
    let times: Vec<f64> = stages
        .iter()
        .map(|name| {
            let entries = performance("getEntriesByName", Some(name));
            assert_eq!(length(&entries), 1, "{name}");
            number(&at(&entries, 0), "startTime")
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // Off: no more marks.
    performance("clearMarks", None);
    logits(&api, &x).await;
    assert_eq!(
        length(&performance("getEntriesByName", Some("di:result"))),
        0
    );
}

#[wasm_bindgen_test]
async fn auto_refuses_a_software_adapter_and_falls_back_without_webgpu() {
    // Here WebGPU is SwiftShader or lavapipe, software adapters: auto keeps the CPU and says
    // why. An engine without WebGPU keeps it too.
    let api = open("auto", Shipped::Mnist).await;
    assert_eq!(api.backend(), "cpu");
    let why = if webgpu_expected() {
        "software"
    } else {
        "WebGPU"
    };
    assert!(api.reason().contains(why), "{}", api.reason());

    // A browser without WebGPU: shadow navigator.gpu with undefined.
    let navigator: js_sys::Object = field(&js_sys::global(), "navigator").unchecked_into();
    let descriptor = object(&[
        ("value", JsValue::UNDEFINED),
        ("configurable", JsValue::TRUE),
    ]);
    Reflect::define_property(&navigator, &"gpu".into(), descriptor.unchecked_ref()).unwrap();
    let auto = DeepInside::open("auto", Shipped::Mnist).await;
    let forced = settle(DeepInside::create("webgpu".into(), JsValue::UNDEFINED)).await;
    Reflect::delete_property(&navigator, &"gpu".into()).unwrap();

    let auto = auto.unwrap();
    assert_eq!(auto.backend(), "cpu");
    assert!(auto.reason().contains("no WebGPU"), "{}", auto.reason());
    assert_eq!(logits(&auto, &image(Shipped::Mnist, 0)).await.len(), 10);
    let forced = forced.expect_err("webgpu refused");
    assert_eq!(kind(&forced).0, "BackendError");
    assert!(
        message(&forced).contains("no WebGPU"),
        "{}",
        message(&forced)
    );
}

#[wasm_bindgen_test]
fn errors_become_js_errors_named_by_kind() {
    let cases = [
        (Error::argument("options.k", "too big"), "ArgumentError"),
        (Error::layer(3, "pool1", "too small"), "ArchitectureError"),
        (Error::architecture("no layers"), "ArchitectureError"),
        (Error::file("weights", "truncated"), "FileError"),
        (Error::backend("device lost"), "BackendError"),
    ];
    for (error, name) in cases {
        let text = error.to_string();
        let is_argument = matches!(error, Error::Argument { .. });
        let e = JsValue::from(error);
        let (got, argument) = kind(&e);
        assert_eq!(got, name);
        assert_eq!(message(&e), text, "the message is the Display text");
        assert_eq!(argument, if is_argument { "options.k" } else { "" });
    }
}

#[wasm_bindgen_test]
async fn invalid_input_gives_named_errors_and_the_next_call_works() {
    let api = open("cpu", Shipped::Mnist).await;
    let good = image(Shipped::Mnist, 1);
    let before = logits(&api, &good).await;
    let x = || js(&good);

    let short = settle(api.predict(js(&good[..100]))).await.unwrap_err();
    assert!(message(&short).contains("784"), "{}", message(&short));
    refused(api.predict(js(&good[..100])), "pixels").await;
    let mut nan = good.clone();
    nan[5] = f32::NAN;
    let e = settle(api.predict(js(&nan))).await.unwrap_err();
    assert!(message(&e).contains("index 5"), "{}", message(&e));
    refused(api.predict(js(&[])), "pixels").await;
    refused(api.predict(JsValue::from_str("not pixels")), "pixels").await;
    refused(api.saliency(x(), 10.0, "gradient".into()), "class").await;
    refused(api.saliency(x(), 2.5, "gradient".into()), "class").await;
    refused(api.saliency(x(), 3.0, "lrp".into()), "method").await;
    refused(
        api.relevance(x(), 3.0, "nope".into(), JsValue::UNDEFINED),
        "composite",
    )
    .await;
    let one = Array::of1(&"zero".into());
    refused(
        api.relevance(x(), 3.0, one.into(), JsValue::UNDEFINED),
        "composite",
    )
    .await;
    let bad_rule = Array::of4(
        &"zbox".into(),
        &"gamma(x)".into(),
        &"zero".into(),
        &"zero".into(),
    );
    refused(
        api.relevance(x(), 3.0, bad_rule.into(), JsValue::UNDEFINED),
        "composite[1]",
    )
    .await;
    // A bad parameter is named by the rule's place too.
    let bad_parameter = Array::of4(
        &"zbox".into(),
        &"zero".into(),
        &"zero".into(),
        &"epsilon(-1)".into(),
    );
    refused(
        api.relevance(x(), 3.0, bad_parameter.into(), JsValue::UNDEFINED),
        "composite[3]",
    )
    .await;
    refused(
        api.relevance(x(), 3.0, "zplus".into(), "min".into()),
        "pool",
    )
    .await;
    let options = |k: &str, v: JsValue| object(&[(k, v)]);
    refused(
        api.smooth_grad(x(), 3.0, options("samples", 0.into())),
        "options.samples",
    )
    .await;
    refused(api.smooth_grad(x(), 3.0, "x".into()), "options").await;
    refused(
        api.integrated_gradients(x(), 3.0, options("steps", 0.into())),
        "options.steps",
    )
    .await;
    refused(
        api.integrated_gradients(x(), 3.0, options("baseline", "white".into())),
        "options.baseline",
    )
    .await;
    let maps = object(&[("gradient", js(&good))]);
    refused(
        api.faithfulness(x(), 3.0, maps.clone(), options("k", 0.into())),
        "options.k",
    )
    .await;
    let short_map = object(&[("gradient", js(&good[..10]))]);
    refused(
        api.faithfulness(x(), 3.0, short_map, JsValue::UNDEFINED),
        "maps.gradient",
    )
    .await;
    refused(api.sanity(x(), f64::NAN), "class").await;
    let class_model = |o: JsValue| -> JsValue { api.class_model(3.0, o).err().unwrap().into() };
    for (key, value) in [
        ("lambda", JsValue::from(-1)),
        ("jitter", 9.into()),
        ("start", "sky".into()),
        ("index", 1000.into()),
        ("objective", "prob".into()),
        ("clip", "yes".into()),
        ("scale", 2.into()),
        ("rotate", 90.into()),
        ("fourier", (-1).into()),
        ("sigmoid", "yes".into()),
        ("adam", 1.into()),
        ("restarts", 0.into()),
        ("images", 17.into()),
        ("diversity", f64::INFINITY.into()),
    ] {
        // `index` picks a held-out image: it is read with start "dataset" (`key` comes last).
        let e = class_model(object(&[("start", "dataset".into()), (key, value)]));
        assert_eq!(kind(&e), ("ArgumentError".into(), format!("options.{key}")));
    }
    // Units: the layer, the unit and where in the channel are named when wrong.
    let unit_error = |layer: &str, unit: f64, o: JsValue| -> (String, String) {
        kind(&api.unit_model(layer.into(), unit, o).err().unwrap().into())
    };
    assert_eq!(unit_error("conv9", 0.0, JsValue::UNDEFINED).1, "layer");
    assert_eq!(unit_error("conv1", 99.0, JsValue::UNDEFINED).1, "unit");
    assert_eq!(unit_error("conv1", -1.0, JsValue::UNDEFINED).1, "unit");
    assert_eq!(unit_error("conv1", 0.5, JsValue::UNDEFINED).1, "unit");
    let edge = object(&[("at", "edge".into())]);
    assert_eq!(unit_error("conv1", 0.0, edge.clone()).1, "options.at");
    let e: JsValue = api.layer_atlas("relu9".into(), edge).err().unwrap().into();
    assert_eq!(kind(&e).0, "ArgumentError");
    let e: JsValue = api.preset_rules("nope".into()).unwrap_err().into();
    assert_eq!(kind(&e).1, "preset");
    refused(
        DeepInside::create("gpu".into(), JsValue::UNDEFINED),
        "backend",
    )
    .await;
    refused(DeepInside::create("cpu".into(), "digits".into()), "model").await;
    let e: JsValue = localise(x(), 1.5, None, None).unwrap_err().into();
    assert_eq!(kind(&e), ("ArgumentError".into(), "quantile".into()));
    let e: JsValue = localise(x(), 0.9, Some(27.0), None).unwrap_err().into();
    assert_eq!(kind(&e).1, "map");
    let e: JsValue = provide_model("mnist".into(), object(&[]))
        .unwrap_err()
        .into();
    assert_eq!(kind(&e).1, "model");

    assert_eq!(
        logits(&api, &good).await,
        before,
        "the instance still works, same result"
    );
}

#[wasm_bindgen_test]
async fn catalogues_are_consistent_with_each_model() {
    let listed = models();
    assert_eq!(length(&listed), 3);
    let names: Vec<String> = (0..3)
        .map(|i| field(&at(&listed, i), "name").as_string().unwrap())
        .collect();
    assert_eq!(names, ["mnist", "mnist-deep", "fashion"]);
    let first = at(&listed, 0);
    assert!(field(&first, "embedded").is_truthy(), "mnist is embedded");
    assert_eq!(
        js_sys::Object::keys(field(&first, "files").unchecked_ref::<js_sys::Object>()).length(),
        0
    );
    let keys = |i| {
        strings(
            &js_sys::Object::keys(
                field(&at(&listed, i), "files").unchecked_ref::<js_sys::Object>(),
            )
            .into(),
        )
    };
    assert_eq!(keys(1), ["config", "weights"]);
    assert_eq!(keys(2), ["config", "weights", "heldout", "mean"]);
    let catalogue_names = |v: JsValue| -> Vec<String> {
        (0..length(&v))
            .map(|i| field(&at(&v, i), "name").as_string().unwrap())
            .collect()
    };
    assert_eq!(catalogue_names(rules()), lrp::RULES.map(|r| r.0));
    assert_eq!(catalogue_names(presets()), lrp::PRESETS.map(|p| p.0));

    for model in Shipped::ALL {
        let api = open("cpu", model).await;
        assert_eq!(api.model(), model.name());
        let layers = api.layers();
        let n = length(&layers);
        let weighted: Vec<JsValue> = (0..n)
            .map(|i| at(&layers, i))
            .filter(|l| field(l, "weighted").is_truthy())
            .collect();
        let others = (0..n)
            .filter(|&i| !field(&at(&layers, i), "weighted").is_truthy())
            .count();
        assert_eq!(n as usize, weighted.len() + others);
        assert!(
            others > 0 && weighted.len() >= 2,
            "{}: {n} layers",
            model.name()
        );
        // Shapes chain from the input to one score per class.
        assert_eq!(strings_of_numbers(&api.input()), [1, 28, 28]);
        assert_eq!(
            strings_of_numbers(&field(&at(&layers, 0), "input")),
            [1, 28, 28]
        );
        for i in 1..n {
            assert_eq!(
                strings_of_numbers(&field(&at(&layers, i), "input")),
                strings_of_numbers(&field(&at(&layers, i - 1), "output")),
            );
        }
        assert_eq!(
            strings_of_numbers(&field(&at(&layers, n - 1), "output")),
            [10, 1, 1]
        );
        assert_eq!(api.class_names().len(), 10);
        // One rule per weighted layer; the others have none.
        let recommended = api.preset_rules("recommended".into()).unwrap();
        let rules: Vec<String> = weighted
            .iter()
            .map(|l| field(l, "rule").as_string().unwrap())
            .collect();
        assert_eq!(rules, recommended);
        assert!(rules[0].starts_with("zbox"), "{rules:?}");
        for i in 0..n {
            let l = at(&layers, i);
            assert_eq!(
                field(&l, "rule").is_null(),
                !field(&l, "weighted").is_truthy()
            );
        }
        for (preset, _) in lrp::PRESETS {
            assert_eq!(
                api.preset_rules(preset.into()).unwrap().len(),
                weighted.len()
            );
        }
        // The sanity check: "trained", then each weighted layer from the top.
        let stages = api.sanity_stages();
        assert_eq!(stages.len(), weighted.len() + 1);
        assert_eq!(stages[0], "trained");
        let names: Vec<String> = weighted
            .iter()
            .map(|l| field(l, "name").as_string().unwrap())
            .collect();
        assert_eq!(stages[1..].iter().rev().cloned().collect::<Vec<_>>(), names);
        // The results follow the catalogues.
        let x = js(&image(model, 3));
        let r = ok(api.relevance(x.clone(), 2.0, "recommended".into(), JsValue::UNDEFINED)).await;
        let r_layers = field(&r, "layers");
        let got: Vec<String> = (0..length(&r_layers))
            .map(|i| field(&at(&r_layers, i), "name").as_string().unwrap())
            .collect();
        assert_eq!(got, names);
        let pixels = at(&r_layers, 0);
        assert_eq!(
            (number(&pixels, "width"), number(&pixels, "height")),
            (28.0, 28.0)
        );
        for i in 0..length(&r_layers) {
            let l = at(&r_layers, i);
            let (c, h, w) = (
                number(&l, "channels"),
                number(&l, "height"),
                number(&l, "width"),
            );
            assert_eq!(floats(field(&l, "map")).len() as f64, h * w);
            assert_eq!(floats(field(&l, "perChannel")).len() as f64, c * h * w);
        }
        let custom: Array = recommended.iter().map(|r| JsValue::from_str(r)).collect();
        let c = ok(api.relevance(x.clone(), 2.0, custom.into(), JsValue::UNDEFINED)).await;
        let first = |r: &JsValue| floats(field(&at(&field(r, "layers"), 0), "map"));
        assert_eq!(
            first(&c),
            first(&r),
            "the recommended rules by text are the preset"
        );
        let s = ok(api.sanity(x, 2.0)).await;
        assert_eq!(strings(&field(&s, "stages")), stages);
    }
}

fn strings_of_numbers(v: &JsValue) -> Vec<usize> {
    (0..length(v))
        .map(|i| at(v, i).as_f64().unwrap() as usize)
        .collect()
}

/// WebGPU against the CPU on `model`, with the tolerances of the first version: predictions,
/// the saliency maps, LRP at every layer (presets, a custom composite, both pool rules), the
/// class model's trajectory, SmoothGrad, Integrated Gradients, the faithfulness curves and
/// every map of the sanity check. The small MNIST net keeps the first version's sizes (three
/// images, 20 class-model steps, SmoothGrad over 8 samples, Integrated Gradients over 16 steps
/// with its completeness); the others use smaller batches: SwiftShader compiles (and burn
/// autotunes) kernels for every new shape, which costs far more here than the work itself.
async fn webgpu_equals_the_cpu(model: Shipped) {
    let name = model.name();
    let first_version = model == Shipped::Mnist;
    let cpu = open("cpu", model).await;
    let gpu = match DeepInside::open("webgpu", model).await {
        Ok(gpu) => gpu,
        Err(e) if !webgpu_expected() => {
            web_sys::console::log_1(&format!("{name}: no WebGPU in this engine ({e})").into());
            return falls_back_without_webgpu(model).await;
        }
        Err(e) => panic!("WebGPU comes up (webdriver.json enables it): {e}"),
    };
    assert_eq!(gpu.backend(), "webgpu");
    let images: &[usize] = if first_version {
        &[0, 321, 654]
    } else {
        &[0, 654]
    };
    for &i in images {
        let x = image(model, i);
        let diff = max_abs_diff(&logits(&gpu, &x).await, &logits(&cpu, &x).await);
        assert!(diff <= 1e-4, "{name} image {i} logits: {diff}");
        for method in ["gradient", "deconvnet", "guided"] {
            for class in [0.0, 7.0] {
                let a = floats(ok(cpu.saliency(js(&x), class, method.into())).await);
                let b = floats(ok(gpu.saliency(js(&x), class, method.into())).await);
                let diff = map_error(&a, &b);
                assert!(
                    diff <= 1e-4,
                    "{name} image {i} {method} class {class}: {diff}"
                );
            }
        }
    }

    let x = image(model, 42);
    let weighted = gpu.preset_rules("recommended".into()).unwrap().len();
    let custom: Array = (0..weighted)
        .map(|_| JsValue::from_str("epsilon(0.1)"))
        .collect();
    let composites: [(JsValue, &str); 4] = [
        ("recommended".into(), "max"),
        ("zplus".into(), "max"),
        ("alpha2beta1".into(), "proportional"),
        (custom.into(), "max"),
    ];
    for (composite, pool) in composites {
        let a = ok(cpu.relevance(js(&x), 4.0, composite.clone(), pool.into())).await;
        let b = ok(gpu.relevance(js(&x), 4.0, composite.clone(), pool.into())).await;
        let (la, lb) = (field(&a, "layers"), field(&b, "layers"));
        assert_eq!(
            length(&la) as usize,
            weighted,
            "one entry per weighted layer"
        );
        assert_eq!(length(&lb) as usize, weighted);
        for i in 0..length(&la) {
            let (ma, mb) = (at(&la, i), at(&lb, i));
            for key in ["map", "perChannel"] {
                let diff = map_error(&floats(field(&ma, key)), &floats(field(&mb, key)));
                assert!(
                    diff <= 1e-4,
                    "{name} {composite:?} {pool} layer {i} {key}: {diff}"
                );
            }
            let (ta, tb) = (number(&ma, "total"), number(&mb, "total"));
            assert!(
                (ta - tb).abs() <= 1e-3 * ta.abs().max(1.0),
                "{name} layer {i} total: {ta} vs {tb}"
            );
        }
    }

    // The class model's trajectory, from the same seeded noise.
    let options = object(&[("seed", 3.into()), ("preset", "paper".into())]);
    let (a, b) = (
        cpu.class_model(6.0, options.clone()).unwrap(),
        gpu.class_model(6.0, options).unwrap(),
    );
    for step in 0..if first_version { 4 } else { 2 } {
        let sa = ok(a.step(5.0)).await;
        let sb = ok(b.step(5.0)).await;
        let diff = map_error(&floats(field(&sa, "image")), &floats(field(&sb, "image")));
        assert!(
            diff <= 1e-3,
            "{name}: after {} steps the images differ by {diff}",
            5 * (step + 1)
        );
        let (pa, pb) = (number(&sa, "probability"), number(&sb, "probability"));
        assert!((pa - pb).abs() <= 1e-3, "{name} p(c): {pa} vs {pb}");
    }

    // The page's default preset, "readable" (jitter, total variation, clip): the same on both
    // backends, and inside the pixel box.
    let options = object(&[("seed", 3.into()), ("preset", "readable".into())]);
    let (a, b) = (
        cpu.class_model(6.0, options.clone()).unwrap(),
        gpu.class_model(6.0, options).unwrap(),
    );
    let (sa, sb) = (ok(a.step(10.0)).await, ok(b.step(10.0)).await);
    let (ia, ib) = (floats(field(&sa, "image")), floats(field(&sb, "image")));
    assert!(
        map_error(&ia, &ib) <= 1e-3,
        "{name} readable: {}",
        map_error(&ia, &ib)
    );
    assert!(
        ia.iter().all(|v| (0.0..=1.0).contains(v)),
        "{name}: outside the box"
    );

    // Every new switch at once, on a layer atlas and on a unit with a diverse batch: the same
    // images on both backends.
    let all = |extra: &[(&str, JsValue)]| {
        let mut fields: Vec<(&str, JsValue)> = vec![
            ("seed", 4.into()),
            ("fourier", 1.into()),
            ("adam", true.into()),
            ("step", 0.05.into()),
            ("scale", 0.1.into()),
            ("rotate", 10.into()),
            ("sigmoid", true.into()),
        ];
        fields.extend(extra.iter().cloned());
        object(&fields)
    };
    let layer = if name == "mnist" { "relu1" } else { "conv1" };
    // A unit's centre, three images pushed apart, two candidates each.
    let diverse = || {
        all(&[
            ("images", 3.into()),
            ("diversity", 10.into()),
            ("restarts", 2.into()),
            ("at", "centre".into()),
        ])
    };
    let runs = [
        (
            cpu.layer_atlas(layer.into(), all(&[])).unwrap(),
            gpu.layer_atlas(layer.into(), all(&[])).unwrap(),
        ),
        (
            cpu.unit_model(layer.into(), 2.0, diverse()).unwrap(),
            gpu.unit_model(layer.into(), 2.0, diverse()).unwrap(),
        ),
    ];
    // The atlas (up to 32 images on software WebGPU) for 10 steps; the unit past its restarts'
    // choice at step 20.
    for (i, (a, b)) in runs.iter().enumerate() {
        let n = if i == 0 { 10.0 } else { 25.0 };
        let (sa, sb) = (ok(a.step(n)).await, ok(b.step(n)).await);
        let images = |s: &JsValue| -> Vec<f32> {
            js_sys::Array::from(&field(s, "images"))
                .iter()
                .flat_map(floats)
                .collect()
        };
        let (ia, ib) = (images(&sa), images(&sb));
        assert!(ia.len() > 784, "{name} run {i}: one image only");
        let diff = map_error(&ia, &ib);
        assert!(diff <= 1e-3, "{name} run {i}: {diff}");
        assert!(
            ia.iter().all(|v| (0.0..=1.0).contains(v)),
            "{name} run {i}: outside the box"
        );
    }

    let x = image(model, 517);
    let (samples, steps) = if first_version { (8, 16) } else { (4, 2) };
    let smooth = object(&[("samples", samples.into()), ("sigma", 0.1.into())]);
    let a = floats(ok(cpu.smooth_grad(js(&x), 5.0, smooth.clone())).await);
    let b = floats(ok(gpu.smooth_grad(js(&x), 5.0, smooth)).await);
    assert!(
        map_error(&a, &b) <= 1e-4,
        "{name} SmoothGrad: {}",
        map_error(&a, &b)
    );
    let ig = object(&[("steps", steps.into()), ("baseline", "mean".into())]);
    let a = ok(cpu.integrated_gradients(js(&x), 5.0, ig.clone())).await;
    let b = ok(gpu.integrated_gradients(js(&x), 5.0, ig)).await;
    let (ma, mb) = (floats(field(&a, "map")), floats(field(&b, "map")));
    assert!(
        map_error(&ma, &mb) <= 1e-4,
        "{name} IG: {}",
        map_error(&ma, &mb)
    );
    let (ea, eb) = (number(&a, "error"), number(&b, "error"));
    assert!(
        (ea - eb).abs() <= 1e-2,
        "{name} IG completeness: {ea} vs {eb}"
    );
    if first_version {
        assert!(ea < 0.05, "{name} IG completeness error at 16 steps: {ea}");
    }

    let maps = object(&[("gradient", js(&ma))]);
    let k = object(&[("k", 196.into())]);
    let fa = ok(cpu.faithfulness(js(&x), 5.0, maps.clone(), k.clone())).await;
    let fb = ok(gpu.faithfulness(js(&x), 5.0, maps, k)).await;
    let (ca, cb) = (field(&fa, "curves"), field(&fb, "curves"));
    assert_eq!(strings(&array_field(&ca, "name")), ["gradient", "random"]);
    for curve in 0..2 {
        for key in ["deletion", "insertion"] {
            let diff = max_abs_diff(
                &floats(field(&at(&ca, curve), key)),
                &floats(field(&at(&cb, curve), key)),
            );
            assert!(diff <= 1e-4, "{name} curve {curve} {key}: {diff}");
        }
    }

    let (sa, sb) = (
        ok(cpu.sanity(js(&x), 5.0)).await,
        ok(gpu.sanity(js(&x), 5.0)).await,
    );
    let stages = cpu.sanity_stages();
    assert_eq!(strings(&field(&sb, "stages")), stages);
    let (methods_a, methods_b) = (field(&sa, "methods"), field(&sb, "methods"));
    assert_eq!(length(&methods_b), 5);
    for m in 0..length(&methods_a) {
        let (a, b) = (at(&methods_a, m), at(&methods_b, m));
        assert_eq!(length(&field(&b, "maps")) as usize, stages.len());
        for stage in 0..stages.len() as u32 {
            let (pa, pb) = (
                floats(at(&field(&a, "maps"), stage)),
                floats(at(&field(&b, "maps"), stage)),
            );
            assert!(
                map_error(&pa, &pb) <= 1e-3,
                "{name} sanity method {m} stage {stage}"
            );
        }
        let rho = at(&field(&b, "spearman"), 0).as_f64().unwrap();
        assert!(
            (rho - 1.0).abs() < 1e-6,
            "the trained map correlates with itself"
        );
    }
    // WebGPU reports its device allocator, which the memory benchmark watches for leaks.
    let usage = gpu.memory_usage();
    let reserved = number(&usage, "bytesReserved");
    assert!(reserved > 0.0 && reserved >= number(&usage, "bytesInUse"));
    assert!(cpu.memory_usage().is_null());
}

/// `key` of every element of an array.
fn array_field(v: &JsValue, key: &str) -> JsValue {
    (0..length(v))
        .map(|i| field(&at(v, i), key))
        .collect::<Array>()
        .into()
}

#[wasm_bindgen_test]
async fn webgpu_equals_the_cpu_on_mnist() {
    webgpu_equals_the_cpu(Shipped::Mnist).await;
}

#[wasm_bindgen_test]
async fn webgpu_equals_the_cpu_on_mnist_deep() {
    webgpu_equals_the_cpu(Shipped::MnistDeep).await;
}

#[wasm_bindgen_test]
async fn webgpu_equals_the_cpu_on_fashion() {
    webgpu_equals_the_cpu(Shipped::Fashion).await;
}

/// Most of 20 held-out images spread over the classes are classified as labelled (the shipped
/// models' test-set accuracies are 90 % and more), through `heldoutDigits` and `predict`.
async fn classifies_its_heldout_images(model: Shipped) {
    let api = open("cpu", model).await;
    let held = heldout_digits(model.name().into()).unwrap();
    let bytes = |key| {
        field(&held, key)
            .unchecked_into::<js_sys::Uint8Array>()
            .to_vec()
    };
    let (labels, pixels) = (bytes("labels"), bytes("pixels"));
    assert_eq!(labels.len(), 1000);
    assert_eq!(pixels.len(), 1000 * 784);
    let mut hits = 0;
    for i in (0..1000).step_by(50) {
        let x: Vec<f32> = pixels[i * 784..(i + 1) * 784]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        let p = ok(api.predict(js(&x))).await;
        hits += usize::from(number(&p, "predicted") as u8 == labels[i]);
    }
    assert!(hits >= 16, "{}: {hits} of 20", model.name());
}

#[wasm_bindgen_test]
async fn every_model_classifies_its_heldout_images() {
    for model in Shipped::ALL {
        classifies_its_heldout_images(model).await;
    }
}

/// A reference fixture of `scripts/reference/make_fixtures.py` (see tests/reference.rs).
#[derive(serde::Deserialize)]
struct Fixture {
    inputs: Vec<Vec<f32>>,
    classes: Vec<usize>,
    logits: Vec<Vec<f32>>,
    gradient: Vec<Vec<f32>>,
    guided: Vec<Vec<f32>>,
    lrp_epsilon_gamma_box: Vec<Vec<f32>>,
    lrp_epsilon_plus: Vec<Vec<f32>>,
}

/// The three reference models: name, ONNX and safetensors bytes, expected values.
fn user_models() -> [(&'static str, &'static [u8], &'static [u8], &'static str); 3] {
    macro_rules! model {
        ($name:literal) => {
            (
                $name,
                include_bytes!(concat!("fixtures/user-models/", $name, ".onnx")) as &[u8],
                include_bytes!(concat!("fixtures/user-models/", $name, ".safetensors")) as &[u8],
                include_str!(concat!("fixtures/user-models/", $name, ".json")),
            )
        };
    }
    [
        model!("bn_avgpool"),
        model!("rgb_stride"),
        model!("normalized"),
    ]
}

/// Zennit's EpsilonGammaBox or EpsilonPlus as a rule list for `layers` (`UserModel.layers`).
fn zennit_rules(layers: &JsValue, composite: &str) -> Array {
    let mut first_conv = true;
    (0..length(layers))
        .map(|i| at(layers, i))
        .filter(|l| field(l, "weighted").as_bool() == Some(true))
        .map(|l| {
            let conv = field(&l, "kind").as_string().as_deref() == Some("conv");
            JsValue::from_str(match (composite, conv) {
                ("epsilon_gamma_box", true) if std::mem::take(&mut first_conv) => "zbox",
                ("epsilon_gamma_box", true) => "gamma(0.25)",
                ("epsilon_plus", true) => "zplus",
                _ => "epsilon(0.000001)",
            })
        })
        .collect()
}

/// A user's file through `loadModel` and `create`, on the CPU and on WebGPU (where the engine
/// has it), gives PyTorch's logits and gradient and Zennit's guided backprop and LRP.
#[wasm_bindgen_test]
async fn users_models_match_pytorch_and_zennit_on_every_backend() {
    for (name, onnx, safetensors, json) in user_models() {
        let f: Fixture = serde_json::from_str(json).unwrap();
        for (format, bytes) in [("onnx", onnx), ("safetensors", safetensors)] {
            let user = load(bytes, &[])
                .await
                .unwrap_or_else(|e| panic!("{name}.{format}: {}", message(&e)));
            assert_eq!(user.format().unwrap(), format);
            let layers = user.layers().unwrap();
            let mut backends = vec!["cpu"];
            if webgpu_expected() {
                backends.push("webgpu");
            }
            for backend in backends {
                let api = DeepInside::open_user(backend, &user).await.unwrap();
                assert_eq!(api.model(), "user");
                assert_eq!(api.backend(), backend);
                // Software WebGPU sums in another order: a looser bound there.
                let bound = if backend == "cpu" { 1.0 } else { 10.0 };
                for i in 0..2 {
                    let (x, class) = (js(&f.inputs[i]), f.classes[i] as f64);
                    let label = format!("{name}.{format} on {backend}, input {i}");
                    let e = map_error(&logits(&api, &f.inputs[i]).await, &f.logits[i]);
                    assert!(e < 1e-4 * bound, "{label}: logits {e}");
                    for (method, expected) in
                        [("gradient", &f.gradient[i]), ("guided", &f.guided[i])]
                    {
                        let map =
                            floats(ok(api.signed_saliency(x.clone(), class, method.into())).await);
                        let e = map_error(&map, expected);
                        assert!(e < 1e-4 * bound, "{label}: {method} {e}");
                    }
                    for (composite, expected) in [
                        ("epsilon_gamma_box", &f.lrp_epsilon_gamma_box[i]),
                        ("epsilon_plus", &f.lrp_epsilon_plus[i]),
                    ] {
                        let rules = zennit_rules(&layers, composite);
                        let r =
                            ok(api.relevance(x.clone(), class, rules.into(), "max".into())).await;
                        let pixels = floats(field(&at(&field(&r, "layers"), 0), "perChannel"));
                        let e = map_error(&pixels, expected);
                        assert!(e < 1e-3 * bound, "{label}: {composite} {e}");
                    }
                }
                // Units of a user's model (colour ones included): its first conv layer's atlas
                // (the plain step, clipped) raises every channel's mean, inside the pixel box.
                let conv = (0..length(&layers))
                    .map(|i| at(&layers, i))
                    .find(|l| field(l, "kind").as_string().as_deref() == Some("conv"))
                    .map(|l| field(&l, "name"))
                    .unwrap();
                let clipped = object(&[("preset", "paper".into()), ("clip", true.into())]);
                let atlas = api.layer_atlas(conv, clipped).unwrap();
                let before = floats(field(&ok(atlas.step(0.0)).await, "activations"));
                let after = ok(atlas.step(20.0)).await;
                let images = js_sys::Array::from(&field(&after, "images"));
                let after = floats(field(&after, "activations"));
                assert_eq!(images.length() as usize, after.len());
                for (c, (b, a)) in before.iter().zip(&after).enumerate() {
                    assert!(
                        a > b,
                        "{name}.{format} on {backend}: channel {c}: {b} → {a}"
                    );
                }
                for image in images.iter() {
                    assert!(floats(image).iter().all(|v| (0.0..=1.0).contains(v)));
                }
            }
        }
    }
}

/// The reader module as the test runner serves it: from the repository, where the test
/// command builds pkg/reader before the browser tests (the page finds it beside pkg/cpu).
const READER: &str = "/pkg/reader/deep_inside.js";

/// `loadModel` of `bytes` with `options` and the reader at [`READER`].
async fn load(bytes: &[u8], options: &[(&str, JsValue)]) -> Result<UserModel, JsValue> {
    let mut all = vec![("reader", JsValue::from(READER))];
    all.extend_from_slice(options);
    load_model(js_sys::Uint8Array::from(bytes).into(), object(&all)).await
}

/// The handle as JS holds it.
fn user_js(user: &UserModel) -> JsValue {
    object(&[("id", JsValue::from(user.id()))])
}

/// A refused file is a `FileError` naming the problem, and the next valid file loads; a freed
/// handle is refused by `create`.
#[wasm_bindgen_test]
async fn bad_model_files_are_refused_and_the_next_one_loads() {
    let (_, onnx, _, _) = user_models()[0];
    let cases: [(&[u8], &str); 5] = [
        (b"{\"a\": 1}", "neither an ONNX nor a safetensors file"),
        (&onnx[..100], "not a valid ONNX file"),
        (b"PK\x03\x04zip", "PyTorch pickle"),
        (b"", "empty"),
        (&[0xff; 64], "neither an ONNX nor a safetensors file"),
    ];
    for (bytes, why) in cases {
        let e = load(bytes, &[]).await.err().expect("refused");
        assert_eq!(kind(&e).0, "FileError", "{}", message(&e));
        assert!(message(&e).contains(why), "{}", message(&e));
    }
    // The limits a page checks before reading a file.
    let limits = deep_inside::web::limits();
    assert_eq!(number(&limits, "fileBytes"), 1e8);
    assert_eq!(number(&limits, "side"), 64.0);
    assert_eq!(number(&limits, "classes"), 1000.0);
    let e = load_model(JsValue::from("x"), JsValue::UNDEFINED)
        .await
        .err()
        .unwrap();
    assert_eq!(kind(&e), ("ArgumentError".into(), "bytes".into()));
    let e = load(onnx, &[("format", "tflite".into())])
        .await
        .err()
        .unwrap();
    assert_eq!(kind(&e), ("ArgumentError".into(), "options.format".into()));
    // A reader module that cannot be fetched is an error that names it; the next load works.
    let missing = object(&[("reader", "/pkg/missing/deep_inside.js".into())]);
    let e = load_model(js_sys::Uint8Array::from(onnx).into(), missing)
        .await
        .err()
        .unwrap();
    assert!(
        message(&e).contains("/pkg/missing/deep_inside.js could not be loaded"),
        "{}",
        message(&e)
    );
    // The reader as a function that imports it (what a bundler can follow), and a reader
    // option of the wrong type, named.
    let import = js_sys::Function::new_no_args(&format!("return import('{READER}')"));
    let by_function = object(&[("reader", import.into())]);
    assert!(
        load_model(js_sys::Uint8Array::from(onnx).into(), by_function)
            .await
            .is_ok()
    );
    let e = load_model(
        js_sys::Uint8Array::from(onnx).into(),
        object(&[("reader", JsValue::from(3.0))]),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(kind(&e), ("ArgumentError".into(), "options.reader".into()));
    let user = load(onnx, &[]).await.unwrap();
    let input = user.input().unwrap();
    let input: Vec<f64> = (0..3).map(|i| at(&input, i).as_f64().unwrap()).collect();
    assert_eq!(input, [1.0, 28.0, 28.0]);
    let handle = user_js(&user);
    assert!(
        ok(DeepInside::create("cpu".into(), handle.clone()))
            .await
            .is_object()
    );
    drop(user);
    let e = settle(DeepInside::create("cpu".into(), handle))
        .await
        .expect_err("freed");
    assert!(message(&e).contains("freed"), "{}", message(&e));
}

/// `evaluate` gives what the core's evaluator gives natively-in-wasm on the CPU, on every
/// backend (on WebGPU it runs on a CPU copy), with progress, stopping, and named refusals;
/// `summarise` and `evaluationCatalogue` agree with it.
#[wasm_bindgen_test]
async fn evaluate_equals_the_core_and_reports_progress() {
    use deep_inside::evaluation::{Evaluator, Method, Metric, Settings};
    use deep_inside::web::{evaluation_catalogue, summarise};
    let model = Shipped::Mnist;
    let cpu_model = model.load(&deep_inside::backend::cpu()).unwrap();
    let picks = [0usize, 120, 480];
    let pixels: Vec<f32> = picks.iter().flat_map(|&i| image(model, i)).collect();
    let held = model.dataset().heldout().unwrap();
    let classes: Vec<usize> = picks.iter().map(|&i| usize::from(held.labels[i])).collect();
    let methods = [Method::Gradient, Method::Lrp, Method::Random];
    let metrics = [
        Metric::Sparseness,
        Metric::PixelFlipping,
        Metric::PointingGame,
        Metric::Completeness,
    ];
    let rules = lrp::Rules::preset("recommended", &cpu_model).unwrap();
    let evaluator =
        Evaluator::new(&cpu_model, rules, &methods, &metrics, Settings::default()).unwrap();
    let want = evaluator.evaluate(&pixels, &classes, 0).unwrap().values;
    let names = |items: &[&str]| -> JsValue {
        items
            .iter()
            .map(|s| JsValue::from_str(s))
            .collect::<Array>()
            .into()
    };
    let method_names = names(&["gradient", "lrp", "random"]);
    let metric_names = names(&[
        "sparseness",
        "pixelFlipping",
        "pointingGame",
        "completeness",
    ]);
    let js_classes: JsValue = classes
        .iter()
        .map(|&c| JsValue::from(c as f64))
        .collect::<Array>()
        .into();
    let mut backends = vec!["cpu"];
    if webgpu_expected() {
        backends.push("webgpu");
    }
    for backend in backends {
        let api = open(backend, model).await;
        let calls = std::rc::Rc::new(RefCell::new(Vec::new()));
        let seen = calls.clone();
        let progress =
            wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
                seen.borrow_mut().push(number(&p, "done"));
            });
        let options = object(&[
            ("methods", method_names.clone()),
            ("metrics", metric_names.clone()),
            ("chunk", JsValue::from(2.0)),
            ("onProgress", progress.as_ref().clone()),
        ]);
        let result = ok(api.evaluate(js(&pixels), js_classes.clone(), options)).await;
        let got = field(&result, "values")
            .unchecked_into::<js_sys::Float64Array>()
            .to_vec();
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * w.abs().max(1e-2),
                "{backend}: value {i}: {g} vs {w}"
            );
        }
        assert_eq!(
            *calls.borrow(),
            vec![2.0, 3.0],
            "{backend}: progress after each chunk"
        );
        // Labels as a typed array, as `heldoutDigits` gives them.
        let labels: Vec<u32> = classes.iter().map(|&c| c as u32).collect();
        let typed = js_sys::Uint32Array::from(labels.as_slice());
        let options = object(&[
            ("methods", method_names.clone()),
            ("metrics", metric_names.clone()),
        ]);
        let again = ok(api.evaluate(js(&pixels), typed.into(), options)).await;
        let again = field(&again, "values")
            .unchecked_into::<js_sys::Float64Array>()
            .to_vec();
        assert_eq!(again.len(), got.len(), "{backend}: Uint32Array classes");
        // A progress callback that answers false stops after that chunk.
        let stop = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue) -> JsValue>::new(|_| {
            JsValue::FALSE
        });
        let options = object(&[
            ("methods", method_names.clone()),
            ("metrics", metric_names.clone()),
            ("chunk", JsValue::from(1.0)),
            ("onProgress", stop.as_ref().clone()),
        ]);
        let part = ok(api.evaluate(js(&pixels), js_classes.clone(), options)).await;
        let part = field(&part, "values")
            .unchecked_into::<js_sys::Float64Array>()
            .to_vec();
        assert_eq!(part, got[..12], "{backend}: stopped after the first image");
        // Refusals name the argument, and the next call works.
        let bad_metric = object(&[("metrics", names(&["accuracy"]))]);
        refused(
            api.evaluate(js(&pixels), js_classes.clone(), bad_metric),
            "options.metrics",
        )
        .await;
        refused(
            api.evaluate(js(&pixels), js(&[1.0, 2.0]), JsValue::UNDEFINED),
            "pixels",
        )
        .await;
        refused(
            api.evaluate(js(&pixels), js(&[1.5, 2.0, 3.0]), JsValue::UNDEFINED),
            "classes",
        )
        .await;
        let not_fn = object(&[("onProgress", JsValue::from(3.0))]);
        refused(
            api.evaluate(js(&pixels), js_classes.clone(), not_fn),
            "options.onProgress",
        )
        .await;
        // The summaries: one row per method, a rank per metric.
        let summary = summarise(
            js_sys::Float64Array::from(got.as_slice()).into(),
            method_names.clone(),
            metric_names.clone(),
            Some(0.0),
        )
        .unwrap();
        assert_eq!(number(&summary, "images"), 3.0);
        let rows = field(&summary, "methods");
        assert_eq!(length(&rows), 3);
        let sparseness = field(&field(&at(&rows, 0), "metrics"), "sparseness");
        let mean = (want[0] + want[12] + want[24]) / 3.0;
        assert!(
            (number(&sparseness, "mean") - mean).abs() < 1e-4,
            "{backend}"
        );
    }
    let short = summarise(
        js_sys::Float64Array::from(&[1.0, 2.0][..]).into(),
        method_names,
        metric_names,
        None,
    );
    let e: JsValue = short.expect_err("refused").into();
    assert_eq!(kind(&e), ("ArgumentError".into(), "values".into()));
    let catalogue = evaluation_catalogue();
    assert_eq!(length(&field(&catalogue, "methods")), 8);
    assert_eq!(length(&field(&catalogue, "metrics")), 17);
}
