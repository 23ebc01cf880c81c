//! The wasm-bindgen boundary: argument checks, backend choice, async readback. No method logic
//! lives here. Every export returns a `Result` (a JS `Error` on bad input), because a Rust panic
//! inside wasm kills the instance for good.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::{Device, Tensor};
use js_sys::{Array, Float32Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
#[cfg(feature = "webgpu")]
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_futures::future_to_promise;

use crate::attribution::{self, Baseline, Completeness, Smoothing};
use crate::class_model::{self, Ascent, Objective, Options as ClassOptions};
use crate::colormap::{self, Colormap};
use crate::data::{self, Dataset};
use crate::faithfulness::{self, Perturbation};
use crate::lrp::{self, Rule, Rules};
use crate::model::{Network, Parameter, SIDE};
use crate::saliency::{self, Method};
use crate::sanity;
use crate::walk::PoolRule;
use crate::{Error, backend};

/// How long `auto` waits for a WebGPU device and its warm-up before it settles for the CPU.
#[cfg(feature = "webgpu")]
const WEBGPU_TIMEOUT_MS: i32 = 8000;

#[cfg(feature = "webgpu")]
thread_local! {
    /// burn's wgpu runtime is initialised once per instance; later `create` calls reuse it.
    static WEBGPU: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** The result of `predict`. */
export interface Prediction {
  /** softmax(S(x)), 10 values. */
  probabilities: Float32Array;
  /** The class scores S(x) (logits), 10 values. */
  logits: Float32Array;
  /** argmax of the scores. */
  predicted: number;
}
/** One layer of `relevance`: the relevance entering it, summed over channels. */
export interface LayerRelevance {
  name: string;
  width: number;
  height: number;
  /** width × height values. */
  map: Float32Array;
  /** Per channel, channel-major: channels × height × width. */
  channels: Float32Array;
  /** Σ R at this layer. */
  total: number;
}
/** The result of `relevance`. */
export interface RelevanceResult {
  class: number;
  /** S_c(x), the relevance LRP starts from. */
  score: number;
  /** conv1 (the pixels), conv2, fc1, fc2. */
  layers: LayerRelevance[];
}
/** Options of `classModel`; every field is optional. */
export interface ClassModelOptions {
  objective?: "score" | "log_prob";
  lambda?: number;
  step?: number;
  start?: "noise" | "mean" | "dataset";
  index?: number;
  seed?: number;
  clip?: boolean;
  jitter?: number;
  blurEvery?: number;
  totalVariation?: number;
}
/** Where a class model visualisation stands. */
export interface ClassModelState {
  image: Float32Array;
  objective: number;
  score: number;
  probability: number;
  steps: number;
}
/** Labelled held-out images: `pixels` holds `labels.length` images of 784 bytes (value/255). */
export interface HeldoutDigits {
  labels: Uint8Array;
  pixels: Uint8Array;
}
/** What a device's allocator holds (`memoryUsage`). */
export interface MemoryUsage {
  allocations: number;
  bytesInUse: number;
  bytesReserved: number;
}
/** The result of `explain`. */
export interface Explanation extends Prediction {
  class: number;
  /** ∂S_c/∂x. */
  gradient: Float32Array;
  deconvnet: Float32Array;
  guided: Float32Array;
  /** ∂S_c/∂x ⊙ x. */
  gradientInput: Float32Array;
}
/** Options of `smoothGrad`; every field is optional. */
export interface SmoothGradOptions {
  /** Noisy copies, 1..=256 (default 32). */
  samples?: number;
  /** Noise standard deviation as a fraction of the pixel range, 0..=1 (default 0.15). */
  sigma?: number;
  seed?: number;
}
/** Options of `integratedGradients`; every field is optional. */
export interface IntegratedGradientsOptions {
  /** Path points, 1..=254 (default 32). */
  steps?: number;
  baseline?: "black" | "mean";
}
/** The result of `integratedGradients`, with its completeness check. */
export interface IntegratedGradients {
  map: Float32Array;
  /** Σ attribution. */
  total: number;
  /** S_c(x) − S_c(baseline): what the total should be. */
  difference: number;
  /** |total − difference| / |difference|. */
  error: number;
}
/** One map's deletion and insertion curves: p(c) after each step of k pixels. */
export interface FaithfulnessCurve {
  name: string;
  deletion: Float32Array;
  insertion: Float32Array;
  /** Lower is better. */
  deletionAuc: number;
  /** Higher is better. */
  insertionAuc: number;
}
/** The result of `faithfulness`: one curve per map, then "random". */
export interface Faithfulness {
  k: number;
  curves: FaithfulnessCurve[];
}
/** One method across the sanity check's stages. */
export interface SanityMethod {
  name: string;
  /** One signed map per stage. */
  maps: Float32Array[];
  /** Spearman correlation of the (signed) map with the trained network's, per stage. */
  spearman: number[];
}
/** The result of `sanity`. */
export interface Sanity {
  /** "trained", then the layer re-initialised at each stage (cascading from the top). */
  stages: string[];
  methods: SanityMethod[];
}
"#;

impl From<Error> for JsValue {
    fn from(e: Error) -> Self {
        js_sys::Error::new(&e.0).into()
    }
}

/// A model's embedded weights, decoded once per module instance and shared by every backend.
fn weights(dataset: Dataset) -> Result<&'static [Parameter], Error> {
    type Decoded = std::sync::OnceLock<Result<Vec<Parameter>, Error>>;
    static DECODED: [Decoded; 2] = [Decoded::new(), Decoded::new()];
    // Fashion's files may not be loaded yet: that error must not be cached.
    let bytes = dataset.weights()?;
    DECODED[dataset as usize]
        .get_or_init(|| crate::model::decode_parameters(bytes))
        .as_deref()
        .map_err(Clone::clone)
}

/// The model named by an optional JS string: "mnist" (the default) or "fashion".
fn dataset(v: &JsValue) -> Result<Dataset, Error> {
    if v.is_undefined() || v.is_null() {
        Ok(Dataset::Mnist)
    } else {
        Dataset::parse(&text("model", v)?)
    }
}

/// The seed of the sanity check's re-initialisation: fixed, so the page shows the same check
/// for the same input.
const SANITY_SEED: u64 = 2018;

/// Runs once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    run_constructors_once();
}

/// The WebGPU build links cubecl's `inventory`, whose static constructors the linker would
/// otherwise re-run on every exported call (25× slower). Referencing `__wasm_call_ctors`
/// ourselves, once, stops that wrapping.
fn run_constructors_once() {
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

struct Inner {
    device: Device,
    dataset: Dataset,
    network: Network,
    /// The same network with FC layers as convolutions, for LRP's per-layer maps.
    converted: Network,
    /// The sanity check's networks, uploaded on its first use and kept.
    cascade: RefCell<Option<Rc<Vec<Network>>>>,
}

impl Inner {
    fn cascade(&self) -> Result<Rc<Vec<Network>>, Error> {
        if let Some(c) = self.cascade.borrow().as_ref() {
            return Ok(c.clone());
        }
        let c = Rc::new(sanity::cascade(&self.network, SANITY_SEED)?);
        *self.cascade.borrow_mut() = Some(c.clone());
        Ok(c)
    }
}

/// The network on one backend. Make it with `DeepInside.create(backend)`.
#[wasm_bindgen]
pub struct DeepInside {
    inner: Rc<Inner>,
    backend: String,
    reason: String,
}

impl DeepInside {
    /// The Rust side of `create`.
    pub async fn open(backend: &str, dataset: Dataset) -> Result<DeepInside, Error> {
        run_constructors_once();
        let params = weights(dataset)?;
        let (device, name, reason) = choose(backend).await?;
        let network = Network::from_parameters(params, &device)?;
        let converted = network.fc_as_conv([1, SIDE, SIDE]);
        Ok(DeepInside {
            inner: Rc::new(Inner {
                device,
                dataset,
                network,
                converted,
                cascade: RefCell::default(),
            }),
            backend: name.into(),
            reason,
        })
    }

    /// Runs `work` on the backend with the checked `input` and turns its result into a
    /// promise; a bad input rejects it.
    fn spawn<T: 'static, F>(
        &self,
        input: Result<T, Error>,
        work: impl FnOnce(Rc<Inner>, T) -> F + 'static,
    ) -> Promise
    where
        F: std::future::Future<Output = Result<JsValue, Error>> + 'static,
    {
        let inner = self.inner.clone();
        future_to_promise(async move { work(inner, input?).await.map_err(JsValue::from) })
    }
}

#[wasm_bindgen]
impl DeepInside {
    /// Picks a backend and loads a model's embedded weights onto it.
    /// `backend`: "auto" (WebGPU only on a hardware adapter that comes up in time, else the
    /// CPU), "webgpu" (forced; rejects when unavailable) or "cpu".
    /// `model`: "mnist" (digits, the default) or "fashion" (Fashion-MNIST clothes).
    #[wasm_bindgen(unchecked_return_type = "Promise<DeepInside>")]
    pub fn create(
        #[wasm_bindgen(unchecked_param_type = "\"auto\" | \"webgpu\" | \"cpu\"")] backend: JsValue,
        #[wasm_bindgen(unchecked_param_type = "\"mnist\" | \"fashion\" | undefined")]
        model: JsValue,
    ) -> Promise {
        let input = text("backend", &backend).and_then(|b| Ok((b, dataset(&model)?)));
        future_to_promise(async move {
            let (backend, dataset) = input?;
            Ok(DeepInside::open(&backend, dataset).await?.into())
        })
    }

    /// The model in use: "mnist" or "fashion".
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> String {
        self.inner.dataset.name().into()
    }

    /// The backend in use: "cpu" or "webgpu".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// Why this backend was chosen, in words for the page.
    #[wasm_bindgen(getter)]
    pub fn reason(&self) -> String {
        self.reason.clone()
    }

    /// What the backend's device allocator holds now, `{allocations, bytesInUse,
    /// bytesReserved}` (GPU buffers on WebGPU), or `null` where the backend does not report it
    /// (the CPU: there the wasm memory is the measure). For finding leaks.
    #[wasm_bindgen(js_name = memoryUsage, unchecked_return_type = "MemoryUsage | null")]
    pub fn memory_usage(&self) -> JsValue {
        self.inner
            .device
            .memory_pool_usage()
            .map_or(JsValue::NULL, |u| {
                let out = Object::new();
                set(&out, "allocations", &JsValue::from(u.number_allocs as f64));
                set(&out, "bytesInUse", &JsValue::from(u.bytes_in_use as f64));
                set(
                    &out,
                    "bytesReserved",
                    &JsValue::from(u.bytes_reserved as f64),
                );
                out.into()
            })
    }

    /// The probabilities and scores for one 28×28 image (784 intensities in [0, 1]).
    #[wasm_bindgen(unchecked_return_type = "Promise<Prediction>")]
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
    ) -> Promise {
        self.spawn(floats("pixels", &pixels), move |inner, pixels| async move {
            let x = data::image_tensor(&pixels, &inner.device)?;
            let logits = read(inner.network.forward(x)).await?;
            Ok(prediction(&logits).into())
        })
    }

    /// The saliency map `|∂S_c/∂x|` (784 values) for any class, by `method`: "gradient",
    /// "deconvnet" or "guided" (the last two: the same walk with another ReLU rule).
    #[wasm_bindgen(unchecked_return_type = "Promise<Float32Array>")]
    pub fn saliency(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "\"gradient\" | \"deconvnet\" | \"guided\"")] method: JsValue,
    ) -> Promise {
        self.maps(pixels, class, method, true)
    }

    /// The signed map behind `saliency`: for "gradient", `∂S_c/∂x` itself.
    #[wasm_bindgen(js_name = signedSaliency, unchecked_return_type = "Promise<Float32Array>")]
    pub fn signed_saliency(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "\"gradient\" | \"deconvnet\" | \"guided\"")] method: JsValue,
    ) -> Promise {
        self.maps(pixels, class, method, false)
    }

    /// Everything the page shows for one image, from one forward pass: the prediction, the
    /// signed maps of the three methods and gradient × input for `class` (-1: the predicted
    /// class).
    #[wasm_bindgen(unchecked_return_type = "Promise<Explanation>")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
    ) -> Promise {
        self.spawn(floats("pixels", &pixels), move |inner, pixels| async move {
            let x = data::image_tensor(&pixels, &inner.device)?;
            let acts = inner.network.trace(x);
            let logits = read(acts[acts.len() - 1].clone()).await?;
            let predicted = argmax(&logits);
            let class = if class == -1.0 {
                predicted
            } else {
                data::check_class("class", whole("class", class)?)?
            };
            let out = prediction(&logits);
            set(&out, "class", &JsValue::from(class as u32));
            for method in Method::ALL {
                let map = read(saliency::signed(&inner.network, &acts, class, method)?).await?;
                set(&out, method.name(), &Float32Array::from(&map[..]));
            }
            let map = read(attribution::gradient_times_input(
                &inner.network,
                &acts,
                class,
            )?)
            .await?;
            set(&out, "gradientInput", &Float32Array::from(&map[..]));
            Ok(out.into())
        })
    }

    /// SmoothGrad for `class`: the mean gradient over noisy copies of the image, run as one
    /// batch (784 signed values). `options`: samples (1..=256, default 32), sigma (fraction of
    /// the pixel range, default 0.15), seed.
    #[wasm_bindgen(js_name = smoothGrad, unchecked_return_type = "Promise<Float32Array>")]
    pub fn smooth_grad(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "SmoothGradOptions | undefined")] options: JsValue,
    ) -> Promise {
        let input = floats("pixels", &pixels).and_then(|p| {
            check_options(&options)?;
            let defaults = Smoothing::default();
            let smoothing = Smoothing {
                samples: count_option(&options, "samples", defaults.samples)?,
                sigma: number_option(&options, "sigma")?.map_or(defaults.sigma, |v| v as f32),
                seed: count_option(&options, "seed", 0)? as u64,
            };
            smoothing
                .check()
                .map_err(|e| Error(e.0.replace("`samples`", "`options.samples`")))?;
            Ok((
                p,
                smoothing,
                data::check_class("class", whole("class", class)?)?,
            ))
        });
        self.spawn(input, move |inner, (pixels, smoothing, class)| async move {
            let map = attribution::smooth_grad(
                &inner.network,
                &pixels,
                class,
                &smoothing,
                &inner.device,
            )?;
            Ok(Float32Array::from(&read(map).await?[..]).into())
        })
    }

    /// Integrated Gradients for `class`, with its completeness check. `options`: steps
    /// (1..=254 path points, default 32), baseline ("black", default, or "mean": the training
    /// mean image).
    #[wasm_bindgen(
        js_name = integratedGradients,
        unchecked_return_type = "Promise<IntegratedGradients>"
    )]
    pub fn integrated_gradients(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "IntegratedGradientsOptions | undefined")]
        options: JsValue,
    ) -> Promise {
        let input = floats("pixels", &pixels).and_then(|p| {
            check_options(&options)?;
            let steps = count_option(&options, "steps", 32)?;
            let baseline = match option(&options, "baseline") {
                v if v.is_undefined() || v.is_null() => Baseline::Black,
                v => Baseline::parse(&text("options.baseline", &v)?)?,
            };
            Ok((
                p,
                steps,
                baseline,
                data::check_class("class", whole("class", class)?)?,
            ))
        });
        self.spawn(
            input,
            move |inner, (pixels, steps, baseline, class)| async move {
                let base = match baseline {
                    Baseline::Black => vec![0.0; pixels.len()],
                    Baseline::Mean => inner.dataset.mean()?,
                };
                let ig = attribution::integrated_gradients(
                    &inner.network,
                    &pixels,
                    &base,
                    class,
                    steps,
                    &inner.device,
                )
                .map_err(|e| Error(e.0.replace("`steps`", "`options.steps`")))?;
                let map = read(ig.attribution).await?;
                let check = Completeness::new(&map, &read(ig.scores).await?, class);
                let out = Object::new();
                set(&out, "map", &Float32Array::from(&map[..]));
                set(&out, "total", &JsValue::from(check.total));
                set(&out, "difference", &JsValue::from(check.difference));
                set(&out, "error", &JsValue::from(check.relative_error));
                Ok(out.into())
            },
        )
    }

    /// Deletion and insertion curves of each map in `maps` (an object: name → 784 values,
    /// ranked highest first; at most 16), plus a seeded random order as the baseline, with
    /// their AUCs. `options`: k (pixels per step, 1..=784, default 16), seed.
    #[wasm_bindgen(unchecked_return_type = "Promise<Faithfulness>")]
    pub fn faithfulness(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "Record<string, Float32Array | number[]>")]
        maps: JsValue,
        #[wasm_bindgen(unchecked_param_type = "{ k?: number, seed?: number } | undefined")]
        options: JsValue,
    ) -> Promise {
        let input = floats("pixels", &pixels).and_then(|p| {
            check_options(&options)?;
            let k = count_option(&options, "k", 16)?;
            faithfulness::check_step(k).map_err(|e| Error(e.0.replace("`k`", "`options.k`")))?;
            let seed = count_option(&options, "seed", 0)? as u64;
            let mut names = Vec::new();
            let mut rankings = Vec::new();
            if !maps.is_object() || maps.is_function() || Array::is_array(&maps) {
                return Err(Error::argument("maps", "must be an object of name → map"));
            }
            let entries = Object::entries(maps.unchecked_ref());
            if entries.length() == 0 || entries.length() > 16 {
                return Err(Error::argument(
                    "maps",
                    format!("must hold 1..=16 maps, got {}", entries.length()),
                ));
            }
            for entry in entries.iter() {
                let entry: Array = entry.unchecked_into();
                let name = entry.get(0).as_string().unwrap_or_default();
                let label = format!("maps.{name}");
                let map = floats(&label, &entry.get(1))?;
                rankings.push(
                    faithfulness::ranking(&map)
                        .map_err(|e| Error(e.0.replace("`map`", &format!("`{label}`"))))?,
                );
                names.push(name);
            }
            names.push("random".into());
            rankings.push(faithfulness::random_ranking(seed));
            Ok((
                p,
                k,
                names,
                rankings,
                data::check_class("class", whole("class", class)?)?,
            ))
        });
        self.spawn(
            input,
            move |inner, (pixels, k, names, rankings, class)| async move {
                let n = faithfulness::points(k);
                let mut read_back = Vec::new();
                for perturbation in Perturbation::ALL {
                    let p = faithfulness::curves(
                        &inner.network,
                        &pixels,
                        class,
                        &rankings,
                        k,
                        perturbation,
                        &inner.device,
                    )?;
                    read_back.push(read(p).await?);
                }
                let curves = Array::new();
                for (i, name) in names.iter().enumerate() {
                    let o = Object::new();
                    set(&o, "name", &JsValue::from_str(name));
                    for (perturbation, values) in Perturbation::ALL.iter().zip(&read_back) {
                        let curve = &values[i * n..(i + 1) * n];
                        set(&o, perturbation.name(), &Float32Array::from(curve));
                        set(
                            &o,
                            &format!("{}Auc", perturbation.name()),
                            &JsValue::from(faithfulness::auc(curve)),
                        );
                    }
                    curves.push(&o);
                }
                let out = Object::new();
                set(&out, "k", &JsValue::from(k as u32));
                set(&out, "curves", &curves);
                Ok(out.into())
            },
        )
    }

    /// The model-randomisation sanity check for `class`: the maps of the gradient, gradient ×
    /// input, DeconvNet, guided backprop and LRP ("recommended") on the trained network and
    /// with FC2, FC1, conv2, conv1 re-initialised in turn (cascading from the top; fixed
    /// seed), with each signed map's Spearman correlation to the trained one. One readback.
    #[wasm_bindgen(unchecked_return_type = "Promise<Sanity>")]
    pub fn sanity(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
    ) -> Promise {
        let input = floats("pixels", &pixels)
            .and_then(|p| Ok((p, data::check_class("class", whole("class", class)?)?)));
        self.spawn(input, move |inner, (pixels, class)| async move {
            const NAMES: [&str; 5] = ["gradient", "gradientInput", "deconvnet", "guided", "lrp"];
            let x = data::image_tensor(&pixels, &inner.device)?;
            let rules = Rules::preset("recommended")?;
            let cascade = inner.cascade()?;
            let mut maps = Vec::new();
            for net in cascade.iter() {
                let acts = net.trace(x.clone());
                maps.push(saliency::signed(net, &acts, class, Method::Gradient)?);
                maps.push(attribution::gradient_times_input(net, &acts, class)?);
                maps.push(saliency::signed(net, &acts, class, Method::Deconvnet)?);
                maps.push(saliency::signed(net, &acts, class, Method::Guided)?);
                maps.push(
                    lrp::relevance(net, x.clone(), class, &rules)?.layers[0]
                        .map
                        .clone(),
                );
            }
            let all = read(Tensor::cat(maps, 0)).await?;
            let px = SIDE * SIDE;
            let map = |stage: usize, m: usize| {
                let at = (stage * NAMES.len() + m) * px;
                &all[at..at + px]
            };
            let methods = Array::new();
            for (m, name) in NAMES.iter().enumerate() {
                let (stage_maps, rhos) = (Array::new(), Array::new());
                for stage in 0..cascade.len() {
                    stage_maps.push(&Float32Array::from(map(stage, m)));
                    rhos.push(&JsValue::from(sanity::spearman(map(0, m), map(stage, m))?));
                }
                let o = Object::new();
                set(&o, "name", &JsValue::from_str(name));
                set(&o, "maps", &stage_maps);
                set(&o, "spearman", &rhos);
                methods.push(&o);
            }
            let stages: Array = sanity::STAGES
                .iter()
                .map(|s| JsValue::from_str(s))
                .collect();
            let out = Object::new();
            set(&out, "stages", &stages);
            set(&out, "methods", &methods);
            Ok(out.into())
        })
    }

    /// LRP for `class`: the relevance entering each layer (conv1 = the pixels, conv2, fc1,
    /// fc2), summed over channels at the layer's resolution, with `Σ R` per layer and `S_c(x)`.
    /// `composite`: "recommended", "epsilon", "zplus", "alpha2beta1", or four rule names for
    /// conv1, conv2, fc1, fc2 (zero, epsilon, gamma, zplus, alpha2beta1, zbox, wsquare, flat;
    /// ε = γ = 0.25). `pool`: "max" (winner takes all, default) or "proportional".
    #[wasm_bindgen(unchecked_return_type = "Promise<RelevanceResult>")]
    pub fn relevance(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] composite: JsValue,
        #[wasm_bindgen(unchecked_param_type = "\"max\" | \"proportional\" | undefined")]
        pool: JsValue,
    ) -> Promise {
        let input = floats("pixels", &pixels).and_then(|p| Ok((p, rules(&composite, &pool)?)));
        self.spawn(input, move |inner, (pixels, rules)| async move {
            let class = data::check_class("class", whole("class", class)?)?;
            let x = data::image_tensor(&pixels, &inner.device)?;
            let r = lrp::relevance(&inner.converted, x, class, &rules)?;
            let scores = read(r.scores).await?;
            let out = Object::new();
            set(&out, "class", &JsValue::from(class as u32));
            set(&out, "score", &JsValue::from(scores[class]));
            let layers = Array::new();
            for layer in r.layers {
                let [_, channels, h, w] = layer.full.dims();
                let full = read(layer.full).await?;
                let o = Object::new();
                set(&o, "name", &JsValue::from_str(layer.name));
                set(&o, "width", &JsValue::from(w as u32));
                set(&o, "height", &JsValue::from(h as u32));
                set(&o, "total", &JsValue::from(full.iter().sum::<f32>()));
                let map: Vec<f32> = (0..h * w)
                    .map(|i| (0..channels).map(|c| full[c * h * w + i]).sum())
                    .collect();
                set(&o, "map", &Float32Array::from(&map[..]));
                set(&o, "channels", &Float32Array::from(&full[..]));
                layers.push(&o);
            }
            set(&out, "layers", &layers);
            Ok(out.into())
        })
    }

    /// Starts a class model visualisation (gradient ascent on the input) for `class`.
    /// `options` (all optional): objective ("score" | "log_prob"), lambda, step, start
    /// ("noise" | "mean" | "dataset"), index (held-out digit for "dataset"), seed, clip,
    /// jitter (pixels), blurEvery (steps), totalVariation.
    #[wasm_bindgen(js_name = classModel)]
    pub fn class_model(
        &self,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "ClassModelOptions | undefined")] options: JsValue,
    ) -> Result<ClassModel, JsValue> {
        let options = class_model_options(&options, self.inner.dataset)?;
        let class = whole("class", class)?;
        let ascent = Ascent::new(
            &self.inner.network,
            class,
            options.clone(),
            &self.inner.device,
        )?;
        Ok(ClassModel {
            ascent: Rc::new(RefCell::new(ascent)),
            options,
            class: class as usize,
        })
    }

    fn maps(&self, pixels: JsValue, class: f64, method: JsValue, magnitude: bool) -> Promise {
        let method = text("method", &method);
        self.spawn(floats("pixels", &pixels), move |inner, pixels| async move {
            let method = Method::parse(&method?)?;
            let class = data::check_class("class", whole("class", class)?)?;
            let x = data::image_tensor(&pixels, &inner.device)?;
            let map = saliency::signed(&inner.network, &inner.network.trace(x), class, method)?;
            let map = read(if magnitude { map.abs() } else { map }).await?;
            Ok(Float32Array::from(&map[..]).into())
        })
    }
}

/// A running class model visualisation; `step(n)` advances it.
#[wasm_bindgen]
pub struct ClassModel {
    ascent: Rc<RefCell<Ascent>>,
    options: ClassOptions,
    class: usize,
}

#[wasm_bindgen]
impl ClassModel {
    /// Takes `n` (0..=10000) ascent steps; resolves to the image (784 values, not clipped
    /// unless `clip`), the objective, S_c, p(c|x) and the step count.
    #[wasm_bindgen(unchecked_return_type = "Promise<ClassModelState>")]
    pub fn step(&self, n: f64) -> Promise {
        let ascent = self.ascent.clone();
        let options = self.options.clone();
        let class = self.class;
        future_to_promise(async move {
            let n = whole("n", n)?;
            if !(0..=10_000).contains(&n) {
                return Err(
                    Error::argument("n", format!("steps must be 0..=10000, got {n}")).into(),
                );
            }
            // The borrow ends before the first await, so a second call cannot collide with it.
            let state = ascent.borrow_mut().step(n as usize);
            let x = read(state.x).await?;
            let scores = read(state.scores).await?;
            let out = Object::new();
            set(
                &out,
                "objective",
                &JsValue::from(class_model::objective(&options, class, &scores, &x)),
            );
            set(&out, "score", &JsValue::from(scores[class]));
            set(
                &out,
                "probability",
                &JsValue::from(data::softmax(&scores)[class]),
            );
            set(&out, "steps", &JsValue::from(state.steps as u32));
            set(&out, "image", &Float32Array::from(&x[..]));
            Ok(out.into())
        })
    }
}

fn option(options: &JsValue, key: &str) -> JsValue {
    if options.is_object() {
        get(options, key)
    } else {
        JsValue::UNDEFINED
    }
}

fn number_option(options: &JsValue, key: &str) -> Result<Option<f64>, Error> {
    let v = option(options, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() => Ok(Some(n)),
        _ => Err(Error::argument(
            &format!("options.{key}"),
            format!("must be a finite number, got {v:?}"),
        )),
    }
}

fn count_option(options: &JsValue, key: &str, default: usize) -> Result<usize, Error> {
    match number_option(options, key)? {
        None => Ok(default),
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 1e6 => Ok(n as usize),
        Some(n) => Err(Error::argument(
            &format!("options.{key}"),
            format!("must be a whole number ≥ 0, got {n}"),
        )),
    }
}

/// Options must be an object, or left out.
fn check_options(o: &JsValue) -> Result<(), Error> {
    if o.is_undefined() || o.is_null() || (o.is_object() && !Array::is_array(o)) {
        Ok(())
    } else {
        Err(Error::argument("options", "must be an object"))
    }
}

fn class_model_options(o: &JsValue, dataset: Dataset) -> Result<ClassOptions, Error> {
    check_options(o)?;
    let defaults = ClassOptions::default();
    let text = |key: &str, default: &str| -> Result<String, Error> {
        let v = option(o, key);
        if v.is_undefined() || v.is_null() {
            return Ok(default.into());
        }
        v.as_string()
            .ok_or_else(|| Error::argument(&format!("options.{key}"), "must be a string"))
    };
    let objective = match text("objective", "score")?.as_str() {
        "score" => Objective::Score,
        "log_prob" => Objective::LogProb,
        other => {
            return Err(Error::argument(
                "options.objective",
                format!("expected \"score\" or \"log_prob\", got {other:?}"),
            ));
        }
    };
    let seed = count_option(o, "seed", 0)? as u64;
    let index = number_option(o, "index")?.map(|i| i as i64);
    let clip = option(o, "clip");
    let options = ClassOptions {
        objective,
        lambda: number_option(o, "lambda")?.map_or(defaults.lambda, |v| v as f32),
        step: number_option(o, "step")?.map_or(defaults.step, |v| v as f32),
        start: class_model::start(&text("start", "noise")?, dataset, index, seed)?,
        seed,
        clip: clip.as_bool().unwrap_or(false),
        jitter: count_option(o, "jitter", 0)?,
        blur_every: count_option(o, "blurEvery", 0)?,
        total_variation: number_option(o, "totalVariation")?.map_or(0.0, |v| v as f32),
    };
    if !(clip.is_undefined() || clip.is_null() || clip.as_bool().is_some()) {
        return Err(Error::argument("options.clip", "must be true or false"));
    }
    options.check()?;
    Ok(options)
}

fn rules(composite: &JsValue, pool: &JsValue) -> Result<Rules, Error> {
    let mut rules = if let Some(name) = composite.as_string() {
        Rules::preset(&name)?
    } else if let Some(list) = composite.dyn_ref::<Array>() {
        if list.length() != 4 {
            return Err(Error::argument(
                "composite",
                format!(
                    "a custom composite names 4 rules (conv1, conv2, fc1, fc2), got {}",
                    list.length()
                ),
            ));
        }
        let layers = list
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let name = v
                    .as_string()
                    .ok_or_else(|| Error::argument("composite", "rule names must be strings"))?;
                Rule::parse(&name, 0.25, 0.25)
                    .map_err(|e| Error::argument("composite", format!("rule {i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Rules {
            layers,
            pool: PoolRule::WinnerTakeAll,
        }
    } else {
        return Err(Error::argument(
            "composite",
            "must be a preset name or an array of 4 rule names",
        ));
    };
    let pool = if pool.is_undefined() || pool.is_null() {
        "max".into()
    } else {
        text("pool", pool)?
    };
    rules.pool = match pool.as_str() {
        "max" => PoolRule::WinnerTakeAll,
        "proportional" => PoolRule::Proportional,
        other => {
            return Err(Error::argument(
                "pool",
                format!("expected \"max\" or \"proportional\", got {other:?}"),
            ));
        }
    };
    Ok(rules)
}

/// Localisation from a saliency map (28×28): the pixels above `quantile` (0.95 keeps the top
/// 5%), the largest connected component of them, and its bounding box.
#[wasm_bindgen(unchecked_return_type = "Localisation")]
pub fn localise(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] map: JsValue,
    quantile: f64,
) -> Result<JsValue, JsValue> {
    let map = floats("map", &map)?;
    let l = crate::localise::localise(&map, SIDE, SIDE, quantile)?;
    let bytes = |m: &[bool]| Uint8Array::from(&m.iter().map(|&b| b as u8).collect::<Vec<_>>()[..]);
    let out = Object::new();
    set(&out, "threshold", &JsValue::from(l.threshold));
    set(&out, "mask", &bytes(&l.mask));
    set(&out, "component", &bytes(&l.component));
    let bbox = l.bbox.map_or(JsValue::NULL, |b| {
        let o = Object::new();
        set(&o, "x", &JsValue::from(b.x as u32));
        set(&o, "y", &JsValue::from(b.y as u32));
        set(&o, "width", &JsValue::from(b.width as u32));
        set(&o, "height", &JsValue::from(b.height as u32));
        o.into()
    });
    set(&out, "box", &bbox);
    Ok(out.into())
}

fn colour_limit(map: &[f32], limit: Option<f32>) -> Result<f32, Error> {
    match limit {
        None => Ok(Colormap::auto_limit(map)),
        Some(l) if l.is_finite() && l > 0.0 => Ok(l),
        Some(l) => Err(Error::argument(
            "limit",
            format!("must be a positive number, got {l}"),
        )),
    }
}

/// RGBA bytes for a map: `colormap` "sequential" (viridis, for magnitudes) or "diverging"
/// (blue–white–red, symmetric), scaled to `limit` (default: the map's largest magnitude).
#[wasm_bindgen(js_name = mapToRgba)]
pub fn map_to_rgba(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] map: JsValue,
    #[wasm_bindgen(unchecked_param_type = "\"sequential\" | \"diverging\"")] colormap: JsValue,
    limit: Option<f32>,
) -> Result<Vec<u8>, JsValue> {
    let map = floats("map", &map)?;
    let colormap = Colormap::parse(&text("colormap", &colormap)?)?;
    Ok(colormap.rgba(&map, colour_limit(&map, limit)?))
}

/// RGBA bytes of the digit in grey with the map's magnitude laid over it.
#[wasm_bindgen(js_name = overlayRgba)]
pub fn overlay_rgba(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] digit: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] map: JsValue,
    limit: Option<f32>,
) -> Result<Vec<u8>, JsValue> {
    let (digit, map) = (floats("digit", &digit)?, floats("map", &map)?);
    if digit.len() != map.len() {
        return Err(Error::argument("digit", "must have as many values as the map").into());
    }
    Ok(colormap::overlay(&digit, &map, colour_limit(&map, limit)?))
}

/// Draws RGBA bytes (`width × height × 4`) into a canvas (an `HTMLCanvasElement` or an
/// `OffscreenCanvas`) at its top-left corner; CSS `image-rendering: pixelated` upsamples it.
#[wasm_bindgen(js_name = drawRgba)]
pub fn draw_rgba(
    canvas: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | Uint8ClampedArray")] rgba: JsValue,
    width: f64,
    height: f64,
) -> Result<(), JsValue> {
    let rgba = bytes("rgba", &rgba)?;
    let rgba = &rgba[..];
    let (width, height) = (size("width", width)?, size("height", height)?);
    if width == 0 || (width as usize) * (height as usize) * 4 != rgba.len() {
        return Err(Error::argument("rgba", "must hold width × height × 4 bytes").into());
    }
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(rgba),
        width,
        height,
    )?;
    let context = Reflect::get(canvas, &"getContext".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call1(canvas, &"2d".into()).ok())
        .filter(|c| c.is_object())
        .ok_or_else(|| Error::argument("canvas", "is not a canvas with a 2d context"))?;
    let put: js_sys::Function = Reflect::get(&context, &"putImageData".into())?.dyn_into()?;
    put.call3(&context, &image, &JsValue::from(0), &JsValue::from(0))?;
    Ok(())
}

/// Converts a grayscale picture (ink bright on dark, values in [0, 1], row-major) of any size
/// to the 784 intensities the network expects: cropped, scaled to 20 px and centred by mass.
#[wasm_bindgen(js_name = toMnist)]
pub fn to_mnist(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] gray: JsValue,
    width: f64,
    height: f64,
) -> Result<Float32Array, JsValue> {
    let gray = floats("gray", &gray)?;
    let out = crate::input::to_mnist(
        &gray,
        size("width", width)? as usize,
        size("height", height)? as usize,
    )?;
    Ok(Float32Array::from(&out[..]))
}

/// Converts an RGBA picture of any size (from a canvas) to the 784 intensities the network
/// expects: grey, inverted when the background is light, cropped, scaled and centred by mass.
/// Rejects pictures that are too small, fully transparent or blank.
#[wasm_bindgen(js_name = pictureToMnist)]
pub fn picture_to_mnist(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | Uint8ClampedArray")] rgba: JsValue,
    width: f64,
    height: f64,
) -> Result<Float32Array, JsValue> {
    let rgba = bytes("rgba", &rgba)?;
    let out = crate::input::picture_to_mnist(
        &rgba,
        size("width", width)? as usize,
        size("height", height)? as usize,
    )?;
    Ok(Float32Array::from(&out[..]))
}

/// The 1,000 held-out images (100 per class) of `model` ("mnist", the default, or
/// "fashion") that it never saw in training.
#[wasm_bindgen(js_name = heldoutDigits, unchecked_return_type = "HeldoutDigits")]
pub fn heldout_digits(
    #[wasm_bindgen(unchecked_param_type = "\"mnist\" | \"fashion\" | undefined")] model: JsValue,
) -> Result<JsValue, JsValue> {
    let digits = dataset(&model)?.heldout()?;
    let out = Object::new();
    set(&out, "labels", &Uint8Array::from(&digits.labels[..]));
    set(&out, "pixels", &Uint8Array::from(&digits.pixels[..]));
    Ok(out.into())
}

/// Hands the Fashion-MNIST model's files to this instance (the browser build embeds only
/// MNIST): `files` is `{weights, heldout, mean}`, the bytes of `assets/fashion/*.bin`. Checked,
/// then kept; `DeepInside.create(backend, "fashion")` and `heldoutDigits("fashion")` need it.
#[wasm_bindgen(js_name = loadModel)]
pub fn load_model(
    #[wasm_bindgen(unchecked_param_type = "\"fashion\"")] model: JsValue,
    #[wasm_bindgen(
        unchecked_param_type = "{ weights: Uint8Array, heldout: Uint8Array, mean: Uint8Array }"
    )]
    files: JsValue,
) -> Result<(), JsValue> {
    if dataset(&model)? != Dataset::Fashion {
        return Err(Error::argument("model", "only \"fashion\" is loaded separately").into());
    }
    if !files.is_object() {
        return Err(Error::argument("files", "must be an object {weights, heldout, mean}").into());
    }
    let part = |key: &str| bytes(&format!("files.{key}"), &get(&files, key));
    data::provide_fashion(part("weights")?, part("heldout")?, part("mean")?)?;
    Ok(())
}

/// The names of `model`'s ten classes ("mnist", the default: the digits; "fashion": the
/// kinds of clothing).
#[wasm_bindgen(js_name = classNames)]
pub fn class_names(
    #[wasm_bindgen(unchecked_param_type = "\"mnist\" | \"fashion\" | undefined")] model: JsValue,
) -> Result<Vec<String>, JsValue> {
    Ok(dataset(&model)?
        .classes()
        .iter()
        .map(|s| s.to_string())
        .collect())
}

/// A typed array or plain array of numbers, from JS, as f32: anything else is refused with the
/// argument's name (wasm-bindgen's own slices would throw a TypeError naming nothing).
fn floats(name: &str, v: &JsValue) -> Result<Vec<f32>, Error> {
    if let Some(a) = v.dyn_ref::<Float32Array>() {
        return Ok(a.to_vec());
    }
    if let Some(a) = v.dyn_ref::<js_sys::Float64Array>() {
        return Ok(a.to_vec().into_iter().map(|x| x as f32).collect());
    }
    if let Some(a) = v.dyn_ref::<Array>() {
        return a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_f64()
                    .map(|x| x as f32)
                    .ok_or_else(|| Error::argument(name, format!("element {i} is not a number")))
            })
            .collect();
    }
    Err(Error::argument(
        name,
        "must be a Float32Array or an array of numbers",
    ))
}

/// A string from JS (wasm-bindgen's own `String` parameters trap on objects).
fn text(name: &str, v: &JsValue) -> Result<String, Error> {
    v.as_string()
        .ok_or_else(|| Error::argument(name, format!("must be a string, got {v:?}")))
}

/// A Uint8Array or Uint8ClampedArray from JS.
fn bytes(name: &str, v: &JsValue) -> Result<Vec<u8>, Error> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(a.to_vec());
    }
    if let Some(a) = v.dyn_ref::<js_sys::Uint8ClampedArray>() {
        return Ok(a.to_vec());
    }
    Err(Error::argument(
        name,
        "must be a Uint8Array or Uint8ClampedArray",
    ))
}

/// A JS number that must be a whole number: JS passes anything, and NaN or 2.5 must not be
/// silently truncated to a valid value.
fn whole(name: &str, v: f64) -> Result<i64, Error> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        Ok(v as i64)
    } else {
        Err(Error::argument(
            name,
            format!("must be a whole number, got {v}"),
        ))
    }
}

/// A pixel size: a whole number from 0 to 2¹⁶.
fn size(name: &str, v: f64) -> Result<u32, Error> {
    match whole(name, v)? {
        n @ 0..=65_536 => Ok(n as u32),
        n => Err(Error::argument(
            name,
            format!("must be 0..=65536 pixels, got {n}"),
        )),
    }
}

fn argmax(values: &[f32]) -> usize {
    (0..values.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0)
}

fn prediction(logits: &[f32]) -> Object {
    let probabilities = data::softmax(logits);
    let predicted = argmax(logits);
    let out = Object::new();
    set(
        &out,
        "probabilities",
        &Float32Array::from(&probabilities[..]),
    );
    set(&out, "logits", &Float32Array::from(logits));
    set(&out, "predicted", &JsValue::from(predicted as u32));
    out
}

fn set(object: &Object, key: &str, value: &JsValue) {
    // Setting a plain property on a fresh Object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

/// Reads a tensor back to the host. Always async: a synchronous readback panics on WebGPU.
async fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    let data = t
        .into_data_async()
        .await
        .map_err(|e| Error::backend(format!("readback failed: {e:?}")))?;
    data.try_to_vec::<f32>()
        .map_err(|e| Error::backend(format!("readback: {e:?}")))
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `navigator.gpu`, from a window or a worker; `None` where the browser has no WebGPU.
fn navigator_gpu() -> Option<JsValue> {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    (!gpu.is_undefined() && !gpu.is_null()).then_some(gpu)
}

/// Settles the backend: (device, name, reason).
async fn choose(requested: &str) -> Result<(Device, &'static str, String), Error> {
    match requested {
        "cpu" => Ok((
            backend::cpu(),
            "cpu",
            "the CPU backend was requested".into(),
        )),
        "webgpu" => webgpu(false).await.map(|(d, why)| (d, "webgpu", why)),
        "auto" => match webgpu(true).await {
            Ok((device, why)) => Ok((device, "webgpu", why)),
            Err(why) => Ok((backend::cpu(), "cpu", why.0)),
        },
        other => Err(Error::argument(
            "backend",
            format!("expected \"auto\", \"webgpu\" or \"cpu\", got {other:?}"),
        )),
    }
}

/// Brings up WebGPU. With `hardware_only`, a software (fallback) adapter is refused: it was
/// about 15× slower than the CPU backend here.
#[cfg(feature = "webgpu")]
async fn webgpu(hardware_only: bool) -> Result<(Device, String), Error> {
    let gpu = navigator_gpu().ok_or_else(|| Error("this browser has no WebGPU".into()))?;
    let request: Promise = Reflect::get(&gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call0(&gpu).ok())
        .and_then(|p| p.dyn_into::<Promise>().ok())
        .ok_or_else(|| Error("navigator.gpu.requestAdapter is unavailable".into()))?;
    let adapter = JsFuture::from(request)
        .await
        .map_err(|e| Error(format!("WebGPU adapter request failed: {e:?}")))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(Error("WebGPU has no adapter here".into()));
    }
    let info = get(&adapter, "info");
    let fallback = get(&info, "isFallbackAdapter").is_truthy()
        || get(&adapter, "isFallbackAdapter").is_truthy();
    let describe = format!(
        "{} {}",
        get(&info, "vendor").as_string().unwrap_or_default(),
        get(&info, "architecture").as_string().unwrap_or_default()
    );
    if hardware_only && fallback {
        return Err(Error(format!(
            "the WebGPU adapter ({}) is software, slower than the CPU",
            describe.trim()
        )));
    }
    if let Some(device) = WEBGPU.with(|d| d.borrow().clone()) {
        let how = if fallback { "software" } else { "hardware" };
        return Ok((
            device,
            format!("WebGPU on a {how} adapter ({})", describe.trim()),
        ));
    }
    let slot: Rc<RefCell<Option<Device>>> = Rc::default();
    let filled = slot.clone();
    let bring_up = future_to_promise(async move {
        let device = backend::webgpu().await?;
        // A tiny warm-up: compiles the kernels the forward pass needs, proves the device works.
        let network = Network::from_parameters(weights(Dataset::Mnist)?, &device)?;
        read(network.forward(Tensor::<4>::zeros([1, 1, 28, 28], &device))).await?;
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
    let race = Promise::race(&Array::of2(&bring_up, &timeout));
    match JsFuture::from(race).await {
        Ok(v) if v.is_truthy() => {}
        Ok(_) => {
            return Err(Error(format!(
                "WebGPU did not come up within {WEBGPU_TIMEOUT_MS} ms"
            )));
        }
        Err(e) => {
            let message = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| format!("{e:?}"));
            return Err(Error(format!("WebGPU failed to start: {message}")));
        }
    }
    let device = slot
        .borrow_mut()
        .take()
        .ok_or_else(|| Error("WebGPU device missing after start-up".into()))?;
    WEBGPU.with(|d| *d.borrow_mut() = Some(device.clone()));
    let how = if fallback { "software" } else { "hardware" };
    Ok((
        device,
        format!("WebGPU on a {how} adapter ({})", describe.trim()),
    ))
}

#[cfg(not(feature = "webgpu"))]
async fn webgpu(_hardware_only: bool) -> Result<(Device, String), Error> {
    Err(Error(if navigator_gpu().is_some() {
        "this build has no WebGPU backend".into()
    } else {
        "this browser has no WebGPU".into()
    }))
}
