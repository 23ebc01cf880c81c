//! The wasm-bindgen boundary: the exported `DeepInside` class and free functions. Each export
//! converts its arguments (`interop`), calls the core, and reads the result back
//! asynchronously; no method logic lives here. Every export returns a `Result` (a JS `Error`
//! on bad input, see `interop`), because a Rust panic inside wasm kills the instance for good.
//! `gpu` chooses the backend; `types` holds the TypeScript declarations.

mod evaluation;
pub use evaluation::{evaluation_catalogue, summarise};
mod gpu;
mod interop;
mod marks;
pub use marks::stage_marks;
mod reader;
mod types;

use std::cell::RefCell;
use std::rc::Rc;

use burn::module::Module;
use burn::tensor::Device;
use js_sys::{Float32Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::Error;
use crate::attribution::{self, Baseline, Completeness};
use crate::class_model::{self, Ascent, Options as AscentOptions, Target};
use crate::colormap::{self, Colormap};
use crate::data::{self, Dataset, Shipped};
use crate::faithfulness::{self, Perturbation};
use crate::lrp::{self, Rule, Rules};
use crate::model::import::{self, Format};
use crate::model::{Layer, Model, Network};
use crate::saliency::{self, Method};
use crate::sanity;
use interop::{
    array, bytes, catalogue, f32s, flat, floats, get, number, object, optional_text, read,
    read_all, shape, size, strings, text, whole,
};

/// Runs once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    gpu::run_constructors_once();
}

/// Where a model came from: shipped with the page, or a user's file (`loadModel`).
#[derive(Clone, Copy)]
enum Source {
    Shipped(Shipped),
    User,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Shipped(s) => s.name(),
            Source::User => "user",
        }
    }

    /// The data set behind the model's held-out images and mean image; a user's model has none.
    fn dataset(self) -> Option<Dataset> {
        match self {
            Source::Shipped(s) => Some(s.dataset()),
            Source::User => None,
        }
    }
}

/// One network on one device, and what its instance keeps between calls.
struct Inner {
    device: Device,
    source: Source,
    model: Model,
    /// The recommended composite: the layer table's rules, and the sanity check's LRP.
    recommended: Rules,
    /// The sanity check's networks, made on its first use and kept.
    cascade: RefCell<Option<Rc<Vec<Network>>>>,
    /// A user's model as read, on the CPU (the source of `on_cpu` on WebGPU).
    original: Option<Rc<Loaded>>,
    /// The model on the CPU for the metrics, made on their first use on WebGPU.
    on_cpu: RefCell<Option<Rc<Model>>>,
}

impl Inner {
    /// The model on the CPU: the metrics read maps back synchronously, which only the CPU
    /// backend can (a WebGPU buffer is read asynchronously). On WebGPU a copy is made from the
    /// model's files on first use and kept.
    fn on_cpu(&self, backend: &str) -> Result<Rc<Model>, Error> {
        if let Some(m) = self.on_cpu.borrow().as_ref() {
            return Ok(m.clone());
        }
        let model = match (self.source, &self.original) {
            _ if backend == "cpu" => self.model.clone(),
            (Source::Shipped(s), _) => s.load(&crate::backend::cpu())?,
            (Source::User, Some(original)) => original.model.clone(),
            (Source::User, None) => return Err(Error::backend("the user's model has no CPU copy")),
        };
        let model = Rc::new(model);
        *self.on_cpu.borrow_mut() = Some(model.clone());
        Ok(model)
    }

    fn cascade(&self) -> Result<Rc<Vec<Network>>, Error> {
        if let Some(c) = self.cascade.borrow().as_ref() {
            return Ok(c.clone());
        }
        let c = Rc::new(sanity::cascade(&self.model.network, sanity::SEED)?);
        *self.cascade.borrow_mut() = Some(c.clone());
        Ok(c)
    }
}

/// A model on one backend. Make it with `DeepInside.create(backend, model)`.
#[wasm_bindgen]
pub struct DeepInside {
    inner: Rc<Inner>,
    backend: &'static str,
    reason: String,
}

impl DeepInside {
    /// The Rust side of `create`.
    pub async fn open(backend: &str, model: Shipped) -> Result<DeepInside, Error> {
        gpu::run_constructors_once();
        // The files first: a model not provided yet fails before a device is brought up.
        let files = model.files()?;
        let choice = gpu::choose(backend).await?;
        let loaded = Model::load(files.config, files.weights, &choice.device)?;
        Self::with(choice, Source::Shipped(model), loaded, None)
    }

    /// The Rust side of `create` for a user's model (from `loadModel`).
    pub async fn open_user(backend: &str, model: &UserModel) -> Result<DeepInside, Error> {
        let loaded = model.loaded()?;
        Self::open_loaded(backend, loaded).await
    }

    async fn open_loaded(backend: &str, loaded: Rc<Loaded>) -> Result<DeepInside, Error> {
        gpu::run_constructors_once();
        let cpu = &loaded.model;
        let choice = gpu::choose(backend).await?;
        let on_device = Model {
            config: cpu.config.clone(),
            table: cpu.table.clone(),
            network: cpu.network.clone().to_device(&choice.device),
        };
        Self::with(choice, Source::User, on_device, Some(loaded))
    }

    fn with(
        choice: gpu::Choice,
        source: Source,
        loaded: Model,
        original: Option<Rc<Loaded>>,
    ) -> Result<DeepInside, Error> {
        let recommended = Rules::preset("recommended", &loaded)?;
        Ok(DeepInside {
            inner: Rc::new(Inner {
                device: choice.device,
                source,
                model: loaded,
                recommended,
                cascade: RefCell::default(),
                original,
                on_cpu: RefCell::default(),
            }),
            backend: choice.name,
            reason: choice.reason,
        })
    }

    /// Runs `work` with the checked `input` and turns its result into a promise; a bad input
    /// rejects it.
    fn spawn<T: 'static, F>(
        &self,
        input: Result<T, Error>,
        work: impl FnOnce(Rc<Inner>, T) -> F + 'static,
    ) -> Promise
    where
        F: std::future::Future<Output = Result<JsValue, Error>> + 'static,
    {
        let inner = self.inner.clone();
        marks::mark("di:converted");
        future_to_promise(async move {
            let value = work(inner, input?).await?;
            marks::mark("di:result");
            Ok(value)
        })
    }

    /// One image for this model: `c·h·w` finite values.
    fn pixels(&self, v: &JsValue) -> Result<Vec<f32>, Error> {
        let pixels = floats("pixels", v)?;
        data::check_image("pixels", &pixels, self.inner.model.input())?;
        Ok(pixels)
    }

    fn class(&self, class: f64) -> Result<usize, Error> {
        self.inner
            .model
            .check_class("class", whole("class", class)?)
    }

    fn maps(&self, pixels: JsValue, class: f64, method: JsValue, magnitude: bool) -> Promise {
        let input = self.pixels(&pixels).and_then(|p| {
            let method = Method::parse(&text("method", &method)?)?;
            Ok((p, self.class(class)?, method))
        });
        self.spawn(input, move |inner, (pixels, class, method)| async move {
            let net = &inner.model.network;
            let x = inner.model.image(&pixels, &inner.device)?;
            marks::mark("di:uploaded");
            let map = if magnitude {
                saliency::saliency(net, x, class, method)?
            } else {
                saliency::signed(net, &net.trace(x), class, method)?
            };
            Ok(f32s(&read(map).await?))
        })
    }
}

#[wasm_bindgen]
impl DeepInside {
    /// Picks a backend and loads a model onto it.
    /// `backend`: "auto" (WebGPU only on a hardware adapter that comes up in time, else the
    /// CPU), "webgpu" (forced; rejects when unavailable) or "cpu".
    /// `model`: a name from `models()`: "mnist" (the default, embedded), "mnist-deep" or
    /// "fashion" (these two after `provideModel`); or a `UserModel` from `loadModel`.
    #[wasm_bindgen(unchecked_return_type = "Promise<DeepInside>")]
    pub fn create(
        #[wasm_bindgen(unchecked_param_type = "\"auto\" | \"webgpu\" | \"cpu\"")] backend: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ModelName | UserModel | undefined")] model: JsValue,
    ) -> Promise {
        let input = text("backend", &backend).and_then(|b| {
            let user = UserModel::from_js(&model)?;
            let shipped = if user.is_some() {
                Shipped::Mnist
            } else {
                shipped(&model)?
            };
            Ok((b, user, shipped))
        });
        future_to_promise(async move {
            let (backend, user, shipped) = input?;
            let di = match user {
                Some(user) => DeepInside::open_loaded(&backend, user).await?,
                None => DeepInside::open(&backend, shipped).await?,
            };
            Ok(di.into())
        })
    }

    /// The model in use: "mnist", "mnist-deep", "fashion", or "user" for a `UserModel`.
    #[wasm_bindgen(getter, unchecked_return_type = "ModelName | \"user\"")]
    pub fn model(&self) -> String {
        self.inner.source.name().into()
    }

    /// The backend in use: "cpu" or "webgpu".
    #[wasm_bindgen(getter, unchecked_return_type = "\"cpu\" | \"webgpu\"")]
    pub fn backend(&self) -> String {
        self.backend.into()
    }

    /// Why this backend was chosen, in words for the page.
    #[wasm_bindgen(getter)]
    pub fn reason(&self) -> String {
        self.reason.clone()
    }

    /// The model's layers, from the input side, as its architecture declares them (batch norm
    /// and dropout included): name, kind, shapes, parameter count, and for conv and linear
    /// layers (`weighted`) the recommended composite's rule.
    #[wasm_bindgen(getter, unchecked_return_type = "LayerInfo[]")]
    pub fn layers(&self) -> JsValue {
        layer_table(&self.inner.model, &self.inner.recommended)
    }

    /// `[channels, height, width]` of one input image.
    #[wasm_bindgen(getter, unchecked_return_type = "[number, number, number]")]
    pub fn input(&self) -> JsValue {
        shape(self.inner.model.input())
    }

    /// The names of the classes, in output order.
    #[wasm_bindgen(getter, js_name = classNames)]
    pub fn class_names(&self) -> Vec<String> {
        self.inner.model.class_names()
    }

    /// The sanity check's stages: "trained", then the weighted layers re-initialised in turn
    /// from the top (each stage keeps the layers above it random).
    #[wasm_bindgen(getter, js_name = sanityStages)]
    pub fn sanity_stages(&self) -> Vec<String> {
        sanity::stages(&self.inner.model)
    }

    /// The rule text `preset` gives each weighted layer, from the input side.
    #[wasm_bindgen(js_name = presetRules)]
    pub fn preset_rules(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] preset: JsValue,
    ) -> Result<Vec<String>, Error> {
        let rules = Rules::preset(&text("preset", &preset)?, &self.inner.model)
            .map_err(|e| e.renamed("composite", "preset"))?;
        Ok(rules.layers.iter().map(Rule::name).collect())
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
                object([
                    ("allocations", number(u.number_allocs as usize)),
                    ("bytesInUse", (u.bytes_in_use as f64).into()),
                    ("bytesReserved", (u.bytes_reserved as f64).into()),
                ])
            })
    }

    /// Runs the common calls (predict, the gradient map, `explain` and LRP with the recommended
    /// composite) `rounds` times (1..=1000, default 50) on a fixed image and drops the results,
    /// so that a user's first calls do not wait on code still being compiled. Chromium first
    /// runs wasm through a baseline compiler and optimises each function only once it is hot,
    /// on a background thread; until then a call can take 10–50× its usual time
    /// (BENCHMARKS.md, "Where a call's time goes"). The page's worker calls it, a few rounds at
    /// a time, while it has nothing else to do.
    #[wasm_bindgen(js_name = warmUp, unchecked_return_type = "Promise<void>")]
    pub fn warm_up(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | undefined")] rounds: JsValue,
    ) -> Promise {
        let rounds = if rounds.is_undefined() {
            Ok(50)
        } else {
            rounds
                .as_f64()
                .ok_or_else(|| Error::argument("rounds", "must be a number"))
                .and_then(|n| whole("rounds", n))
                .and_then(|n| match n {
                    1..=1000 => Ok(n as usize),
                    _ => Err(Error::argument(
                        "rounds",
                        format!("must be 1..=1000, got {n}"),
                    )),
                })
        };
        let me = DeepInside {
            inner: self.inner.clone(),
            backend: self.backend,
            reason: String::new(),
        };
        future_to_promise(async move {
            let n: usize = me.inner.model.input().iter().product();
            let image =
                Float32Array::from(&(0..n).map(|i| (i % 17) as f32 / 16.0).collect::<Vec<_>>()[..]);
            for _ in 0..rounds? {
                let x = || JsValue::from(image.clone());
                for call in [
                    me.predict(x()),
                    me.signed_saliency(x(), 0.0, "gradient".into()),
                    me.explain(x(), -1.0),
                    me.relevance(x(), 0.0, "recommended".into(), JsValue::UNDEFINED),
                ] {
                    JsFuture::from(call).await?;
                }
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The probabilities and scores for one image (`input` values, intensities).
    #[wasm_bindgen(unchecked_return_type = "Promise<Prediction>")]
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
    ) -> Promise {
        self.spawn(self.pixels(&pixels), |inner, pixels| async move {
            let x = inner.model.image(&pixels, &inner.device)?;
            marks::mark("di:uploaded");
            Ok(interop::prediction(
                &read(inner.model.network.forward(x)).await?,
            ))
        })
    }

    /// The paper's saliency map `max_channel |∂S_c/∂x|` (height × width values) for any class,
    /// by `method`: "gradient", "deconvnet" or "guided" (the same walk, another ReLU rule).
    #[wasm_bindgen(unchecked_return_type = "Promise<Float32Array>")]
    pub fn saliency(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "\"gradient\" | \"deconvnet\" | \"guided\"")] method: JsValue,
    ) -> Promise {
        self.maps(pixels, class, method, true)
    }

    /// The signed map behind `saliency` (channels × height × width values): for "gradient",
    /// `∂S_c/∂x` itself.
    #[wasm_bindgen(js_name = signedSaliency, unchecked_return_type = "Promise<Float32Array>")]
    pub fn signed_saliency(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "\"gradient\" | \"deconvnet\" | \"guided\"")] method: JsValue,
    ) -> Promise {
        self.maps(pixels, class, method, false)
    }

    /// Everything the page shows first for one image, from one forward pass and two
    /// readbacks: the prediction, the signed maps of the three methods and gradient × input
    /// for `class` (-1: the predicted class).
    #[wasm_bindgen(unchecked_return_type = "Promise<Explanation>")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
    ) -> Promise {
        let input = self.pixels(&pixels).and_then(|p| {
            let class = if class == -1.0 {
                None
            } else {
                Some(self.class(class)?)
            };
            Ok((p, class))
        });
        self.spawn(input, |inner, (pixels, class)| async move {
            let net = &inner.model.network;
            let acts = net.trace(inner.model.image(&pixels, &inner.device)?);
            let logits = read(acts[acts.len() - 1].clone()).await?;
            let class = class.unwrap_or_else(|| interop::argmax(&logits));
            let mut maps = Method::ALL
                .into_iter()
                .map(|m| saliency::signed(net, &acts, class, m).map(flat))
                .collect::<Result<Vec<_>, _>>()?;
            maps.push(flat(attribution::gradient_times_input(net, &acts, class)?));
            let maps = read_all(maps).await?;
            let out = interop::prediction(&logits);
            interop::set(&out, "class", &number(class));
            let names = Method::ALL.map(Method::name);
            for (name, map) in names.iter().chain(&["gradientInput"]).zip(&maps) {
                interop::set(&out, name, &f32s(map));
            }
            Ok(out)
        })
    }

    /// SmoothGrad for `class`: the mean gradient over noisy copies of the image, run as one
    /// batch (channels × height × width signed values). `options`: samples (1..=256, default
    /// 32), sigma (fraction of the pixel range, default 0.15), seed.
    #[wasm_bindgen(js_name = smoothGrad, unchecked_return_type = "Promise<Float32Array>")]
    pub fn smooth_grad(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "SmoothGradOptions | undefined")] options: JsValue,
    ) -> Promise {
        let input = self
            .pixels(&pixels)
            .and_then(|p| Ok((p, self.class(class)?, interop::smoothing(&options)?)));
        self.spawn(input, |inner, (pixels, class, smoothing)| async move {
            let net = &inner.model.network;
            let map = attribution::smooth_grad(net, &pixels, class, &smoothing, &inner.device)?;
            Ok(f32s(&read(map).await?))
        })
    }

    /// Integrated Gradients for `class`, with its completeness check. `options`: steps
    /// (1..=254 path points, default 32), baseline ("black", default, or "mean": the training
    /// set's mean image).
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
        let input = self.pixels(&pixels).and_then(|p| {
            let (steps, baseline) = interop::integration(&options)?;
            Ok((p, self.class(class)?, steps, baseline))
        });
        self.spawn(
            input,
            |inner, (pixels, class, steps, baseline)| async move {
                let base = match baseline {
                    Baseline::Black => vec![0.0; pixels.len()],
                    Baseline::Mean => {
                        class_model::dataset(inner.source.dataset(), "options.baseline")?.mean()?
                    }
                };
                let net = &inner.model.network;
                let ig = attribution::integrated_gradients(
                    net,
                    &pixels,
                    &base,
                    class,
                    steps,
                    &inner.device,
                )
                .map_err(interop::in_options(&["steps"]))?;
                let [map, scores] = <[Vec<f32>; 2]>::try_from(
                    read_all(vec![flat(ig.attribution), flat(ig.scores)]).await?,
                )
                .map_err(|_| Error::backend("readback: wrong number of parts"))?;
                let check = Completeness::new(&map, &scores, class);
                Ok(object([
                    ("map", f32s(&map)),
                    ("total", check.total.into()),
                    ("difference", check.difference.into()),
                    ("error", check.relative_error.into()),
                ]))
            },
        )
    }

    /// Deletion and insertion curves of each map in `maps` (an object: name → height × width
    /// values, ranked highest first; at most 16), plus a seeded random order as the baseline,
    /// with their AUCs. `options`: k (pixels per step, default 16), seed.
    #[wasm_bindgen(unchecked_return_type = "Promise<Faithfulness>")]
    pub fn faithfulness(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "Record<string, Float32Array | number[]>")]
        maps: JsValue,
        #[wasm_bindgen(unchecked_param_type = "FaithfulnessOptions | undefined")] options: JsValue,
    ) -> Promise {
        let [_, h, w] = self.inner.model.input();
        let input = self.pixels(&pixels).and_then(|p| {
            let curves = interop::curves(&maps, &options, [h, w])?;
            Ok((p, self.class(class)?, curves))
        });
        self.spawn(
            input,
            move |inner, (pixels, class, interop::Curves { k, names, rankings })| async move {
                let curves = Perturbation::ALL
                    .into_iter()
                    .map(|perturbation| {
                        faithfulness::curves(
                            &inner.model.network,
                            &pixels,
                            class,
                            &rankings,
                            k,
                            perturbation,
                            &inner.device,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let values = read_all(curves).await?;
                let n = faithfulness::points(h * w, k);
                let curves = names.iter().enumerate().map(|(i, name)| {
                    let out = object([("name", name.as_str().into())]);
                    for (perturbation, values) in Perturbation::ALL.iter().zip(&values) {
                        let curve = values.get(i * n..(i + 1) * n).unwrap_or(&[]);
                        interop::set(&out, perturbation.name(), &f32s(curve));
                        let auc = faithfulness::auc(curve);
                        interop::set(&out, &format!("{}Auc", perturbation.name()), &auc.into());
                    }
                    out
                });
                Ok(object([("k", number(k)), ("curves", array(curves))]))
            },
        )
    }

    /// The model-randomisation sanity check for `class`: the signed maps of every method of
    /// `sanity::METHODS` (LRP with the recommended composite) at every stage of
    /// `sanityStages`, each with its Spearman correlation to the trained network's map. One
    /// readback.
    #[wasm_bindgen(unchecked_return_type = "Promise<Sanity>")]
    pub fn sanity(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
    ) -> Promise {
        let input = self
            .pixels(&pixels)
            .and_then(|p| Ok((p, self.class(class)?)));
        self.spawn(input, |inner, (pixels, class)| async move {
            let x = inner.model.image(&pixels, &inner.device)?;
            let stages = inner.cascade()?;
            let maps = sanity::maps(&stages, x, class, &inner.recommended)?;
            let [_, _, h, w] = maps.dims();
            let all = read(maps).await?;
            let map = |stage: usize, m: usize| {
                let at = (stage * sanity::METHODS.len() + m) * h * w;
                all.get(at..at + h * w).unwrap_or(&[])
            };
            let mut methods = Vec::with_capacity(sanity::METHODS.len());
            for (m, name) in sanity::METHODS.iter().enumerate() {
                let rhos = (0..stages.len())
                    .map(|s| sanity::spearman(map(0, m), map(s, m)).map(JsValue::from))
                    .collect::<Result<Vec<_>, _>>()?;
                methods.push(object([
                    ("name", (*name).into()),
                    ("maps", array((0..stages.len()).map(|s| f32s(map(s, m))))),
                    ("spearman", array(rhos)),
                ]));
            }
            Ok(object([
                ("stages", strings(&sanity::stages(&inner.model))),
                ("methods", array(methods)),
            ]))
        })
    }

    /// LRP for `class`: the relevance entering each conv and linear layer (the first: the
    /// pixels), summed over channels at the layer's input resolution (a dense layer after a
    /// flatten: the flattened map's), per channel, and `Σ R` per layer; with `S_c(x)`.
    /// `composite`: a preset of `presets()`, or one rule text per weighted layer
    /// (`"epsilon(0.1)"`, `"zbox"`, …; see `rules()`). `pool`: "max" (winner takes all,
    /// default) or "proportional". One readback.
    #[wasm_bindgen(unchecked_return_type = "Promise<RelevanceResult>")]
    pub fn relevance(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] composite: JsValue,
        #[wasm_bindgen(unchecked_param_type = "\"max\" | \"proportional\" | undefined")]
        pool: JsValue,
    ) -> Promise {
        let input = self.pixels(&pixels).and_then(|p| {
            Ok((
                p,
                self.class(class)?,
                interop::composite(&composite, &pool, &self.inner.model)?,
            ))
        });
        self.spawn(input, |inner, (pixels, class, rules)| async move {
            let model = &inner.model;
            let x = model.image(&pixels, &inner.device)?;
            let r = lrp::relevance(&model.network, x, class, &rules)?;
            let dims: Vec<[usize; 4]> = r.layers.iter().map(|l| l.full.dims()).collect();
            let mut tensors = vec![flat(r.scores)];
            for l in r.layers {
                tensors.push(lrp::totals(l.full.clone()));
                tensors.push(flat(l.map));
                tensors.push(flat(l.full));
            }
            let mut values = read_all(tensors).await?.into_iter();
            let scores = values.next().unwrap_or_default();
            let layers = model
                .weighted()
                .into_iter()
                .zip(dims)
                .map(|(info, [_, c, h, w])| {
                    let mut next = || values.next().unwrap_or_default();
                    let (total, map, full) = (next(), next(), next());
                    object([
                        ("name", info.name.as_str().into()),
                        ("kind", info.kind.name().into()),
                        ("width", number(w)),
                        ("height", number(h)),
                        ("channels", number(c)),
                        ("map", f32s(&map)),
                        ("perChannel", f32s(&full)),
                        ("total", total.first().copied().unwrap_or(f32::NAN).into()),
                    ])
                });
            Ok(object([
                ("class", number(class)),
                (
                    "score",
                    scores.get(class).copied().unwrap_or(f32::NAN).into(),
                ),
                ("layers", array(layers.collect::<Vec<_>>())),
            ]))
        })
    }

    /// The weights of every conv and linear layer of the explained network (batch norm merged
    /// in), for another framework to rebuild the same network: `[{name, shape, values}]`, conv
    /// weights `[out, in, kh, kw]`, dense weights `[in, out]`. The TF.js benchmark reads them.
    #[wasm_bindgen(unchecked_return_type = "Promise<Weight[]>")]
    pub fn weights(&self) -> Promise {
        self.spawn(Ok(()), |inner, ()| async move {
            let model = &inner.model;
            let (mut names, mut shapes, mut tensors) = (Vec::new(), Vec::new(), Vec::new());
            for (info, i) in model.weighted().into_iter().zip(model.network.weighted()) {
                let (weight, bias) = match &model.network.layers[i] {
                    Layer::Conv(conv) => (
                        (conv.weight.dims().to_vec(), flat(conv.weight.val())),
                        conv.bias.as_ref().map(|b| b.val()),
                    ),
                    Layer::Linear(linear) => (
                        (linear.weight.dims().to_vec(), flat(linear.weight.val())),
                        linear.bias.as_ref().map(|b| b.val()),
                    ),
                    _ => continue,
                };
                names.push(format!("{}.weight", info.name));
                shapes.push(weight.0);
                tensors.push(weight.1);
                if let Some(bias) = bias {
                    names.push(format!("{}.bias", info.name));
                    shapes.push(bias.dims().to_vec());
                    tensors.push(bias);
                }
            }
            let values = read_all(tensors).await?;
            Ok(array(names.into_iter().zip(shapes).zip(values).map(
                |((name, shape), values)| {
                    object([
                        ("name", name.into()),
                        ("shape", array(shape.into_iter().map(number))),
                        ("values", f32s(&values)),
                    ])
                },
            )))
        })
    }

    /// Starts a class model visualisation (gradient ascent on the input) for `class`.
    /// `options` (all optional): preset (a name of `classModelPresets()`: "readable", the
    /// default, or "paper"; the fields below override it), objective ("score" |
    /// "log_prob"), lambda, step (α), start ("noise" | "mean" | "dataset"), index (held-out
    /// image for "dataset"), seed, clip, jitter (pixels), blurEvery (steps), totalVariation,
    /// scale (±, relative), rotate (± degrees), fourier (1/f exponent, 0: pixels), sigmoid,
    /// adam, restarts, images (per unit), diversity.
    ///
    /// ```js
    /// const run = api.classModel(8, { preset: "readable" });
    /// const { image, probability } = await run.step(200);
    /// ```
    #[wasm_bindgen(js_name = classModel)]
    pub fn class_model(
        &self,
        class: f64,
        #[wasm_bindgen(unchecked_param_type = "ClassModelOptions | undefined")] options: JsValue,
    ) -> Result<ClassModel, Error> {
        let class = self.class(class)?;
        self.ascent(Target::class(class), &options)
    }

    /// Starts the visualisation of one unit of a hidden layer (activation maximisation, Erhan
    /// et al. 2009; Olah et al. 2017, <https://distill.pub/2017/feature-visualization/>):
    /// channel `unit` of a conv, pool or ReLU layer (its mean over positions, or with
    /// `options.at = "centre"` its centre position), or unit `unit` of a dense layer. `layer`
    /// is a name from `layers`; options as `classModel`.
    #[wasm_bindgen(js_name = unitModel)]
    pub fn unit_model(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] layer: JsValue,
        unit: f64,
        #[wasm_bindgen(unchecked_param_type = "ClassModelOptions | undefined")] options: JsValue,
    ) -> Result<ClassModel, Error> {
        let unit = whole("unit", unit)?;
        if unit < 0 {
            return Err(Error::argument("unit", format!("must be ≥ 0, got {unit}")));
        }
        let layer = interop::text("layer", &layer)?;
        let at = interop::at(&options)?;
        let target = Target::layer(&self.inner.model, &layer, Some(vec![unit as usize]), at)?;
        self.ascent(target, &options)
    }

    /// Starts a layer atlas: every channel (or unit) of `layer` visualised at once, one image
    /// each, in one batch; `step` resolves to all of them. Options as `unitModel`.
    #[wasm_bindgen(js_name = layerAtlas)]
    pub fn layer_atlas(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] layer: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ClassModelOptions | undefined")] options: JsValue,
    ) -> Result<ClassModel, Error> {
        let layer = interop::text("layer", &layer)?;
        let at = interop::at(&options)?;
        let target = Target::layer(&self.inner.model, &layer, None, at)?;
        self.ascent(target, &options)
    }

    fn ascent(&self, target: Target, options: &JsValue) -> Result<ClassModel, Error> {
        let options = interop::ascent(options, self.inner.source.dataset())?;
        let model = &self.inner.model;
        let class = target.layer.is_none().then(|| target.units[0]);
        let ascent = Ascent::of(model, target, options, &self.inner.device)
            .map_err(interop::in_options(interop::ASCENT_OPTIONS))?;
        Ok(ClassModel {
            ascent: Rc::new(RefCell::new(ascent)),
            class,
        })
    }
}

/// A running class model, unit visualisation or layer atlas; `step(n)` advances it.
#[wasm_bindgen]
pub struct ClassModel {
    ascent: Rc<RefCell<Ascent>>,
    /// The class of a class model.
    class: Option<usize>,
}

#[wasm_bindgen]
impl ClassModel {
    /// Takes `n` (0..=10000) ascent steps; resolves to the first image (`image`), its
    /// objective, its activation (the unit's value; S_c for a class model) and, for a class
    /// model, S_c and p(c); every image of the batch in `images` (an atlas: one per unit) with
    /// its `objectives` and `activations`; and the step count.
    #[wasm_bindgen(unchecked_return_type = "Promise<ClassModelState>")]
    pub fn step(&self, n: f64) -> Promise {
        let ascent = self.ascent.clone();
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
            let [rows, c, h, w] = state.x.dims();
            let parts = read_all(vec![
                flat(state.x),
                flat(state.scores),
                state.activation,
                state.objective,
            ])
            .await?;
            let [x, scores, activation, objective] = <[Vec<f32>; 4]>::try_from(parts)
                .map_err(|_| Error::backend("readback: wrong number of parts"))?;
            let one = c * h * w;
            let classes = scores.len() / rows.max(1);
            let first = &scores[..classes.min(scores.len())];
            let at = |v: &[f32]| class.and_then(|c| v.get(c).copied()).unwrap_or(f32::NAN);
            Ok(object([
                ("objective", objective[0].into()),
                ("activation", activation[0].into()),
                ("score", at(first).into()),
                ("probability", at(&data::softmax(first)).into()),
                ("steps", number(state.steps)),
                ("image", f32s(&x[..one])),
                ("images", array(x.chunks_exact(one).map(f32s))),
                ("objectives", f32s(&objective)),
                ("activations", f32s(&activation)),
            ]))
        })
    }
}

/// The layer table the page shows: name, kind, shapes, parameters, and for conv and linear
/// layers the rule `rules` gives them.
fn layer_table(model: &Model, rules: &Rules) -> JsValue {
    let mut rules = rules.layers.iter();
    array(model.table.iter().map(|l| {
        let weighted = l.kind.is_weighted();
        let rule = if weighted { rules.next() } else { None };
        object([
            ("name", l.name.as_str().into()),
            ("kind", l.kind.name().into()),
            ("input", shape(l.input)),
            ("output", shape(l.output)),
            ("parameters", number(l.parameters)),
            ("weighted", weighted.into()),
            ("rule", rule.map_or(JsValue::NULL, |r| r.name().into())),
        ])
    }))
}

/// A user's model read by `loadModel`, kept until its handle is freed.
struct Loaded {
    model: Model,
    format: Format,
    notes: Vec<String>,
    recommended: Rules,
}

thread_local! {
    /// The user's models by handle id. A handle holds only its id, so that `create` can take
    /// it from JS without consuming it.
    static USER_MODELS: RefCell<(u32, std::collections::HashMap<u32, Rc<Loaded>>)> =
        RefCell::default();
}

/// A model from a user's file (ONNX, or the safetensors file of `scripts/export_pytorch.py`),
/// parsed and checked, in this instance's memory only. `DeepInside.create(backend, model)`
/// puts it on a backend; `free()` lets it go.
#[wasm_bindgen]
pub struct UserModel {
    id: u32,
}

impl Drop for UserModel {
    fn drop(&mut self) {
        USER_MODELS.with(|m| m.borrow_mut().1.remove(&self.id));
    }
}

/// The user's model with handle `id`.
fn loaded(id: u32) -> Result<Rc<Loaded>, Error> {
    USER_MODELS
        .with(|m| m.borrow().1.get(&id).cloned())
        .ok_or_else(|| Error::argument("model", "this UserModel was freed"))
}

impl UserModel {
    fn loaded(&self) -> Result<Rc<Loaded>, Error> {
        loaded(self.id)
    }

    /// The model behind a JS value: `Some` for a `UserModel`, `None` for a string or
    /// `undefined` (a shipped model), an error for anything else or a freed handle.
    fn from_js(v: &JsValue) -> Result<Option<Rc<Loaded>>, Error> {
        if v.is_undefined() || v.is_null() || v.is_string() {
            return Ok(None);
        }
        let id = Reflect::get(v, &"id".into())
            .ok()
            .and_then(|id| id.as_f64())
            .filter(|id| id.fract() == 0.0 && *id >= 0.0 && *id <= f64::from(u32::MAX))
            .ok_or_else(|| {
                Error::argument(
                    "model",
                    "must be a model name or a UserModel from loadModel",
                )
            })?;
        loaded(id as u32).map(Some)
    }
}

#[wasm_bindgen]
impl UserModel {
    /// The handle's number (how `create` finds the model).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The format the file was read as: "onnx" or "safetensors".
    #[wasm_bindgen(getter, unchecked_return_type = "\"onnx\" | \"safetensors\"")]
    pub fn format(&self) -> Result<String, Error> {
        Ok(self.loaded()?.format.name().into())
    }

    /// The layer table: as `DeepInside.layers`, with the recommended composite's rules.
    #[wasm_bindgen(getter, unchecked_return_type = "LayerInfo[]")]
    pub fn layers(&self) -> Result<JsValue, Error> {
        let loaded = self.loaded()?;
        Ok(layer_table(&loaded.model, &loaded.recommended))
    }

    /// `[channels, height, width]` of one input.
    #[wasm_bindgen(getter, unchecked_return_type = "[number, number, number]")]
    pub fn input(&self) -> Result<JsValue, Error> {
        Ok(shape(self.loaded()?.model.input()))
    }

    /// The class names from the file's metadata, else "0", "1", ….
    #[wasm_bindgen(getter, js_name = classNames)]
    pub fn class_names(&self) -> Result<Vec<String>, Error> {
        Ok(self.loaded()?.model.class_names())
    }

    /// What was changed on the way in, in words (a dropped softmax, ignored class names).
    #[wasm_bindgen(getter)]
    pub fn notes(&self) -> Result<Vec<String>, Error> {
        Ok(self.loaded()?.notes.clone())
    }
}

/// Reads a user's model from the bytes of its file: ONNX (any framework's export of a
/// sequential CNN) or the safetensors file of `scripts/export_pytorch.py`. `options.format`
/// ("onnx" | "safetensors") skips detection; `options.reader` is the URL of the reader module
/// (pkg/reader/deep_inside.js), by default the one beside this package, imported on the first
/// call. The file is checked before anything large is allocated (at most 100 MB, 20 M
/// parameters, 1 or 3 input channels, 64×64, 1,000 classes); a refused file rejects with a
/// `FileError` or `ArchitectureError` that says why.
///
/// ```js
/// const model = await loadModel(new Uint8Array(await file.arrayBuffer()));
/// const di = await DeepInside.create("auto", model);
/// ```
#[wasm_bindgen(js_name = loadModel)]
pub async fn load_model(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer")] bytes: JsValue,
    #[wasm_bindgen(unchecked_param_type = "LoadOptions | undefined")] options: JsValue,
) -> Result<UserModel, JsValue> {
    let bytes = if bytes.is_instance_of::<js_sys::ArrayBuffer>() {
        Uint8Array::new(&bytes)
    } else {
        bytes
            .dyn_into::<Uint8Array>()
            .map_err(|_| Error::argument("bytes", "must be a Uint8Array or an ArrayBuffer"))?
    };
    let (format, module) = interop::load_options(&options)?;
    // Before the bytes are handed to the reader.
    import::check_size(bytes.length() as usize)?;
    let read = reader::read(module, bytes, format).await?;
    let recommended = Rules::preset("recommended", &read.model)?;
    let loaded = Rc::new(Loaded {
        model: read.model,
        format: read.format,
        notes: read.notes,
        recommended,
    });
    let id = USER_MODELS.with(|m| {
        let mut m = m.borrow_mut();
        m.0 = m.0.wrapping_add(1);
        let id = m.0;
        m.1.insert(id, loaded);
        id
    });
    Ok(UserModel { id })
}

/// The shipped model named by an optional JS string ("mnist" when left out).
fn shipped(v: &JsValue) -> Result<Shipped, Error> {
    optional_text("model", v)?.map_or(Ok(Shipped::Mnist), |name| Shipped::parse(&name))
}

/// What `provideModel` needs for `model`: the key in its `files` object and the file's name in
/// `assets/<model>/` (nothing for an embedded model).
fn files_needed(model: Shipped) -> Vec<(&'static str, &'static str)> {
    if model.embedded() {
        return Vec::new();
    }
    let mut files = vec![("config", "config.json"), ("weights", "weights.bpk")];
    if model.dataset() != Dataset::Mnist {
        files.extend([("heldout", "heldout.bin"), ("mean", "mean.bin")]);
    }
    files
}

/// The shipped models: `{name, title, dataset, embedded, files}`; `files` maps the keys
/// `provideModel` wants to the files' names in `assets/<name>/` (empty for an embedded model).
#[wasm_bindgen(unchecked_return_type = "ModelEntry[]")]
pub fn models() -> JsValue {
    array(Shipped::ALL.into_iter().map(|m| {
        let files = object([]);
        for (key, file) in files_needed(m) {
            interop::set(&files, key, &file.into());
        }
        object([
            ("name", m.name().into()),
            ("title", m.title().into()),
            ("dataset", m.dataset().name().into()),
            ("embedded", m.embedded().into()),
            ("files", files),
        ])
    }))
}

/// What `loadModel` accepts, for a page to check a file before reading it: `{fileBytes,
/// parameters, side, channels, classes, layers}`.
#[wasm_bindgen(unchecked_return_type = "ModelLimits")]
pub fn limits() -> JsValue {
    use crate::model::config::{MAX_CLASSES, MAX_LAYERS, MAX_PARAMETERS, MAX_SIDE};
    object([
        ("fileBytes", number(import::MAX_FILE)),
        ("parameters", number(MAX_PARAMETERS)),
        ("side", number(MAX_SIDE)),
        ("channels", array([1usize, 3].into_iter().map(number))),
        ("classes", number(MAX_CLASSES)),
        ("layers", number(MAX_LAYERS)),
    ])
}

/// The LRP rules a custom composite may name, `{name, description}`; `Rule.parse` syntax
/// also takes parameters: `epsilon(0.1)`, `gamma(0.5)`, `alphabeta(3,2)`, `zbox(-1,1)`.
#[wasm_bindgen(unchecked_return_type = "CatalogueEntry[]")]
pub fn rules() -> JsValue {
    catalogue(&lrp::RULES)
}

/// The LRP composites by name, `{name, description}`.
#[wasm_bindgen(unchecked_return_type = "CatalogueEntry[]")]
pub fn presets() -> JsValue {
    catalogue(&lrp::PRESETS)
}

/// The class model presets by name, `{name, description, options}`: "paper" and "readable",
/// with the settings each stands for (the option fields of `classModel`).
#[wasm_bindgen(js_name = classModelPresets, unchecked_return_type = "ClassModelPreset[]")]
pub fn class_model_presets() -> JsValue {
    array(class_model::PRESETS.iter().map(|(name, description)| {
        let options = AscentOptions::preset(name).unwrap_or_default();
        object([
            ("name", (*name).into()),
            ("description", (*description).into()),
            ("options", interop::ascent_settings(&options)),
        ])
    }))
}

/// Hands a shipped model's files to this instance (the browser build embeds only "mnist"):
/// `files` holds the bytes of `assets/<model>/<file>` under the keys `models()` lists:
/// `{config, weights}` for "mnist-deep", `{config, weights, heldout, mean}` for "fashion".
/// Checked, then kept; `DeepInside.create(backend, model)` and `heldoutDigits(model)` need it.
#[wasm_bindgen(js_name = provideModel)]
pub fn provide_model(
    #[wasm_bindgen(unchecked_param_type = "ModelName")] model: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ModelFiles")] files: JsValue,
) -> Result<(), Error> {
    let model = Shipped::parse(&text("model", &model)?)?;
    if model.embedded() {
        return Err(Error::argument(
            "model",
            format!("{} is embedded in this build", model.name()),
        ));
    }
    if !files.is_object() {
        return Err(Error::argument("files", "must be an object of Uint8Arrays"));
    }
    let part = |key: &str| bytes(&format!("files.{key}"), &get(&files, key));
    let data = match model.dataset() {
        Dataset::Mnist => None,
        Dataset::Fashion => Some((part("heldout")?, part("mean")?)),
    };
    data::provide(model, part("config")?, part("weights")?, data)
}

/// The 1,000 held-out images (100 per class) of `model`'s data set ("mnist", the default),
/// which the shipped models never saw in training.
#[wasm_bindgen(js_name = heldoutDigits, unchecked_return_type = "HeldoutDigits")]
pub fn heldout_digits(
    #[wasm_bindgen(unchecked_param_type = "ModelName | undefined")] model: JsValue,
) -> Result<JsValue, Error> {
    let digits = shipped(&model)?.dataset().heldout()?;
    Ok(object([
        ("labels", Uint8Array::from(&digits.labels[..]).into()),
        ("pixels", Uint8Array::from(&digits.pixels[..]).into()),
    ]))
}

/// Localisation from a saliency map (`width × height`, default 28 × 28): the pixels above
/// `quantile` (0.95 keeps the top 5%), the largest connected component of them, its box.
#[wasm_bindgen(unchecked_return_type = "Localisation")]
pub fn localise(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] map: JsValue,
    quantile: f64,
    width: Option<f64>,
    height: Option<f64>,
) -> Result<JsValue, Error> {
    let map = floats("map", &map)?;
    let side = |name, v: Option<f64>| v.map_or(Ok(data::SIDE), |v| size(name, v));
    let (width, height) = (side("width", width)?, side("height", height)?);
    let l = crate::localise::localise(&map, width, height, quantile)?;
    let mask = |m: &[bool]| -> JsValue {
        Uint8Array::from(&m.iter().map(|&b| u8::from(b)).collect::<Vec<_>>()[..]).into()
    };
    let bbox = l.bbox.map_or(JsValue::NULL, |b| {
        object([
            ("x", number(b.x)),
            ("y", number(b.y)),
            ("width", number(b.width)),
            ("height", number(b.height)),
        ])
    });
    Ok(object([
        ("threshold", l.threshold.into()),
        ("mask", mask(&l.mask)),
        ("component", mask(&l.component)),
        ("box", bbox),
    ]))
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
) -> Result<Vec<u8>, Error> {
    let map = floats("map", &map)?;
    let colormap = Colormap::parse(&text("colormap", &colormap)?)?;
    Ok(colormap.rgba(&map, colour_limit(&map, limit)?))
}

/// RGBA bytes of the image in grey with the map's magnitude laid over it.
#[wasm_bindgen(js_name = overlayRgba)]
pub fn overlay_rgba(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] digit: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] map: JsValue,
    limit: Option<f32>,
) -> Result<Vec<u8>, Error> {
    let (digit, map) = (floats("digit", &digit)?, floats("map", &map)?);
    if digit.len() != map.len() {
        return Err(Error::argument(
            "digit",
            "must have as many values as the map",
        ));
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
    let (width, height) = (size("width", width)?, size("height", height)?);
    if width == 0 || width * height * 4 != rgba.len() {
        return Err(Error::argument("rgba", "must hold width × height × 4 bytes").into());
    }
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&rgba[..]),
        width as u32,
        height as u32,
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
/// to the 28 × 28 intensities of the shipped data sets: cropped, scaled to 20 px and centred
/// by mass.
#[wasm_bindgen(js_name = toMnist)]
pub fn to_mnist(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] gray: JsValue,
    width: f64,
    height: f64,
) -> Result<Float32Array, Error> {
    let gray = floats("gray", &gray)?;
    let out = crate::input::to_mnist(&gray, size("width", width)?, size("height", height)?)?;
    Ok(Float32Array::from(&out[..]))
}

/// Converts an RGBA picture of any size (from a canvas) to the 28 × 28 intensities of the
/// shipped data sets: grey, inverted when the background is light, cropped, scaled and
/// centred by mass. Rejects pictures that are too small, fully transparent or blank.
#[wasm_bindgen(js_name = pictureToMnist)]
pub fn picture_to_mnist(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | Uint8ClampedArray")] rgba: JsValue,
    width: f64,
    height: f64,
) -> Result<Float32Array, Error> {
    let rgba = bytes("rgba", &rgba)?;
    let out =
        crate::input::picture_to_mnist(&rgba, size("width", width)?, size("height", height)?)?;
    Ok(Float32Array::from(&out[..]))
}
