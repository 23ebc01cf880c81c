//! In headless Chromium (`wasm-pack test --headless --chrome`, WebGPU enabled by
//! `webdriver.json`): the JS API on the CPU and on WebGPU, against the native results.
#![cfg(target_arch = "wasm32")]

use deep_inside::data::{Dataset, Digits};
use deep_inside::web::{DeepInside, heldout_digits, load_model, localise};
use js_sys::{Float32Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The native logits of the first five held-out digits (kept current by a native test).
const NATIVE_LOGITS: &str = include_str!("fixtures/logits.txt");

fn digit(i: usize) -> Vec<f32> {
    Digits::mnist_heldout().unwrap().image(i)
}

/// Pixels as JS passes them.
fn js(x: &[f32]) -> JsValue {
    Float32Array::from(x).into()
}

fn field(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

fn floats(v: JsValue) -> Vec<f32> {
    v.dyn_into::<Float32Array>()
        .expect("a Float32Array")
        .to_vec()
}

async fn settle(p: js_sys::Promise) -> Result<JsValue, String> {
    JsFuture::from(p).await.map_err(|e| {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| format!("not an Error: {e:?}"))
    })
}

async fn logits(api: &DeepInside, pixels: &[f32]) -> Vec<f32> {
    floats(field(
        &settle(api.predict(js(pixels))).await.unwrap(),
        "logits",
    ))
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

#[wasm_bindgen_test]
async fn cpu_predict_equals_the_native_result() {
    let api = DeepInside::open("cpu", Dataset::Mnist).await.unwrap();
    assert_eq!(api.backend(), "cpu");
    let native: Vec<f32> = NATIVE_LOGITS
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    for i in 0..5 {
        let got = logits(&api, &digit(i)).await;
        let diff = max_abs_diff(&got, &native[i * 10..(i + 1) * 10]);
        assert!(diff <= 1e-5, "digit {i}: {diff}");
    }
}

#[wasm_bindgen_test]
async fn webgpu_predict_and_maps_equal_the_cpu() {
    let cpu = DeepInside::open("cpu", Dataset::Mnist).await.unwrap();
    let gpu = DeepInside::open("webgpu", Dataset::Mnist)
        .await
        .expect("WebGPU comes up (webdriver.json enables it)");
    assert_eq!(gpu.backend(), "webgpu");
    for i in [0, 321, 654] {
        let x = digit(i);
        let diff = max_abs_diff(&logits(&gpu, &x).await, &logits(&cpu, &x).await);
        assert!(diff <= 1e-4, "digit {i} logits: {diff}");
        for method in ["gradient", "deconvnet", "guided"] {
            for class in [0.0, 7.0] {
                let a = floats(
                    settle(cpu.saliency(js(&x), class, method.into()))
                        .await
                        .unwrap(),
                );
                let b = floats(
                    settle(gpu.saliency(js(&x), class, method.into()))
                        .await
                        .unwrap(),
                );
                let max = a.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
                let an: Vec<f32> = a.iter().map(|v| v / max).collect();
                let bn: Vec<f32> = b.iter().map(|v| v / max).collect();
                let diff = max_abs_diff(&an, &bn);
                assert!(diff <= 1e-4, "digit {i} {method} class {class}: {diff}");
            }
        }
    }
}

#[wasm_bindgen_test]
async fn auto_refuses_a_software_adapter_and_falls_back_without_webgpu() {
    // Here WebGPU is SwiftShader, a software adapter: auto keeps the CPU and says why.
    let api = DeepInside::open("auto", Dataset::Mnist).await.unwrap();
    assert_eq!(api.backend(), "cpu");
    assert!(api.reason().contains("software"), "{}", api.reason());

    // A browser without WebGPU: shadow navigator.gpu with undefined.
    let navigator = field(&js_sys::global(), "navigator");
    let descriptor = js_sys::Object::new();
    Reflect::set(&descriptor, &"value".into(), &JsValue::UNDEFINED).unwrap();
    Reflect::set(&descriptor, &"configurable".into(), &JsValue::TRUE).unwrap();
    let navigator: js_sys::Object = navigator.unchecked_into();
    Reflect::define_property(&navigator, &"gpu".into(), &descriptor).unwrap();
    let auto = DeepInside::open("auto", Dataset::Mnist).await;
    let forced = DeepInside::open("webgpu", Dataset::Mnist).await;
    Reflect::delete_property(&navigator, &"gpu".into()).unwrap();

    let auto = auto.unwrap();
    assert_eq!(auto.backend(), "cpu");
    assert!(auto.reason().contains("no WebGPU"), "{}", auto.reason());
    assert_eq!(logits(&auto, &digit(0)).await.len(), 10);
    assert!(
        forced
            .err()
            .expect("webgpu refused")
            .0
            .contains("no WebGPU")
    );
}

#[wasm_bindgen_test]
async fn invalid_input_gives_an_error_and_the_next_call_works() {
    let api = DeepInside::open("cpu", Dataset::Mnist).await.unwrap();
    let good = digit(1);
    let before = logits(&api, &good).await;

    let short = settle(api.predict(js(&good[..100]))).await.unwrap_err();
    assert!(short.contains("pixels") && short.contains("784"), "{short}");
    let mut nan = good.clone();
    nan[5] = f32::NAN;
    assert!(
        settle(api.predict(js(&nan)))
            .await
            .unwrap_err()
            .contains("index 5")
    );
    assert!(settle(api.predict(js(&[]))).await.is_err());
    let class = settle(api.saliency(js(&good), 10.0, "gradient".into()))
        .await
        .unwrap_err();
    assert!(class.contains("class"), "{class}");
    let method = settle(api.saliency(js(&good), 3.0, "lrp".into()))
        .await
        .unwrap_err();
    assert!(method.contains("method"), "{method}");
    assert!(
        settle(DeepInside::create("gpu".into(), JsValue::UNDEFINED))
            .await
            .unwrap_err()
            .contains("backend")
    );
    assert!(localise(js(&good), 1.5).is_err());
    let wrong = settle(api.predict(JsValue::from_str("not pixels")))
        .await
        .unwrap_err();
    assert!(wrong.contains("pixels"), "{wrong}");

    assert_eq!(
        logits(&api, &good).await,
        before,
        "the instance still works, same result"
    );
}

#[wasm_bindgen_test]
async fn webgpu_lrp_and_class_model_trajectory_equal_the_cpu() {
    let cpu = DeepInside::open("cpu", Dataset::Mnist).await.unwrap();
    let gpu = DeepInside::open("webgpu", Dataset::Mnist).await.unwrap();
    let x = digit(42);
    for composite in ["recommended", "zplus", "alpha2beta1"] {
        let a = settle(cpu.relevance(js(&x), 4.0, composite.into(), JsValue::UNDEFINED))
            .await
            .unwrap();
        let b = settle(gpu.relevance(js(&x), 4.0, composite.into(), JsValue::UNDEFINED))
            .await
            .unwrap();
        let (la, lb) = (field(&a, "layers"), field(&b, "layers"));
        for i in 0..4 {
            let (ma, mb) = (
                floats(field(&Reflect::get_u32(&la, i).unwrap(), "map")),
                floats(field(&Reflect::get_u32(&lb, i).unwrap(), "map")),
            );
            let max = ma.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
            let diff = max_abs_diff(&ma, &mb) / max;
            assert!(diff <= 1e-4, "{composite} layer {i}: {diff}");
        }
    }
    // The class model's trajectory over 20 steps, from the same seeded noise.
    let options = js_sys::Object::new();
    Reflect::set(&options, &"seed".into(), &JsValue::from(3)).unwrap();
    let (a, b) = (
        cpu.class_model(6.0, options.clone().into()).unwrap(),
        gpu.class_model(6.0, options.into()).unwrap(),
    );
    for step in 0..4 {
        let sa = settle(a.step(5.0)).await.unwrap();
        let sb = settle(b.step(5.0)).await.unwrap();
        let (ia, ib) = (floats(field(&sa, "image")), floats(field(&sb, "image")));
        let max = ia.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = max_abs_diff(&ia, &ib) / max;
        assert!(
            diff <= 1e-3,
            "after {} steps the images differ by {diff}",
            5 * (step + 1)
        );
        let (pa, pb) = (
            field(&sa, "probability").as_f64().unwrap(),
            field(&sb, "probability").as_f64().unwrap(),
        );
        assert!((pa - pb).abs() <= 1e-3, "p(c): {pa} vs {pb}");
    }
}

/// The largest difference of two maps, relative to the first map's largest magnitude.
fn map_error(a: &[f32], b: &[f32]) -> f32 {
    let max = a.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    max_abs_diff(a, b) / max
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

#[wasm_bindgen_test]
async fn webgpu_attributions_curves_and_sanity_equal_the_cpu() {
    let cpu = DeepInside::open("cpu", Dataset::Mnist).await.unwrap();
    let gpu = DeepInside::open("webgpu", Dataset::Mnist).await.unwrap();
    let x = digit(517);
    let smooth = options(&[("samples", 8.into()), ("sigma", 0.1.into())]);
    let (a, b) = (
        floats(
            settle(cpu.smooth_grad(js(&x), 5.0, smooth.clone()))
                .await
                .unwrap(),
        ),
        floats(settle(gpu.smooth_grad(js(&x), 5.0, smooth)).await.unwrap()),
    );
    assert!(
        map_error(&a, &b) <= 1e-4,
        "SmoothGrad: {}",
        map_error(&a, &b)
    );
    let ig = options(&[("steps", 16.into()), ("baseline", "mean".into())]);
    let (a, b) = (
        settle(cpu.integrated_gradients(js(&x), 5.0, ig.clone()))
            .await
            .unwrap(),
        settle(gpu.integrated_gradients(js(&x), 5.0, ig))
            .await
            .unwrap(),
    );
    let (ma, mb) = (floats(field(&a, "map")), floats(field(&b, "map")));
    assert!(map_error(&ma, &mb) <= 1e-4, "IG: {}", map_error(&ma, &mb));
    let error = field(&a, "error").as_f64().unwrap();
    assert!(error < 0.05, "IG completeness error at 16 steps: {error}");

    let maps = options(&[("gradient", js(&ma))]);
    let (fa, fb) = (
        settle(cpu.faithfulness(js(&x), 5.0, maps.clone(), JsValue::UNDEFINED))
            .await
            .unwrap(),
        settle(gpu.faithfulness(js(&x), 5.0, maps, JsValue::UNDEFINED))
            .await
            .unwrap(),
    );
    for curve in 0..2 {
        let (ca, cb) = (
            Reflect::get_u32(&field(&fa, "curves"), curve).unwrap(),
            Reflect::get_u32(&field(&fb, "curves"), curve).unwrap(),
        );
        for key in ["deletion", "insertion"] {
            let diff = max_abs_diff(&floats(field(&ca, key)), &floats(field(&cb, key)));
            assert!(diff <= 1e-4, "curve {curve} {key}: {diff}");
        }
    }

    let (sa, sb) = (
        settle(cpu.sanity(js(&x), 5.0)).await.unwrap(),
        settle(gpu.sanity(js(&x), 5.0)).await.unwrap(),
    );
    let (methods_a, methods_b) = (field(&sa, "methods"), field(&sb, "methods"));
    for m in 0..5 {
        let (a, b) = (
            Reflect::get_u32(&methods_a, m).unwrap(),
            Reflect::get_u32(&methods_b, m).unwrap(),
        );
        for stage in 0..5 {
            let (pa, pb) = (
                floats(Reflect::get_u32(&field(&a, "maps"), stage).unwrap()),
                floats(Reflect::get_u32(&field(&b, "maps"), stage).unwrap()),
            );
            assert!(
                map_error(&pa, &pb) <= 1e-3,
                "sanity method {m} stage {stage}"
            );
        }
    }
    // WebGPU reports its device allocator, which the memory benchmark watches for leaks.
    let usage = gpu.memory_usage();
    let reserved = field(&usage, "bytesReserved").as_f64().unwrap();
    assert!(reserved > 0.0 && reserved >= field(&usage, "bytesInUse").as_f64().unwrap());
}

#[wasm_bindgen_test]
async fn fashion_loads_from_its_files_and_then_works() {
    let early = DeepInside::open("cpu", Dataset::Fashion)
        .await
        .err()
        .unwrap();
    assert!(early.0.contains("loadModel"), "{early}");
    let bytes = |b: &[u8]| JsValue::from(js_sys::Uint8Array::from(b));
    let files = options(&[
        (
            "weights",
            bytes(include_bytes!("../assets/fashion/weights.bin")),
        ),
        (
            "heldout",
            bytes(include_bytes!("../assets/fashion/heldout.bin")),
        ),
        ("mean", bytes(&[0; 10])),
    ]);
    let bad = load_model("fashion".into(), files).unwrap_err();
    let bad = bad.dyn_ref::<js_sys::Error>().unwrap().message();
    assert!(String::from(bad).contains("files.mean"));
    let files = options(&[
        (
            "weights",
            bytes(include_bytes!("../assets/fashion/weights.bin")),
        ),
        (
            "heldout",
            bytes(include_bytes!("../assets/fashion/heldout.bin")),
        ),
        ("mean", bytes(include_bytes!("../assets/fashion/mean.bin"))),
    ]);
    load_model("fashion".into(), files).unwrap();
    let api = DeepInside::open("cpu", Dataset::Fashion).await.unwrap();
    assert_eq!(api.model(), "fashion");
    let held = heldout_digits("fashion".into()).unwrap();
    let pixels = field(&held, "pixels")
        .dyn_into::<js_sys::Uint8Array>()
        .unwrap()
        .to_vec();
    let labels = field(&held, "labels")
        .dyn_into::<js_sys::Uint8Array>()
        .unwrap()
        .to_vec();
    assert_eq!(labels.len(), 1000);
    // Most shipped images are classified as labelled (the test set's accuracy is 90 %).
    let mut hits = 0;
    for i in (0..1000).step_by(50) {
        let x: Vec<f32> = pixels[i * 784..(i + 1) * 784]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        let got = logits(&api, &x).await;
        let best = (0..10).max_by(|&a, &b| got[a].total_cmp(&got[b])).unwrap();
        hits += usize::from(best == usize::from(labels[i]));
    }
    assert!(hits >= 16, "{hits} of 20");
}
