//! JS ⇄ Rust: what comes in is checked and converted here, with the argument's name in every
//! error (JS passes anything, and wasm-bindgen's own conversions would throw a `TypeError`
//! that names nothing, or trap); what goes out is built here, as plain JS objects. No method
//! logic: that is the core's, and the exported API (`super`) only wires the two together.

use burn::tensor::Tensor;
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::Error;
use crate::attribution::{Baseline, Smoothing};
use crate::class_model::{self, Objective, Options as AscentOptions};
use crate::data::Dataset;
use crate::faithfulness;
use crate::lrp::Rules;
use crate::model::Model;
use crate::model::import::Format;
use crate::walk::PoolRule;

/// A typed array or plain array of numbers, as f32.
pub fn floats(name: &str, v: &JsValue) -> Result<Vec<f32>, Error> {
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

/// A string (wasm-bindgen's own `String` parameters trap on objects).
pub fn text(name: &str, v: &JsValue) -> Result<String, Error> {
    v.as_string()
        .ok_or_else(|| Error::argument(name, format!("must be a string, got {v:?}")))
}

/// An optional string: `None` for `undefined` and `null`.
pub fn optional_text(name: &str, v: &JsValue) -> Result<Option<String>, Error> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        text(name, v).map(Some)
    }
}

/// A Uint8Array or Uint8ClampedArray.
pub fn bytes(name: &str, v: &JsValue) -> Result<Vec<u8>, Error> {
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

/// A whole number: NaN or 2.5 must not be silently truncated to a valid value.
pub fn whole(name: &str, v: f64) -> Result<i64, Error> {
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
pub fn size(name: &str, v: f64) -> Result<usize, Error> {
    match whole(name, v)? {
        n @ 0..=65_536 => Ok(n as usize),
        n => Err(Error::argument(
            name,
            format!("must be 0..=65536 pixels, got {n}"),
        )),
    }
}

/// An array of strings (a custom composite's rules), each named `name[i]` in errors.
pub fn texts(name: &str, v: &Array) -> Result<Vec<String>, Error> {
    v.iter()
        .enumerate()
        .map(|(i, s)| text(&format!("{name}[{i}]"), &s))
        .collect()
}

/// An options object: every field optional, each named `options.<field>` in errors.
pub struct Options<'a>(&'a JsValue);

impl<'a> Options<'a> {
    /// `options` must be an object, or left out.
    pub fn new(options: &'a JsValue) -> Result<Self, Error> {
        let plain = options.is_object() && !Array::is_array(options) && !options.is_function();
        if options.is_undefined() || options.is_null() || plain {
            Ok(Self(options))
        } else {
            Err(Error::argument("options", "must be an object"))
        }
    }

    /// The field, or `None` when it is left out (`undefined` or `null`).
    fn get(&self, key: &str) -> Option<JsValue> {
        let v = if self.0.is_object() {
            get(self.0, key)
        } else {
            JsValue::UNDEFINED
        };
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }

    pub fn number(&self, key: &str) -> Result<Option<f64>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n.is_finite() => Ok(Some(n)),
                _ => Err(Error::argument(
                    format!("options.{key}"),
                    format!("must be a finite number, got {v:?}"),
                )),
            },
        }
    }

    /// A finite number as f32, else `default`.
    pub fn float(&self, key: &str, default: f32) -> Result<f32, Error> {
        Ok(self.number(key)?.map_or(default, |v| v as f32))
    }

    /// A whole number ≥ 0, else `default`.
    pub fn count(&self, key: &str, default: usize) -> Result<usize, Error> {
        match self.number(key)? {
            None => Ok(default),
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 1e6 => Ok(n as usize),
            Some(n) => Err(Error::argument(
                format!("options.{key}"),
                format!("must be a whole number ≥ 0, got {n}"),
            )),
        }
    }

    pub fn text(&self, key: &str) -> Result<Option<String>, Error> {
        self.get(key)
            .map(|v| text(&format!("options.{key}"), &v))
            .transpose()
    }

    /// `true` or `false`, else `default`.
    pub fn flag_or(&self, key: &str, default: bool) -> Result<bool, Error> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| Error::argument(format!("options.{key}"), "must be true or false")),
        }
    }
}

/// Renames argument errors about option fields `keys` to `options.<key>`: the core names
/// them as its own arguments.
pub fn in_options(keys: &'static [&'static str]) -> impl Fn(Error) -> Error {
    move |e| {
        keys.iter()
            .fold(e, |e, key| e.renamed(key, &format!("options.{key}")))
    }
}

/// An LRP composite: a preset's name or one rule text per weighted layer of `model`; and the
/// max-pool rule, "max" (winner takes all, the default) or "proportional".
pub fn composite(composite: &JsValue, pool: &JsValue, model: &Model) -> Result<Rules, Error> {
    let mut rules = if let Some(name) = composite.as_string() {
        Rules::preset(&name, model)?
    } else if let Some(list) = composite.dyn_ref::<Array>() {
        Rules::custom(&texts("composite", list)?, model)?
    } else {
        return Err(Error::argument(
            "composite",
            "must be a preset name or an array of rule texts, one per conv/linear layer",
        ));
    };
    rules.max_pool = match optional_text("pool", pool)?.as_deref() {
        None | Some("max") => PoolRule::Gradient,
        Some("proportional") => PoolRule::Proportional,
        Some(other) => {
            return Err(Error::argument(
                "pool",
                format!("expected \"max\" or \"proportional\", got {other:?}"),
            ));
        }
    };
    Ok(rules)
}

/// SmoothGrad's options: samples, sigma, seed.
pub fn smoothing(options: &JsValue) -> Result<Smoothing, Error> {
    let o = Options::new(options)?;
    let defaults = Smoothing::default();
    let smoothing = Smoothing {
        samples: o.count("samples", defaults.samples)?,
        sigma: o.float("sigma", defaults.sigma)?,
        seed: o.count("seed", 0)? as u64,
    };
    smoothing
        .check()
        .map_err(in_options(&["samples", "sigma"]))?;
    Ok(smoothing)
}

/// `loadModel`'s options: the format (detected from the bytes when absent), and where the
/// reader module is (beside this package when absent).
pub fn load_options(options: &JsValue) -> Result<(Option<Format>, JsValue), Error> {
    let o = Options::new(options)?;
    let format = o
        .text("format")?
        .map(|f| Format::parse(&f).map_err(|e| e.renamed("format", "options.format")))
        .transpose()?;
    let reader = o.get("reader").unwrap_or(JsValue::UNDEFINED);
    if !(reader.is_undefined() || reader.is_string() || reader.is_function()) {
        return Err(Error::argument(
            "options.reader",
            "must be the reader module's URL or a function that imports it",
        ));
    }
    Ok((format, reader))
}

/// Integrated Gradients' options: the path points (checked by the core) and the baseline.
pub fn integration(options: &JsValue) -> Result<(usize, Baseline), Error> {
    let o = Options::new(options)?;
    let steps = o.count("steps", 32)?;
    let baseline = match o.text("baseline")? {
        None => Baseline::Black,
        Some(b) => Baseline::parse(&b).map_err(in_options(&["baseline"]))?,
    };
    Ok((steps, baseline))
}

/// What the faithfulness curves take: the step `k`, and the maps' names and pixel rankings
/// (each map's highest values first), then a seeded random ranking named "random".
pub struct Curves {
    pub k: usize,
    pub names: Vec<String>,
    pub rankings: Vec<Vec<usize>>,
}

/// `maps` (an object of 1..=16 maps of `h × w` values) and `options` ({k, seed}).
pub fn curves(maps: &JsValue, options: &JsValue, [h, w]: [usize; 2]) -> Result<Curves, Error> {
    let o = Options::new(options)?;
    let k = o.count("k", 16)?;
    faithfulness::check_step(h * w, k).map_err(in_options(&["k"]))?;
    let seed = o.count("seed", 0)? as u64;
    let entries = entries("maps", maps)?;
    if !(1..=16).contains(&entries.len()) {
        return Err(Error::argument(
            "maps",
            format!("must hold 1..=16 maps, got {}", entries.len()),
        ));
    }
    let mut names = Vec::with_capacity(entries.len() + 1);
    let mut rankings = Vec::with_capacity(entries.len() + 1);
    for (name, map) in entries {
        let label = format!("maps.{name}");
        let map = floats(&label, &map)?;
        rankings.push(faithfulness::ranking(&map, [h, w]).map_err(|e| e.renamed("map", &label))?);
        names.push(name);
    }
    names.push("random".into());
    rankings.push(faithfulness::random_ranking(h * w, seed));
    Ok(Curves { k, names, rankings })
}

/// The class model's option fields, as the core names them in errors.
pub const ASCENT_OPTIONS: &[&str] = &[
    "preset",
    "lambda",
    "step",
    "totalVariation",
    "jitter",
    "start",
    "index",
    "scale",
    "rotate",
    "fourier",
    "restarts",
    "images",
    "diversity",
];

/// The class model's options; a "mean" or "dataset" start comes from `dataset`.
pub fn ascent(options: &JsValue, dataset: Option<Dataset>) -> Result<AscentOptions, Error> {
    let o = Options::new(options)?;
    let preset = o.text("preset")?.unwrap_or_else(|| "readable".into());
    let defaults = AscentOptions::preset(&preset).map_err(in_options(ASCENT_OPTIONS))?;
    let objective = match o.text("objective")?.as_deref() {
        None => defaults.objective,
        Some("score") => Objective::Score,
        Some("log_prob") => Objective::LogProb,
        Some(other) => {
            return Err(Error::argument(
                "options.objective",
                format!("expected \"score\" or \"log_prob\", got {other:?}"),
            ));
        }
    };
    let seed = o.count("seed", 0)? as u64;
    let index = o
        .number("index")?
        .map(|i| whole("options.index", i))
        .transpose()?;
    let start = o.text("start")?.unwrap_or_else(|| "noise".into());
    let options = AscentOptions {
        objective,
        lambda: o.float("lambda", defaults.lambda)?,
        step: o.float("step", defaults.step)?,
        start: class_model::start(&start, dataset, index, seed)
            .map_err(in_options(ASCENT_OPTIONS))?,
        seed,
        clip: o.flag_or("clip", defaults.clip)?,
        jitter: o.count("jitter", defaults.jitter)?,
        blur_every: o.count("blurEvery", defaults.blur_every)?,
        total_variation: o.float("totalVariation", defaults.total_variation)?,
        scale: o.float("scale", defaults.scale)?,
        rotate: o.float("rotate", defaults.rotate)?,
        fourier: o.float("fourier", defaults.fourier)?,
        sigmoid: o.flag_or("sigmoid", defaults.sigmoid)?,
        adam: o.flag_or("adam", defaults.adam)?,
        restarts: o.count("restarts", defaults.restarts)?,
        images: o.count("images", defaults.images)?,
        diversity: o.float("diversity", defaults.diversity)?,
    };
    options.check().map_err(in_options(ASCENT_OPTIONS))?;
    Ok(options)
}

/// `options.at`: a channel's "mean" over positions (the default) or its "centre"; true for
/// the centre.
pub fn at(options: &JsValue) -> Result<bool, Error> {
    match Options::new(options)?.text("at")?.as_deref() {
        None | Some("mean") => Ok(false),
        Some("centre") => Ok(true),
        Some(other) => Err(Error::argument(
            "options.at",
            format!("expected \"mean\" or \"centre\", got {other:?}"),
        )),
    }
}

/// A preset's settings under the option names `ascent` reads, so the page can show them.
pub fn ascent_settings(o: &AscentOptions) -> JsValue {
    object([
        (
            "objective",
            match o.objective {
                Objective::Score => "score",
                Objective::LogProb => "log_prob",
            }
            .into(),
        ),
        ("lambda", o.lambda.into()),
        ("step", o.step.into()),
        ("clip", o.clip.into()),
        ("jitter", number(o.jitter)),
        ("blurEvery", number(o.blur_every)),
        ("totalVariation", o.total_variation.into()),
        ("scale", o.scale.into()),
        ("rotate", o.rotate.into()),
        ("fourier", o.fourier.into()),
        ("sigmoid", o.sigmoid.into()),
        ("adam", o.adam.into()),
        ("restarts", number(o.restarts)),
        ("images", number(o.images)),
        ("diversity", o.diversity.into()),
    ])
}

/// The entries of a plain object (`name → value`), in insertion order.
pub fn entries(name: &str, v: &JsValue) -> Result<Vec<(String, JsValue)>, Error> {
    if !v.is_object() || v.is_function() || Array::is_array(v) {
        return Err(Error::argument(name, "must be an object of name → value"));
    }
    Ok(Object::entries(v.unchecked_ref())
        .iter()
        .map(|entry| {
            let entry: Array = entry.unchecked_into();
            (entry.get(0).as_string().unwrap_or_default(), entry.get(1))
        })
        .collect())
}

/// `target[key]`, or `undefined`.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets `object[key]`.
pub fn set(object: &JsValue, key: &str, value: &JsValue) {
    // Setting a plain property on a fresh object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

/// A plain JS object from its fields.
pub fn object<const N: usize>(fields: [(&str, JsValue); N]) -> JsValue {
    let out: JsValue = Object::new().into();
    for (key, value) in fields {
        set(&out, key, &value);
    }
    out
}

/// Values as a fresh `Float32Array`.
pub fn f32s(values: &[f32]) -> JsValue {
    Float32Array::from(values).into()
}

/// A whole number as a JS number (wasm-bindgen turns u64 into a BigInt).
pub fn number(n: usize) -> JsValue {
    JsValue::from(n as f64)
}

/// `[c, h, w]` as a plain array of numbers.
pub fn shape(dims: [usize; 3]) -> JsValue {
    dims.iter().map(|&d| number(d)).collect::<Array>().into()
}

/// Strings as a plain array.
pub fn strings<S: AsRef<str>>(items: &[S]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s.as_ref()))
        .collect::<Array>()
        .into()
}

/// A plain array of JS values.
pub fn array(items: impl IntoIterator<Item = JsValue>) -> JsValue {
    items.into_iter().collect::<Array>().into()
}

/// The index of the largest value (the first of equal ones; 0 for none).
pub fn argmax(values: &[f32]) -> usize {
    (0..values.len())
        .rev()
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0)
}

/// `{probabilities, logits, predicted}` for one image's scores.
pub fn prediction(logits: &[f32]) -> JsValue {
    object([
        ("probabilities", f32s(&crate::data::softmax(logits))),
        ("logits", f32s(logits)),
        ("predicted", number(argmax(logits))),
    ])
}

/// `{name, description}` for each entry of a core catalogue.
pub fn catalogue(entries: &[(&str, &str)]) -> JsValue {
    array(entries.iter().map(|(name, description)| {
        object([
            ("name", (*name).into()),
            ("description", (*description).into()),
        ])
    }))
}

/// Reads a tensor back to the host. Always async: a synchronous readback panics on WebGPU.
pub async fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    // On the CPU the kernels have run by now; WebGPU has only queued them, and runs them in
    // the readback.
    super::marks::mark("di:computed");
    let data = t
        .into_data_async()
        .await
        .map_err(|e| Error::backend(format!("readback failed: {e:?}")))?;
    let values = data
        .try_into_vec::<f32>()
        .map_err(|e| Error::backend(format!("readback: {e:?}")));
    super::marks::mark("di:read");
    values
}

/// A tensor as one flat row of values, `[n]`.
pub fn flat<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    let n = t.shape().num_elements();
    t.reshape([n])
}

/// Reads several flat tensors back with one readback (one GPU → host copy on WebGPU, where
/// each costs a round trip): joined on the device, split again on the host.
pub async fn read_all(tensors: Vec<Tensor<1>>) -> Result<Vec<Vec<f32>>, Error> {
    if tensors.is_empty() {
        return Ok(Vec::new());
    }
    let lengths: Vec<usize> = tensors.iter().map(|t| t.dims()[0]).collect();
    let all = read(Tensor::cat(tensors, 0)).await?;
    let mut rest = all.as_slice();
    Ok(lengths
        .iter()
        .map(|&n| {
            let (head, tail) = rest.split_at(n.min(rest.len()));
            rest = tail;
            head.to_vec()
        })
        .collect())
}
