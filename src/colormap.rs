//! Maps to colours. Magnitudes use viridis (perceptually uniform, readable with the common
//! colour-vision deficiencies, and in grey); signed maps use a blue–white–red diverging map
//! (ColorBrewer RdBu) with a symmetric limit, so zero is always white.

use crate::Error;

/// Which colour map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colormap {
    /// viridis, for magnitudes: 0 → dark purple, limit → yellow.
    Sequential,
    /// RdBu, for signed maps: −limit → blue, 0 → white, +limit → red.
    Diverging,
}

impl Colormap {
    /// "sequential" or "diverging".
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "sequential" => Ok(Colormap::Sequential),
            "diverging" => Ok(Colormap::Diverging),
            other => Err(Error::argument(
                "colormap",
                format!("expected \"sequential\" or \"diverging\", got {other:?}"),
            )),
        }
    }

    /// The colour at `t` in [0, 1] (diverging: 0.5 is zero).
    pub fn at(self, t: f32) -> [u8; 3] {
        let anchors: &[[u8; 3]] = match self {
            Colormap::Sequential => &VIRIDIS,
            Colormap::Diverging => &RDBU,
        };
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let f = t * (anchors.len() - 1) as f32;
        let i = (f.floor() as usize).min(anchors.len() - 2);
        let w = f - i as f32;
        let (a, b) = (anchors[i], anchors[i + 1]);
        [0, 1, 2].map(|k| (f32::from(a[k]) * (1.0 - w) + f32::from(b[k]) * w).round() as u8)
    }

    /// The limit used when none is given: the largest magnitude in `map` (1 for an all-zero map).
    pub fn auto_limit(map: &[f32]) -> f32 {
        let m = map
            .iter()
            .filter(|v| v.is_finite())
            .fold(0f32, |m, v| m.max(v.abs()));
        if m > 0.0 { m } else { 1.0 }
    }

    /// RGBA bytes for `map`, scaled by `limit` (magnitudes: `[0, limit]`; signed: `±limit`).
    pub fn rgba(self, map: &[f32], limit: f32) -> Vec<u8> {
        let mut out = Vec::with_capacity(map.len() * 4);
        for &v in map {
            let t = match self {
                Colormap::Sequential => v.abs() / limit,
                Colormap::Diverging => 0.5 + 0.5 * v / limit,
            };
            let [r, g, b] = self.at(t);
            out.extend([r, g, b, 255]);
        }
        out
    }
}

/// The digit in grey with the magnitude of `map` laid over it in viridis, more opaque where
/// the map is larger, so one sees both where the ink is and where the network looked.
pub fn overlay(digit: &[f32], map: &[f32], limit: f32) -> Vec<u8> {
    let mut out = Vec::with_capacity(map.len() * 4);
    for (&d, &v) in digit.iter().zip(map) {
        let t = (v.abs() / limit).clamp(0.0, 1.0);
        let grey = 40.0 + 140.0 * d.clamp(0.0, 1.0);
        let [r, g, b] = Colormap::Sequential.at(t);
        let alpha = t.sqrt();
        let mix = |c: u8| (grey * (1.0 - alpha) + f32::from(c) * alpha).round() as u8;
        out.extend([mix(r), mix(g), mix(b), 255]);
    }
    out
}

const VIRIDIS: [[u8; 3]; 9] = [
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
];

const RDBU: [[u8; 3]; 11] = [
    [5, 48, 97],
    [33, 102, 172],
    [67, 147, 195],
    [146, 197, 222],
    [209, 229, 240],
    [247, 247, 247],
    [253, 219, 199],
    [244, 165, 130],
    [214, 96, 77],
    [178, 24, 43],
    [103, 0, 31],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_centre() {
        assert_eq!(Colormap::Sequential.at(0.0), VIRIDIS[0]);
        assert_eq!(Colormap::Sequential.at(1.0), VIRIDIS[8]);
        assert_eq!(Colormap::Diverging.at(0.5), [247, 247, 247]);
        let rgba = Colormap::Diverging.rgba(&[-2.0, 0.0, 2.0, 9.0], 2.0);
        assert_eq!(&rgba[0..4], &[5, 48, 97, 255]);
        assert_eq!(&rgba[4..8], &[247, 247, 247, 255]);
        assert_eq!(&rgba[8..12], &[103, 0, 31, 255]);
        assert_eq!(
            &rgba[12..16],
            &[103, 0, 31, 255],
            "clamped beyond the limit"
        );
        assert_eq!(Colormap::auto_limit(&[0.0, -3.0, 2.0]), 3.0);
        assert_eq!(Colormap::auto_limit(&[0.0; 3]), 1.0);
    }

    #[test]
    fn viridis_gets_lighter() {
        let lum = |c: [u8; 3]| 0.2126 * c[0] as f32 + 0.7152 * c[1] as f32 + 0.0722 * c[2] as f32;
        let l: Vec<f32> = (0..=20)
            .map(|i| lum(Colormap::Sequential.at(i as f32 / 20.0)))
            .collect();
        assert!(l.windows(2).all(|w| w[1] > w[0]), "{l:?}");
    }
}
