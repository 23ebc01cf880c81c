//! In headless Chromium (`wasm-pack test --headless --chrome`, WebGPU enabled by
//! `webdriver.json`): the JS API on the CPU and on WebGPU, against the native results.
#![cfg(target_arch = "wasm32")]

use deep_inside::data::Digits;
use deep_inside::web::{DeepInside, localise};
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
    let api = DeepInside::open("cpu").await.unwrap();
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
    let cpu = DeepInside::open("cpu").await.unwrap();
    let gpu = DeepInside::open("webgpu")
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
    let api = DeepInside::open("auto").await.unwrap();
    assert_eq!(api.backend(), "cpu");
    assert!(api.reason().contains("software"), "{}", api.reason());

    // A browser without WebGPU: shadow navigator.gpu with undefined.
    let navigator = field(&js_sys::global(), "navigator");
    let descriptor = js_sys::Object::new();
    Reflect::set(&descriptor, &"value".into(), &JsValue::UNDEFINED).unwrap();
    Reflect::set(&descriptor, &"configurable".into(), &JsValue::TRUE).unwrap();
    let navigator: js_sys::Object = navigator.unchecked_into();
    Reflect::define_property(&navigator, &"gpu".into(), &descriptor).unwrap();
    let auto = DeepInside::open("auto").await;
    let forced = DeepInside::open("webgpu").await;
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
    let api = DeepInside::open("cpu").await.unwrap();
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
        settle(DeepInside::create("gpu".into()))
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
    let cpu = DeepInside::open("cpu").await.unwrap();
    let gpu = DeepInside::open("webgpu").await.unwrap();
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
