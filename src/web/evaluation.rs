//! The set evaluation's API (`crate::evaluation`): the page evaluates a chunk of images per
//! call, so that it can show progress, stop between chunks and go on later; the summaries and
//! ranks are computed here from the values it gathered.

use js_sys::{Array, Float64Array, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::DeepInside;
use super::interop::{Options, array, floats, get, number, object, set, texts};
use crate::Error;
use crate::evaluation::{Better, Evaluator, Method, Metric, RESAMPLES, Settings, Table, check_set};

/// The most images one `evaluate` call takes: a chunk, not a data set.
pub const MAX_IMAGES: usize = 1000;

/// `options.<key>`: names parsed by `parse`, or `default`.
fn choice<T>(
    options: &JsValue,
    key: &str,
    parse: fn(&str) -> Result<T, Error>,
    default: Vec<T>,
) -> Result<Vec<T>, Error> {
    let name = format!("options.{key}");
    let v = if options.is_object() {
        get(options, key)
    } else {
        JsValue::UNDEFINED
    };
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    let list = v
        .dyn_ref::<Array>()
        .ok_or_else(|| Error::argument(&name, "must be an array of names"))?;
    texts(&name, list)?
        .iter()
        .map(|n| parse(n).map_err(|e| e.renamed(key, &name)))
        .collect()
}

/// Whole numbers, as classes: from any typed array (a `Uint32Array` of labels, say) or an
/// array of numbers.
fn classes(v: &JsValue) -> Result<Vec<usize>, Error> {
    let values: Vec<f64> =
        if js_sys::ArrayBuffer::is_view(v) && !v.is_instance_of::<js_sys::DataView>() {
            Float64Array::new(v).to_vec()
        } else {
            floats("classes", v)?.into_iter().map(f64::from).collect()
        };
    values
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            if c >= 0.0 && c.fract() == 0.0 && c < 1e9 {
                Ok(c as usize)
            } else {
                Err(Error::argument(
                    "classes",
                    format!("element {i} must be a class index, got {c}"),
                ))
            }
        })
        .collect()
}

fn better(b: Better) -> &'static str {
    match b {
        Better::Higher => "higher",
        Better::Lower => "lower",
    }
}

#[wasm_bindgen]
impl DeepInside {
    /// Every metric of every method for each image of `pixels` (`n` images of `c·h·w` values,
    /// one after another; at most 1,000 per call), each explained for its class in `classes`.
    /// `options`: `methods` and `metrics` (names from `evaluationCatalogue()`; default every
    /// method and the cheap metrics), `first` (the index of the first image in the whole set:
    /// it seeds each image's draws, so chunks give what one call would, up to float rounding:
    /// the maps are batched per class), `seed`, and
    /// `onProgress({done, total})`, called after every `chunk` images (default 10); returning
    /// `false` from it stops there, and the result holds the images done.
    /// Resolves to `{methods, metrics, values}`, `values[(image·methods + method)·metrics +
    /// metric]`, NaN where a metric has no value for the image. The metrics run on the CPU
    /// (they read maps back synchronously), also in the WebGPU build.
    ///
    /// ```js
    /// const { values } = await di.evaluate(images, labels, {
    ///   metrics: ["pixelFlipping", "sparseness"],
    ///   onProgress: ({ done, total }) => console.log(`${done}/${total}`),
    /// });
    /// ```
    /// (Quantus: Hedström et al. 2023, <https://jmlr.org/papers/v24/22-0142.html>.)
    #[wasm_bindgen(unchecked_return_type = "Promise<Evaluation>")]
    pub fn evaluate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] pixels: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint32Array | number[]")] classes_: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EvaluationOptions | undefined")] options: JsValue,
    ) -> Promise {
        let backend = self.backend;
        let input = (|| {
            let opts = Options::new(&options)?;
            let methods = choice(&options, "methods", Method::parse, Method::ALL.to_vec())?;
            let metrics = choice(&options, "metrics", Metric::parse, Metric::cheap())?;
            let first = opts.count("first", 0)? as u64;
            let seed = opts.count("seed", 0)? as u64;
            let classes = classes(&classes_)?;
            if classes.is_empty() || classes.len() > MAX_IMAGES {
                return Err(Error::argument(
                    "classes",
                    format!(
                        "one class per image, 1..={MAX_IMAGES} images, got {}",
                        classes.len()
                    ),
                ));
            }
            let pixels = floats("pixels", &pixels)?;
            // The whole set, before it is cut into chunks: errors name an image by its place.
            check_set(&self.inner.model, &pixels, &classes)?;
            let progress = get(&options, "onProgress");
            let progress = match progress.dyn_into::<js_sys::Function>() {
                Ok(f) => Some(f),
                Err(v) if v.is_undefined() || v.is_null() => None,
                Err(_) => return Err(Error::argument("options.onProgress", "must be a function")),
            };
            let chunk = opts.count("chunk", 10)?.max(1);
            let job = Job {
                methods,
                metrics,
                first,
                seed,
                progress,
                chunk,
            };
            Ok((pixels, classes, job))
        })();
        self.spawn(input, move |inner, (pixels, classes, job)| async move {
            let model = inner.on_cpu(backend)?;
            let rules = inner.recommended.clone();
            let settings = Settings {
                seed: job.seed,
                ..Settings::default()
            };
            let evaluator = Evaluator::new(&model, rules, &job.methods, &job.metrics, settings)?;
            let len = model.input_len();
            let total = classes.len();
            let mut table = Table {
                methods: job.methods,
                metrics: job.metrics,
                values: Vec::new(),
            };
            let mut done = 0;
            while done < total {
                let end = (done + job.chunk).min(total);
                let part = evaluator.evaluate(
                    pixels.get(done * len..end * len).unwrap_or(&[]),
                    &classes[done..end],
                    job.first + done as u64,
                )?;
                table.extend(part)?;
                done = end;
                if let Some(f) = &job.progress {
                    let state = object([("done", number(done)), ("total", number(total))]);
                    let answer = f.call1(&JsValue::NULL, &state).map_err(|e| {
                        Error::argument("options.onProgress", format!("threw {e:?}"))
                    })?;
                    // Let the promise jobs the callback queued run before the next chunk.
                    JsFuture::from(Promise::resolve(&JsValue::NULL)).await.ok();
                    if answer == JsValue::FALSE {
                        break;
                    }
                }
            }
            Ok(object([
                ("methods", names(table.methods.iter().map(|m| m.name()))),
                ("metrics", names(table.metrics.iter().map(|m| m.name()))),
                ("values", Float64Array::from(table.values.as_slice()).into()),
            ]))
        })
    }
}

/// What one `evaluate` call does, checked.
struct Job {
    methods: Vec<Method>,
    metrics: Vec<Metric>,
    first: u64,
    seed: u64,
    progress: Option<js_sys::Function>,
    chunk: usize,
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> JsValue {
    array(items.map(JsValue::from_str))
}

/// The methods and metrics `evaluate` knows: `{methods: [{name, title}], metrics: [{name,
/// quantus, group, better, costly, meaning}]}`.
#[wasm_bindgen(js_name = evaluationCatalogue, unchecked_return_type = "EvaluationCatalogue")]
pub fn evaluation_catalogue() -> JsValue {
    let methods = array(
        Method::ALL
            .iter()
            .map(|m| object([("name", m.name().into()), ("title", m.title().into())])),
    );
    let metrics = array(Metric::ALL.iter().map(|m| {
        let a = m.about();
        object([
            ("name", a.name.into()),
            ("quantus", a.quantus.into()),
            ("group", a.group.into()),
            ("better", better(a.better).into()),
            ("costly", a.costly.into()),
            ("meaning", a.meaning.into()),
        ])
    }));
    object([("methods", methods), ("metrics", metrics)])
}

/// Summaries of values gathered by `evaluate` (its chunks' `values` joined): per method, per
/// metric, `{n, mean, low, high, min, q1, median, q3, max}` (a 95 % bootstrap interval of the
/// mean, 1,000 resamples from `seed`; a box plot's five numbers), the methods' rank per metric
/// (1 the best mean; ties share) and their mean rank.
#[wasm_bindgen(unchecked_return_type = "EvaluationSummary")]
pub fn summarise(
    #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] values: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] methods: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] metrics: JsValue,
    seed: Option<f64>,
) -> Result<JsValue, Error> {
    let list = |name: &str, v: &JsValue| -> Result<Vec<String>, Error> {
        let a = v
            .dyn_ref::<Array>()
            .ok_or_else(|| Error::argument(name, "must be an array of names"))?;
        texts(name, a)
    };
    let methods = list("methods", &methods)?
        .iter()
        .map(|m| Method::parse(m))
        .collect::<Result<Vec<_>, _>>()?;
    let metrics = list("metrics", &metrics)?
        .iter()
        .map(|m| Metric::parse(m))
        .collect::<Result<Vec<_>, _>>()?;
    let values: Vec<f64> = match values.dyn_ref::<Float64Array>() {
        Some(a) => a.to_vec(),
        None => floats("values", &values)?
            .into_iter()
            .map(f64::from)
            .collect(),
    };
    let row = methods.len() * metrics.len();
    if row == 0 || values.is_empty() || !values.len().is_multiple_of(row) {
        return Err(Error::argument(
            "values",
            format!(
                "must hold whole images of {} methods × {} metrics, got {} values",
                methods.len(),
                metrics.len(),
                values.len()
            ),
        ));
    }
    let seed = match seed {
        Some(s) if s >= 0.0 && s.fract() == 0.0 => s as u64,
        None => 0,
        Some(s) => {
            return Err(Error::argument(
                "seed",
                format!("must be a whole number ≥ 0, got {s}"),
            ));
        }
    };
    let table = Table {
        methods,
        metrics,
        values,
    };
    let summaries = table.summaries(seed);
    let (ranks, mean_rank) = table.ranks(&summaries);
    let k = table.metrics.len();
    let rows = table.methods.iter().enumerate().map(|(i, method)| {
        let per = JsValue::from(js_sys::Object::new());
        let rank = JsValue::from(js_sys::Object::new());
        for (j, metric) in table.metrics.iter().enumerate() {
            let s = summaries[i * k + j];
            let fields = [
                ("n", number(s.n)),
                ("mean", s.mean.into()),
                ("low", s.low.into()),
                ("high", s.high.into()),
                ("min", s.min.into()),
                ("q1", s.q1.into()),
                ("median", s.median.into()),
                ("q3", s.q3.into()),
                ("max", s.max.into()),
            ];
            set(&per, metric.name(), &object(fields));
            set(&rank, metric.name(), &ranks[i * k + j].into());
        }
        object([
            ("method", method.name().into()),
            ("metrics", per),
            ("ranks", rank),
            ("meanRank", mean_rank[i].into()),
        ])
    });
    Ok(object([
        ("images", number(table.images())),
        ("resamples", number(RESAMPLES)),
        ("methods", array(rows)),
    ]))
}
