//! Stage marks: `performance.mark` at each stage of a call (its arguments converted, the image
//! uploaded, the result computed, read back, and built as a JS value), to find where a call's
//! time goes (`scripts/bench-stages.mjs`). Off until `stageMarks(true)`: then each call leaves
//! marks named `di:converted`, `di:uploaded`, `di:computed`, `di:read` and `di:result` in the
//! global performance timeline (the window's or the worker's), for the caller to read and clear.

use std::cell::Cell;

use wasm_bindgen::prelude::*;

use crate::Error;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = performance, js_name = mark)]
    fn performance_mark(name: &str) -> Result<JsValue, JsValue>;
}

/// Turns the stage marks on (`true`) or off (`false`, the default). For benchmarks: each mark
/// costs about a microsecond and stays in the timeline until the caller clears it.
#[wasm_bindgen(js_name = stageMarks)]
pub fn stage_marks(
    #[wasm_bindgen(unchecked_param_type = "boolean")] on: JsValue,
) -> Result<(), Error> {
    let on = on
        .as_bool()
        .ok_or_else(|| Error::argument("on", "must be true or false"))?;
    ON.set(on);
    Ok(())
}

/// Marks `name` when the marks are on. A timeline without `performance.mark` only loses the
/// mark.
pub fn mark(name: &str) {
    if ON.get() {
        let _ = performance_mark(name);
    }
}
