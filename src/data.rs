//! The data shipped with the crate, for each of its two models (MNIST digits and
//! Fashion-MNIST clothes): weights, held-out images, the training-set mean image; and input
//! checks. Files are written by the `train` binary and embedded with `include_bytes!`.

use burn::tensor::{Device, Tensor, TensorData};

use crate::Error;
use crate::model::{PIXELS, SIDE};

/// A trained model and the data it came with: the same architecture, trained on another set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    /// Handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST: ten kinds of clothing, same size and format as MNIST.
    Fashion,
}

impl Dataset {
    pub const ALL: [Dataset; 2] = [Dataset::Mnist, Dataset::Fashion];

    /// "mnist" or "fashion".
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "mnist" => Ok(Dataset::Mnist),
            "fashion" => Ok(Dataset::Fashion),
            other => Err(Error::argument(
                "model",
                format!("expected \"mnist\" or \"fashion\", got {other:?}"),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::Fashion => "fashion",
        }
    }

    /// The names of the ten classes, in label order.
    pub fn classes(self) -> [&'static str; 10] {
        match self {
            Dataset::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            Dataset::Fashion => [
                "T-shirt/top",
                "trouser",
                "pullover",
                "dress",
                "coat",
                "sandal",
                "shirt",
                "sneaker",
                "bag",
                "ankle boot",
            ],
        }
    }

    /// The trained weights (see `model::encode_parameters`).
    pub fn weights(self) -> Result<&'static [u8], Error> {
        Ok(self.files()?.weights)
    }

    /// 1,000 held-out images (100 per class) that the model never trained on.
    pub fn heldout(self) -> Result<Digits, Error> {
        Digits::decode(self.files()?.heldout)
    }

    /// The training-set mean image.
    pub fn mean(self) -> Result<Vec<f32>, Error> {
        decode_mean(self.files()?.mean)
    }

    fn files(self) -> Result<Files, Error> {
        match self {
            Dataset::Mnist => Ok(Files {
                weights: include_bytes!("../assets/mnist/weights.bin"),
                heldout: include_bytes!("../assets/mnist/heldout.bin"),
                mean: include_bytes!("../assets/mnist/mean.bin"),
            }),
            Dataset::Fashion => fashion_files(),
        }
    }
}

/// The three files of a model, as written by the `train` binary.
#[derive(Clone, Copy, Debug)]
pub struct Files {
    pub weights: &'static [u8],
    pub heldout: &'static [u8],
    pub mean: &'static [u8],
}

/// Natively, both models are embedded.
#[cfg(not(target_arch = "wasm32"))]
fn fashion_files() -> Result<Files, Error> {
    Ok(Files {
        weights: include_bytes!("../assets/fashion/weights.bin"),
        heldout: include_bytes!("../assets/fashion/heldout.bin"),
        mean: include_bytes!("../assets/fashion/mean.bin"),
    })
}

/// In the browser only MNIST is embedded: Fashion-MNIST's 0.7 MB (gzipped) would delay the
/// first result for everyone. The page fetches its files when asked and hands them over once
/// per instance with [`provide_fashion`].
#[cfg(target_arch = "wasm32")]
static FASHION: std::sync::OnceLock<Files> = std::sync::OnceLock::new();

#[cfg(target_arch = "wasm32")]
fn fashion_files() -> Result<Files, Error> {
    FASHION.get().copied().ok_or_else(|| {
        Error::argument(
            "model",
            "the Fashion-MNIST files are not loaded: call loadModel(\"fashion\", files) first",
        )
    })
}

/// Checks and keeps Fashion-MNIST's files for the life of the instance. A second call keeps the
/// first files (they are the same shipped files).
#[cfg(target_arch = "wasm32")]
pub fn provide_fashion(weights: Vec<u8>, heldout: Vec<u8>, mean: Vec<u8>) -> Result<(), Error> {
    let params = crate::model::decode_parameters(&weights)
        .map_err(|e| Error::argument("files.weights", e))?;
    crate::model::Network::from_parameters(&params, &crate::backend::cpu())
        .map_err(|e| Error::argument("files.weights", e))?;
    Digits::decode(&heldout).map_err(|e| Error::argument("files.heldout", e))?;
    decode_mean(&mean).map_err(|e| Error::argument("files.mean", e))?;
    let leak = |v: Vec<u8>| -> &'static [u8] { Box::leak(v.into_boxed_slice()) };
    if FASHION.get().is_none() {
        let _ = FASHION.set(Files {
            weights: leak(weights),
            heldout: leak(heldout),
            mean: leak(mean),
        });
    }
    Ok(())
}

fn decode_mean(bytes: &[u8]) -> Result<Vec<f32>, Error> {
    if bytes.len() != PIXELS * 4 {
        return Err(Error("mean image file: wrong size".into()));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Largest pixel magnitude accepted: inputs are intensities in [0, 1]; far larger values only
/// overflow the scores.
pub const MAX_PIXEL: f32 = 1.0e3;

/// Labelled digits as u8 pixels (value / 255), compact enough to ship.
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
        let bad = || Error("digits file: truncated or not a deep-inside digits file".into());
        if bytes.len() < 8 || &bytes[..4] != DIGITS_MAGIC {
            return Err(bad());
        }
        let n = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        if bytes.len() != 8 + n * (1 + PIXELS) {
            return Err(bad());
        }
        let labels = bytes[8..8 + n].to_vec();
        if labels.iter().any(|&l| l > 9) {
            return Err(Error("digits file: a label is above 9".into()));
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

/// Checks that `pixels` is one 28×28 image of finite, moderate values.
pub fn check_image(name: &str, pixels: &[f32]) -> Result<(), Error> {
    if pixels.len() != PIXELS {
        return Err(Error::argument(
            name,
            format!("expected {PIXELS} values (28×28), got {}", pixels.len()),
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
                "value at index {i} is {}; intensities must lie within ±{MAX_PIXEL} (normally in [0, 1])",
                pixels[i]
            ),
        ));
    }
    Ok(())
}

/// Checks a class index.
pub fn check_class(name: &str, class: i64) -> Result<usize, Error> {
    if (0..crate::model::CLASSES as i64).contains(&class) {
        Ok(class as usize)
    } else {
        Err(Error::argument(
            name,
            format!("class must be an integer from 0 to 9, got {class}"),
        ))
    }
}

/// One checked image as a `[1, 1, 28, 28]` tensor.
pub fn image_tensor(pixels: &[f32], device: &Device) -> Result<Tensor<4>, Error> {
    check_image("pixels", pixels)?;
    Ok(Tensor::from_data(
        TensorData::new(pixels.to_vec(), [1, 1, SIDE, SIDE]),
        device,
    ))
}

/// Softmax of one row of logits, on the host.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|&s| (s - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}
