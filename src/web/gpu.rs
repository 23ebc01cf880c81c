//! Choosing the backend: WebGPU's start-up (once per instance, with a time limit), the `auto`
//! choice (WebGPU only on a hardware adapter), the CPU fallback, and running the module's
//! static constructors exactly once.

use burn::tensor::Device;
use wasm_bindgen::JsValue;

use super::interop::get;
use crate::{Error, backend};

/// How long `auto` waits for a WebGPU device and its warm-up before it settles for the CPU.
#[cfg(feature = "webgpu")]
const WEBGPU_TIMEOUT_MS: i32 = 8000;

#[cfg(feature = "webgpu")]
thread_local! {
    /// burn's wgpu runtime is initialised once per instance; later `create` calls reuse it.
    static WEBGPU: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

/// The WebGPU build links cubecl's `inventory`, whose static constructors the linker would
/// otherwise re-run on every exported call (25× slower, and a panic in wasm-bindgen-test, which
/// does not run the start function). Calling `__wasm_call_ctors` ourselves, once, before any
/// backend is used, stops that wrapping.
pub fn run_constructors_once() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::SeqCst) {
        unsafe extern "C" {
            fn __wasm_call_ctors();
        }
        // SAFETY: the linker-made constructor function, called exactly once before any backend use.
        unsafe { __wasm_call_ctors() }
    }
}

/// The backend settled for a request: its device, its name, and why, in words for the page.
pub struct Choice {
    pub device: Device,
    pub name: &'static str,
    pub reason: String,
}

/// Settles the backend: "cpu", "webgpu" (forced: an error when unavailable) or "auto" (WebGPU
/// on a hardware adapter that comes up in time, else the CPU).
pub async fn choose(requested: &str) -> Result<Choice, Error> {
    let cpu = |reason: String| Choice {
        device: backend::cpu(),
        name: "cpu",
        reason,
    };
    match requested {
        "cpu" => Ok(cpu("the CPU backend was requested".into())),
        "webgpu" => webgpu(false).await,
        "auto" => match webgpu(true).await {
            Ok(choice) => Ok(choice),
            Err(Error::Backend(why)) => Ok(cpu(why)),
            Err(other) => Ok(cpu(other.to_string())),
        },
        other => Err(Error::argument(
            "backend",
            format!("expected \"auto\", \"webgpu\" or \"cpu\", got {other:?}"),
        )),
    }
}

/// `navigator.gpu`, from a window or a worker; `None` where the browser has no WebGPU.
fn navigator_gpu() -> Option<JsValue> {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    (!gpu.is_undefined() && !gpu.is_null()).then_some(gpu)
}

/// Brings up WebGPU. With `hardware_only`, a software (fallback) adapter is refused: it was
/// 25 to 40 times slower than the CPU backend here (BENCHMARKS.md, "The page, per backend").
#[cfg(feature = "webgpu")]
async fn webgpu(hardware_only: bool) -> Result<Choice, Error> {
    use js_sys::{Array, Promise, Reflect};
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::{JsFuture, future_to_promise};

    let gpu = navigator_gpu().ok_or_else(|| Error::backend("this browser has no WebGPU"))?;
    let request: Promise = Reflect::get(&gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call0(&gpu).ok())
        .and_then(|p| p.dyn_into::<Promise>().ok())
        .ok_or_else(|| Error::backend("navigator.gpu.requestAdapter is unavailable"))?;
    let adapter = JsFuture::from(request)
        .await
        .map_err(|e| Error::backend(format!("WebGPU adapter request failed: {e:?}")))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(Error::backend("WebGPU has no adapter here"));
    }
    let info = get(&adapter, "info");
    let fallback = get(&info, "isFallbackAdapter").is_truthy()
        || get(&adapter, "isFallbackAdapter").is_truthy();
    let describe = format!(
        "{} {}",
        get(&info, "vendor").as_string().unwrap_or_default(),
        get(&info, "architecture").as_string().unwrap_or_default()
    );
    let describe = describe.trim();
    if hardware_only && fallback {
        return Err(Error::backend(format!(
            "the WebGPU adapter ({describe}) is software, slower than the CPU"
        )));
    }
    let how = if fallback { "software" } else { "hardware" };
    let chosen = |device| Choice {
        device,
        name: "webgpu",
        reason: format!("WebGPU on a {how} adapter ({describe})"),
    };
    if let Some(device) = WEBGPU.with(|d| d.borrow().clone()) {
        return Ok(chosen(device));
    }
    let slot: Rc<RefCell<Option<Device>>> = Rc::default();
    let filled = slot.clone();
    let bring_up = future_to_promise(async move {
        let device = backend::webgpu().await?;
        // A tiny warm-up: compiles the kernels a forward pass needs, proves the device works.
        let model = crate::data::Shipped::Mnist.load(&device)?;
        let [c, h, w] = model.input();
        let zeros = burn::tensor::Tensor::<4>::zeros([1, c, h, w], &device);
        super::interop::read(model.network.forward(zeros)).await?;
        *filled.borrow_mut() = Some(device);
        Ok(JsValue::TRUE)
    });
    let timeout = Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let _ = match global.dyn_ref::<web_sys::WorkerGlobalScope>() {
            Some(w) => {
                w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, WEBGPU_TIMEOUT_MS)
            }
            None => global
                .unchecked_ref::<web_sys::Window>()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, WEBGPU_TIMEOUT_MS),
        };
    });
    match JsFuture::from(Promise::race(&Array::of2(&bring_up, &timeout))).await {
        Ok(v) if v.is_truthy() => {}
        Ok(_) => {
            return Err(Error::backend(format!(
                "WebGPU did not come up within {WEBGPU_TIMEOUT_MS} ms"
            )));
        }
        Err(e) => {
            let message = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| format!("{e:?}"));
            return Err(Error::backend(format!("WebGPU failed to start: {message}")));
        }
    }
    let device = slot
        .borrow_mut()
        .take()
        .ok_or_else(|| Error::backend("WebGPU device missing after start-up"))?;
    WEBGPU.with(|d| *d.borrow_mut() = Some(device.clone()));
    Ok(chosen(device))
}

#[cfg(not(feature = "webgpu"))]
async fn webgpu(_hardware_only: bool) -> Result<Choice, Error> {
    Err(Error::backend(if navigator_gpu().is_some() {
        "this build has no WebGPU backend"
    } else {
        "this browser has no WebGPU"
    }))
}
