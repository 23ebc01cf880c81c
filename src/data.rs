//! The data shipped with the crate: held-out digits, the training-set mean image, and input
//! checks. Files are written by the `train` binary and embedded with `include_bytes!`.

use burn::tensor::{Device, Tensor, TensorData};

use crate::Error;
use crate::model::{PIXELS, SIDE};

/// The trained MNIST weights (see `model::encode_parameters`).
pub const MNIST_WEIGHTS: &[u8] = include_bytes!("../assets/mnist/weights.bin");
/// The 1,000 held-out MNIST digits and labels (see [`Digits::encode`]).
pub const MNIST_HELDOUT: &[u8] = include_bytes!("../assets/mnist/heldout.bin");
/// The training-set mean image, 784 little-endian f32.
pub const MNIST_MEAN: &[u8] = include_bytes!("../assets/mnist/mean.bin");

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
        Self::decode(MNIST_HELDOUT)
    }
}

/// Encodes an image of f32 values as little-endian bytes (the mean image file).
pub fn encode_image(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The training-set mean image.
pub fn mnist_mean() -> Result<Vec<f32>, Error> {
    if MNIST_MEAN.len() != PIXELS * 4 {
        return Err(Error("mean image file: wrong size".into()));
    }
    Ok(MNIST_MEAN
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
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
