//! Every failure the crate reports, typed by what went wrong; `Display` gives the message meant
//! for the person who made the call. The wasm boundary turns it into a JS `Error`.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A bad argument to a public function: `name` is the argument as the caller wrote it.
    Argument { name: String, why: String },
    /// An architecture that cannot work, named by its layer (`None`: the network as a whole).
    Architecture { layer: Option<Layer>, why: String },
    /// A model or data file that is corrupt or does not fit its architecture.
    File { what: String, why: String },
    /// A backend that failed at run time (device lost, readback failed, no adapter, ...).
    Backend(String),
}

/// A layer as errors name it: its position and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub index: usize,
    pub name: String,
}

impl Error {
    /// A bad argument, named in the message.
    pub fn argument(name: impl Into<String>, why: impl fmt::Display) -> Self {
        Self::Argument {
            name: name.into(),
            why: why.to_string(),
        }
    }

    /// An architecture refused at layer `index` (called `name`).
    pub fn layer(index: usize, name: impl Into<String>, why: impl fmt::Display) -> Self {
        Self::Architecture {
            layer: Some(Layer {
                index,
                name: name.into(),
            }),
            why: why.to_string(),
        }
    }

    /// An architecture refused as a whole.
    pub fn architecture(why: impl fmt::Display) -> Self {
        Self::Architecture {
            layer: None,
            why: why.to_string(),
        }
    }

    /// A corrupt or mismatched file (`what`: which one).
    pub fn file(what: impl Into<String>, why: impl fmt::Display) -> Self {
        Self::File {
            what: what.into(),
            why: why.to_string(),
        }
    }

    pub fn backend(why: impl fmt::Display) -> Self {
        Self::Backend(why.to_string())
    }

    /// The same error with argument `from` called `to` (an option inside an options object,
    /// say); other errors are unchanged.
    pub fn renamed(self, from: &str, to: &str) -> Self {
        match self {
            Self::Argument { name, why } if name == from => Self::Argument {
                name: to.into(),
                why,
            },
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Argument { name, why } => write!(f, "invalid argument `{name}`: {why}"),
            Self::Architecture {
                layer: Some(l),
                why,
            } => write!(f, "layer {} ({}): {why}", l.index, l.name),
            Self::Architecture { layer: None, why } => write!(f, "architecture: {why}"),
            Self::File { what, why } => write!(f, "{what}: {why}"),
            Self::Backend(why) => write!(f, "backend: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// A crate error as a JS `Error`: `message` is the `Display` text, `name` says the kind
/// (`ArgumentError`, `ArchitectureError`, `FileError`, `BackendError`), and an argument error
/// names its argument in `argument` (`"pixels"`, `"options.k"`, `"files.weights"`, …), so that
/// callers can react without parsing the message.
#[cfg(target_arch = "wasm32")]
impl From<Error> for wasm_bindgen::JsValue {
    fn from(e: Error) -> Self {
        let js = js_sys::Error::new(&e.to_string());
        let name = match &e {
            Error::Argument { .. } => "ArgumentError",
            Error::Architecture { .. } => "ArchitectureError",
            Error::File { .. } => "FileError",
            Error::Backend(_) => "BackendError",
        };
        js.set_name(name);
        if let Error::Argument { name, .. } = &e {
            // Setting a property on a fresh Error object cannot fail.
            let _ = js_sys::Reflect::set(
                &js,
                &"argument".into(),
                &wasm_bindgen::JsValue::from_str(name),
            );
        }
        js.into()
    }
}
