//! The page's side of the reader package (`crate::reader`, pkg/reader). The ONNX and
//! safetensors readers are a module of their own, imported the first time a user's file is
//! read, so that the first download leaves them out. What the reader returns is the form of a
//! shipped model (the architecture's JSON and burnpack weights), checked here as one is.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use super::interop::{bytes, get, text};
use crate::Error;
use crate::model::import::Format;
use crate::model::{Model, store};

// One instance of the reader per URL (or per import function), initialised once. By default
// the reader is pkg/reader/deep_inside.js beside this package (this snippet is
// pkg/<build>/snippets/<crate>/). A function `() => import('…/reader/deep_inside.js')` lets a
// bundler see the reader and its wasm.
#[wasm_bindgen(inline_js = r#"
const readers = new Map();
export async function readModel(reader, bytes, format) {
  const key = reader ?? new URL('../../../reader/deep_inside.js', import.meta.url).href;
  if (!readers.has(key)) {
    const loading = Promise.resolve()
      .then(() => (typeof key === 'function' ? key() : import(key)))
      .then(async (m) => { await m.default(); return m; });
    readers.set(key, loading);
    loading.catch(() => readers.delete(key));
  }
  let module;
  try {
    module = await readers.get(key);
  } catch (e) {
    const name = typeof key === 'function' ? 'of options.reader' : key;
    throw new Error(`model: the reader module ${name} could not be loaded (${e?.message ?? e})`);
  }
  return module.readModel(bytes, format);
}
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = readModel)]
    async fn read_model(
        reader: JsValue,
        bytes: Uint8Array,
        format: Option<String>,
    ) -> Result<JsValue, JsValue>;
}

/// A user's model read from its file, checked.
pub struct Read {
    pub model: Model,
    pub format: Format,
    pub notes: Vec<String>,
}

/// Reads `file` with the reader module `reader` (a URL, a function that imports it, or
/// `undefined`: beside this package). The reader's own errors (`FileError`,
/// `ArchitectureError`) pass through unchanged.
pub async fn read(
    reader: JsValue,
    file: Uint8Array,
    format: Option<Format>,
) -> Result<Read, JsValue> {
    let out = read_model(reader, file, format.map(|f| f.name().to_string())).await?;
    let config = store::config_from_json(text("config", &get(&out, "config"))?.as_bytes())?;
    let weights = bytes("weights", &get(&out, "weights"))?;
    let network = store::load(&config, &weights, &crate::backend::cpu())?;
    let notes = get(&out, "notes")
        .dyn_into::<Array>()
        .map_err(|_| Error::file("model", "the reader returned no notes"))?
        .iter()
        .map(|n| text("notes", &n))
        .collect::<Result<_, _>>()?;
    Ok(Read {
        model: Model::new(config, &network)?,
        format: Format::parse(&text("format", &get(&out, "format"))?)?,
        notes,
    })
}
