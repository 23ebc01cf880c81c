//! The reader package's wasm API (pkg/reader): a user's model file in; out, what the page's
//! packages read for a shipped model, the architecture's JSON and burnpack weights. It is a
//! module of its own so that the page's first download leaves the ONNX and safetensors readers
//! out: the page's `loadModel` imports it the first time a file is dropped, and checks what it
//! returns as it checks a shipped model's files.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::Error;
use crate::model::import::{self, Format};
use crate::model::store;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Reads a model file (ONNX, or the safetensors file of `scripts/export_pytorch.py`);
/// `format` ("onnx" | "safetensors") skips detection. Returns `{config, weights, format,
/// notes}`: the architecture's JSON, its weights as burnpack, the format read, and what was
/// changed on the way in. A refused file throws a `FileError` or `ArchitectureError`.
#[wasm_bindgen(js_name = readModel, unchecked_return_type = "ReadModel")]
pub fn read_model(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    format: Option<String>,
) -> Result<JsValue, Error> {
    let bytes = bytes
        .dyn_into::<Uint8Array>()
        .map_err(|_| Error::argument("bytes", "must be a Uint8Array"))?;
    let format = format
        .map(|f| Format::parse(&f).map_err(|e| e.renamed("format", "options.format")))
        .transpose()?;
    // Before the bytes are copied into wasm memory.
    import::check_size(bytes.length() as usize)?;
    let imported = import::import(&bytes.to_vec(), format)?;
    let weights = store::save(&imported.network)?;
    let out = Object::new();
    let notes: Array = imported
        .notes
        .iter()
        .map(|n| JsValue::from_str(n))
        .collect();
    for (key, value) in [
        ("config", store::config_to_json(&imported.config).into()),
        ("weights", Uint8Array::from(&weights[..]).into()),
        ("format", imported.format.name().into()),
        ("notes", notes.into()),
    ] {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&out, &key.into(), &value);
    }
    Ok(out.into())
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** What `readModel` returns: the model in the form the page's packages read. */
export interface ReadModel {
  /** The architecture, as the JSON of burn's `Config`. */
  config: string;
  /** The weights, as burnpack. */
  weights: Uint8Array;
  format: "onnx" | "safetensors";
  notes: string[];
}
"#;
