//! What the crate ships: three trained models (a small and a deeper MNIST net, and a
//! Fashion-MNIST net), each an architecture (burn config, JSON) and burnpack weights, and for
//! each data set its held-out images and training-set mean. Files are written by the `train`
//! binary and embedded with `include_bytes!`; in the browser only the small MNIST model is, and
//! the others are handed over when the page fetches them ([`provide`]).

use burn::tensor::Device;

use crate::Error;
use crate::model::Model;

/// Side of the shipped data sets' images.
pub const SIDE: usize = 28;
/// Pixels in one shipped image.
pub const PIXELS: usize = SIDE * SIDE;

/// A data set: held-out images and the training-set mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    /// Handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST: ten kinds of clothing, same size and format as MNIST.
    Fashion,
}

/// A shipped, trained model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shipped {
    /// conv 5×5 → pool → conv 5×5 → pool → FC → FC on MNIST.
    Mnist,
    /// A deeper MNIST net: padding, stride 2, batch norm, average pooling, four convs.
    MnistDeep,
    /// The small architecture trained on Fashion-MNIST.
    Fashion,
}

/// The files of one shipped model, as written by the `train` binary.
#[derive(Clone, Copy, Debug)]
pub struct Files {
    /// The architecture: `NetworkConfig` as JSON.
    pub config: &'static [u8],
    /// burnpack weights.
    pub weights: &'static [u8],
}

impl Shipped {
    pub const ALL: [Shipped; 3] = [Shipped::Mnist, Shipped::MnistDeep, Shipped::Fashion];

    /// "mnist", "mnist-deep" or "fashion".
    pub fn parse(name: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                Error::argument(
                    "model",
                    format!("expected \"mnist\", \"mnist-deep\" or \"fashion\", got {name:?}"),
                )
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            Shipped::Mnist => "mnist",
            Shipped::MnistDeep => "mnist-deep",
            Shipped::Fashion => "fashion",
        }
    }

    /// What the page calls it.
    pub fn title(self) -> &'static str {
        match self {
            Shipped::Mnist => "digits (MNIST)",
            Shipped::MnistDeep => "digits, deeper net",
            Shipped::Fashion => "clothes (Fashion-MNIST)",
        }
    }

    pub fn dataset(self) -> Dataset {
        match self {
            Shipped::Mnist | Shipped::MnistDeep => Dataset::Mnist,
            Shipped::Fashion => Dataset::Fashion,
        }
    }

    /// Whether this build embeds the model (else the page provides it, see [`provide`]).
    pub fn embedded(self) -> bool {
        self == Shipped::Mnist || !cfg!(target_arch = "wasm32")
    }

    pub fn files(self) -> Result<Files, Error> {
        match self {
            Shipped::Mnist => Ok(Files {
                config: include_bytes!("../assets/mnist/config.json"),
                weights: include_bytes!("../assets/mnist/weights.bpk"),
            }),
            other => provided(other).map(|(files, _)| files),
        }
    }

    /// The model on `device`.
    pub fn load(self, device: &Device) -> Result<Model, Error> {
        let files = self.files()?;
        Model::load(files.config, files.weights, device)
    }
}

/// A data set's files, as written by the `train` binary.
#[derive(Clone, Copy, Debug)]
pub struct DataFiles {
    /// 1,000 held-out images (100 per class), `Digits` format.
    pub heldout: &'static [u8],
    /// The training-set mean image, 784 little-endian f32.
    pub mean: &'static [u8],
}

impl Dataset {
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::Fashion => "fashion",
        }
    }

    pub fn files(self) -> Result<DataFiles, Error> {
        match self {
            Dataset::Mnist => Ok(DataFiles {
                heldout: include_bytes!("../assets/mnist/heldout.bin"),
                mean: include_bytes!("../assets/mnist/mean.bin"),
            }),
            Dataset::Fashion => provided(Shipped::Fashion).and_then(|(_, data)| {
                data.ok_or_else(|| Error::argument("model", "fashion's data files are missing"))
            }),
        }
    }

    /// 1,000 held-out images (100 per class) that the models never trained on.
    pub fn heldout(self) -> Result<Digits, Error> {
        Digits::decode(self.files()?.heldout)
    }

    /// The training-set mean image.
    pub fn mean(self) -> Result<Vec<f32>, Error> {
        decode_mean(self.files()?.mean)
    }
}

/// Natively, every model is embedded.
#[cfg(not(target_arch = "wasm32"))]
fn provided(model: Shipped) -> Result<(Files, Option<DataFiles>), Error> {
    Ok(match model {
        Shipped::Mnist => (Shipped::Mnist.files()?, None),
        Shipped::MnistDeep => (
            Files {
                config: include_bytes!("../assets/mnist-deep/config.json"),
                weights: include_bytes!("../assets/mnist-deep/weights.bpk"),
            },
            None,
        ),
        Shipped::Fashion => (
            Files {
                config: include_bytes!("../assets/fashion/config.json"),
                weights: include_bytes!("../assets/fashion/weights.bpk"),
            },
            Some(DataFiles {
                heldout: include_bytes!("../assets/fashion/heldout.bin"),
                mean: include_bytes!("../assets/fashion/mean.bin"),
            }),
        ),
    })
}

/// In the browser only the small MNIST model is embedded: the others would delay the first
/// result for everyone. The page fetches their files when asked and hands them over once per
/// instance with [`provide`].
#[cfg(target_arch = "wasm32")]
static PROVIDED: [std::sync::OnceLock<(Files, Option<DataFiles>)>; 3] = [
    std::sync::OnceLock::new(),
    std::sync::OnceLock::new(),
    std::sync::OnceLock::new(),
];

#[cfg(target_arch = "wasm32")]
fn provided(model: Shipped) -> Result<(Files, Option<DataFiles>), Error> {
    PROVIDED[model as usize].get().copied().ok_or_else(|| {
        Error::argument(
            "model",
            format!(
                "the {} model's files are not loaded: call provideModel({:?}, files) first",
                model.name(),
                model.name()
            ),
        )
    })
}

/// Checks and keeps a shipped model's files (and its data set's, for Fashion-MNIST) for the
/// life of the instance. A second call keeps the first files (they are the same shipped files).
#[cfg(target_arch = "wasm32")]
pub fn provide(
    model: Shipped,
    config: Vec<u8>,
    weights: Vec<u8>,
    data: Option<(Vec<u8>, Vec<u8>)>,
) -> Result<(), Error> {
    if model.embedded() {
        return Err(Error::argument(
            "model",
            format!("{} is embedded in this build", model.name()),
        ));
    }
    let parsed = crate::model::store::config_from_json(&config)
        .map_err(|e| Error::argument("files.config", e))?;
    crate::model::store::load(&parsed, &weights, &crate::backend::cpu())
        .map_err(|e| Error::argument("files.weights", e))?;
    let data = match (model.dataset(), data) {
        (Dataset::Mnist, _) => None,
        (Dataset::Fashion, Some((heldout, mean))) => {
            Digits::decode(&heldout).map_err(|e| Error::argument("files.heldout", e))?;
            decode_mean(&mean).map_err(|e| Error::argument("files.mean", e))?;
            Some((heldout, mean))
        }
        (Dataset::Fashion, None) => {
            return Err(Error::argument(
                "files",
                "fashion needs {config, weights, heldout, mean}",
            ));
        }
    };
    let leak = |v: Vec<u8>| -> &'static [u8] { Box::leak(v.into_boxed_slice()) };
    PROVIDED[model as usize].get_or_init(|| {
        (
            Files {
                config: leak(config),
                weights: leak(weights),
            },
            data.map(|(heldout, mean)| DataFiles {
                heldout: leak(heldout),
                mean: leak(mean),
            }),
        )
    });
    Ok(())
}

fn decode_mean(bytes: &[u8]) -> Result<Vec<f32>, Error> {
    if bytes.len() != PIXELS * 4 {
        return Err(Error::file("mean image", "wrong size"));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Largest pixel magnitude accepted: inputs are intensities in the model's input range, and
/// far larger values only overflow the scores.
pub const MAX_PIXEL: f32 = 1.0e3;

/// Labelled 28×28 images as u8 pixels (value / 255), compact enough to ship.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digits {
    pub labels: Vec<u8>,
    /// `labels.len() × 784` pixels, row-major.
    pub pixels: Vec<u8>,
}

const DIGITS_MAGIC: &[u8; 4] = b"DID1";

impl Digits {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as intensities in [0, 1].
    pub fn image(&self, i: usize) -> Vec<f32> {
        self.pixels[i * PIXELS..(i + 1) * PIXELS]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect()
    }

    /// `DID1`, a u32 count, the labels, then the pixels.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = DIGITS_MAGIC.to_vec();
        out.extend((self.labels.len() as u32).to_le_bytes());
        out.extend(&self.labels);
        out.extend(&self.pixels);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let bad = || {
            Error::file(
                "held-out images",
                "truncated or not a deep-inside images file",
            )
        };
        if bytes.len() < 8 || &bytes[..4] != DIGITS_MAGIC {
            return Err(bad());
        }
        let n = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        if (bytes.len() - 8) / (1 + PIXELS) != n || !(bytes.len() - 8).is_multiple_of(1 + PIXELS) {
            return Err(bad());
        }
        let labels = bytes[8..8 + n].to_vec();
        if labels.iter().any(|&l| l > 9) {
            return Err(Error::file("held-out images", "a label is above 9"));
        }
        Ok(Self {
            labels,
            pixels: bytes[8 + n..].to_vec(),
        })
    }

    /// The shipped held-out MNIST digits.
    pub fn mnist_heldout() -> Result<Self, Error> {
        Dataset::Mnist.heldout()
    }
}

/// Encodes an image of f32 values as little-endian bytes (the mean image file).
pub fn encode_image(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Checks that `pixels` is one image of shape `[c, h, w]` of finite, moderate values.
pub fn check_image(name: &str, pixels: &[f32], shape: [usize; 3]) -> Result<(), Error> {
    let [c, h, w] = shape;
    if pixels.len() != c * h * w {
        return Err(Error::argument(
            name,
            format!(
                "expected {} values ({c}×{h}×{w}), got {}",
                c * h * w,
                pixels.len()
            ),
        ));
    }
    if let Some(i) = pixels.iter().position(|v| !v.is_finite()) {
        return Err(Error::argument(
            name,
            format!("value at index {i} is {}, not a finite number", pixels[i]),
        ));
    }
    if let Some(i) = pixels.iter().position(|v| v.abs() > MAX_PIXEL) {
        return Err(Error::argument(
            name,
            format!(
                "value at index {i} is {}; intensities must lie within ±{MAX_PIXEL}",
                pixels[i]
            ),
        ));
    }
    Ok(())
}

/// Softmax of one row of logits, on the host.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|&s| (s - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}
