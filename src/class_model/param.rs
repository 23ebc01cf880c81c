//! What the ascent steps on: the pixels themselves (the paper), or a parameterisation that
//! decodes to pixels (Mordvintsev et al. 2018, "Differentiable Image Parameterizations",
//! <https://distill.pub/2018/differentiable-parameterizations/>):
//! - Fourier: the image's real Fourier coefficients, scaled by `1/f^d` so that every frequency
//!   gets a step of about its natural size (low frequencies no longer starve);
//! - sigmoid: `x = low + (high − low)·σ(z)`, which keeps every pixel inside the box.
//!
//! Both are plain tensor ops, so the gradient reaches the parameters through burn's autodiff.

use burn::tensor::{Device, Tensor, TensorData, activation};

/// Pixels a sigmoid decode keeps away from the box's edges when encoding, so the logit is
/// finite.
const EDGE: f32 = 1e-3;

/// An orthonormal real Fourier basis of `n` points, `[n, n]`, one basis function per row:
/// the constant, then `√(2/n)·cos(2πkj/n)` and `√(2/n)·sin(2πkj/n)` for k = 1…, and for even
/// n the alternating `(−1)^j/√n`. Row r has frequency `frequency(r)` cycles per pixel.
pub fn basis(n: usize) -> Vec<f32> {
    let mut b = vec![0.0; n * n];
    let nf = n as f64;
    for r in 0..n {
        let k = r.div_ceil(2);
        for j in 0..n {
            let t = std::f64::consts::TAU * (k * j) as f64 / nf;
            b[r * n + j] = if r == 0 {
                1.0 / nf.sqrt()
            } else if n.is_multiple_of(2) && r == n - 1 {
                (if j % 2 == 0 { 1.0 } else { -1.0 }) / nf.sqrt()
            } else if r % 2 == 1 {
                (2.0 / nf).sqrt() * t.cos()
            } else {
                (2.0 / nf).sqrt() * t.sin()
            } as f32;
        }
    }
    b
}

/// The frequency of row `r` of `basis(n)`, in cycles per pixel.
pub fn frequency(r: usize, n: usize) -> f32 {
    r.div_ceil(2) as f32 / n as f32
}

/// The 1/f^d scale of each `[h, w]` coefficient (lucid's `fft_image`: the frequency is kept
/// from 0 by 1/max(h, w)), normalised to a root mean square of 1 so that a step in the
/// coefficients is as large, overall, as a step in the pixels.
pub fn spectrum_scale(h: usize, w: usize, decay: f32) -> Vec<f32> {
    let floor = 1.0 / h.max(w) as f32;
    let mut s: Vec<f32> = (0..h * w)
        .map(|i| {
            let (fy, fx) = (frequency(i / w, h), frequency(i % w, w));
            (fy * fy + fx * fx).sqrt().max(floor).powf(-decay)
        })
        .collect();
    let rms = (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt();
    s.iter_mut().for_each(|v| *v /= rms);
    s
}

/// How parameters become an image and back.
#[derive(Clone, Debug)]
pub struct Parameterisation {
    /// Fourier: `(Bhᵀ, Bh, Bw, Bwᵀ, scale [1, 1, h, w])`.
    fourier: Option<[Tensor<4>; 5]>,
    /// The box a sigmoid decodes into.
    sigmoid: Option<[f32; 2]>,
}

impl Parameterisation {
    /// `decay`: the Fourier spectrum's 1/f exponent (`None`: the pixels themselves);
    /// `sigmoid`: squash into `bounds`.
    pub fn new(
        [h, w]: [usize; 2],
        decay: Option<f32>,
        sigmoid: bool,
        bounds: [f32; 2],
        device: &Device,
    ) -> Self {
        let fourier = decay.map(|d| {
            let matrix =
                |n: usize| Tensor::<4>::from_data(TensorData::new(basis(n), [1, 1, n, n]), device);
            let (bh, bw) = (matrix(h), matrix(w));
            let scale = Tensor::from_data(
                TensorData::new(spectrum_scale(h, w, d), [1, 1, h, w]),
                device,
            );
            [
                bh.clone().swap_dims(2, 3),
                bh,
                bw.clone(),
                bw.swap_dims(2, 3),
                scale,
            ]
        });
        Self {
            fourier,
            sigmoid: sigmoid.then_some(bounds),
        }
    }

    /// Parameters `[n, c, h, w]` → image `[n, c, h, w]`.
    pub fn decode(&self, p: Tensor<4>) -> Tensor<4> {
        let z = match &self.fourier {
            // x = Bhᵀ (s ⊙ p) Bw, per plane.
            Some([bh_t, _, bw, _, scale]) => {
                bh_t.clone().matmul(p * scale.clone()).matmul(bw.clone())
            }
            None => p,
        };
        match self.sigmoid {
            Some([low, high]) => activation::sigmoid(z)
                .mul_scalar(high - low)
                .add_scalar(low),
            None => z,
        }
    }

    /// Image → parameters; `decode(encode(x)) = x` (inside the box for a sigmoid).
    pub fn encode(&self, x: Tensor<4>) -> Tensor<4> {
        let z = match self.sigmoid {
            Some([low, high]) => {
                let u = x
                    .sub_scalar(low)
                    .div_scalar(high - low)
                    .clamp(EDGE, 1.0 - EDGE);
                // logit(u) = ln u − ln(1 − u)
                u.clone().log() - u.neg().add_scalar(1.0).log()
            }
            None => x,
        };
        match &self.fourier {
            // p = (Bh z Bwᵀ) / s
            Some([_, bh, _, bw_t, scale]) => {
                bh.clone().matmul(z).matmul(bw_t.clone()) / scale.clone()
            }
            None => z,
        }
    }

    /// Whether parameters are the pixels themselves.
    pub fn is_pixels(&self) -> bool {
        self.fourier.is_none() && self.sigmoid.is_none()
    }
}
