//! Transformation robustness (Olah et al. 2017, "Feature Visualization",
//! <https://distill.pub/2017/feature-visualization/>): before each gradient the image is moved
//! a little at random (jitter), scaled and rotated, so that the ascent finds what the network
//! sees wherever it lies, not a pattern tuned to single pixels.

use burn::tensor::{Int, Tensor, TensorData};

/// One step's random transformation; the identity is `Self::default()`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Transform {
    /// Shift down and right, in pixels (a roll: what leaves one side comes in at the other).
    pub shift: [i64; 2],
    /// Zoom about the centre (1: none).
    pub scale: f32,
    /// Rotation about the centre, in degrees, counter-clockwise as the image is shown.
    pub angle: f32,
}

impl Transform {
    /// The image moved: the shift, then the scale and rotation.
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let [dy, dx] = self.shift;
        let x = if dy != 0 || dx != 0 {
            x.roll(&[dy, dx], &[2, 3])
        } else {
            x
        };
        if self.scale == 1.0 && self.angle == 0.0 {
            x
        } else {
            resample(x, self.scale, self.angle)
        }
    }
}

/// For every output pixel, the four input pixels it reads and their bilinear weights (0 where
/// the source falls outside the image): `(index [4][h·w], weight [4][h·w])`.
pub fn bilinear(h: usize, w: usize, scale: f32, angle: f32) -> (Vec<i64>, Vec<f32>) {
    let (sin, cos) = angle.to_radians().sin_cos();
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let mut index = vec![0i64; 4 * h * w];
    let mut weight = vec![0f32; 4 * h * w];
    for i in 0..h {
        for j in 0..w {
            // The inverse map: where output (i, j) comes from.
            let (u, v) = (j as f32 - cx, i as f32 - cy);
            let sx = (cos * u - sin * v) / scale + cx;
            let sy = (sin * u + cos * v) / scale + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let corners = [
                (y0, x0, (1.0 - fy) * (1.0 - fx)),
                (y0, x0 + 1.0, (1.0 - fy) * fx),
                (y0 + 1.0, x0, fy * (1.0 - fx)),
                (y0 + 1.0, x0 + 1.0, fy * fx),
            ];
            let out = i * w + j;
            for (k, (y, x, wt)) in corners.into_iter().enumerate() {
                let inside = (0.0..h as f32).contains(&y) && (0.0..w as f32).contains(&x);
                if inside && wt != 0.0 {
                    index[k * h * w + out] = y as i64 * w as i64 + x as i64;
                    weight[k * h * w + out] = wt;
                }
            }
        }
    }
    (index, weight)
}

/// `x` scaled and rotated about its centre, bilinearly, with zeros outside: four gathers, so
/// the gradient flows back through burn's autodiff.
pub fn resample(x: Tensor<4>, scale: f32, angle: f32) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let device = x.device();
    let (index, weight) = bilinear(h, w, scale, angle);
    let planes = x.reshape([n * c, h * w]);
    let mut out: Option<Tensor<2>> = None;
    for k in 0..4 {
        let part = |v: &[i64]| v[k * h * w..(k + 1) * h * w].to_vec();
        let idx = Tensor::<2, Int>::from_data(TensorData::new(part(&index), [1, h * w]), &device)
            .expand([n * c, h * w]);
        let wt = Tensor::<2>::from_data(
            TensorData::new(weight[k * h * w..(k + 1) * h * w].to_vec(), [1, h * w]),
            &device,
        );
        let term = planes.clone().gather(1, idx) * wt;
        out = Some(match out {
            Some(o) => o + term,
            None => term,
        });
    }
    out.expect("four corners").reshape([n, c, h, w])
}
