//! Turning a drawing or a picture into what the network saw in training: MNIST digits are
//! white ink on black, cropped to the ink, scaled so the longer side is 20 px, and placed in a
//! 28×28 frame with their centre of mass at the centre.

use crate::Error;
use crate::data::{PIXELS, SIDE};

/// Longer side of the digit's box inside the 28×28 frame, as in MNIST.
const BOX: usize = 20;
/// A pixel counts as ink above this intensity.
const INK: f32 = 0.05;

/// Converts a grayscale image (ink bright on a dark background, values in [0, 1]) of any size
/// into MNIST form. An image without ink gives the all-zero image.
pub fn to_mnist(gray: &[f32], width: usize, height: usize) -> Result<Vec<f32>, Error> {
    if width == 0 || height == 0 {
        return Err(Error::argument("width", "the image is empty"));
    }
    if width.checked_mul(height) != Some(gray.len()) {
        return Err(Error::argument(
            "gray",
            format!(
                "expected width × height = {width} × {height} values, got {}",
                gray.len()
            ),
        ));
    }
    if let Some(i) = gray.iter().position(|v| !v.is_finite()) {
        return Err(Error::argument(
            "gray",
            format!("value at index {i} is not a finite number"),
        ));
    }
    let at = |x: usize, y: usize| gray[y * width + x].clamp(0.0, 1.0);

    // Crop to the ink's bounding box.
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..height {
        for x in 0..width {
            if at(x, y) > INK {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    if x0 == usize::MAX {
        return Ok(vec![0.0; PIXELS]);
    }
    let (cw, ch) = (x1 - x0, y1 - y0);

    // Scale so the longer side is BOX pixels, averaging the source area under each pixel.
    let scale = BOX as f32 / cw.max(ch) as f32;
    let tw = ((cw as f32 * scale).round() as usize).clamp(1, BOX);
    let th = ((ch as f32 * scale).round() as usize).clamp(1, BOX);
    let (sx, sy) = (cw as f32 / tw as f32, ch as f32 / th as f32);
    let mut small = vec![0f32; tw * th];
    for ty in 0..th {
        let (fy0, fy1) = (ty as f32 * sy, (ty + 1) as f32 * sy);
        for tx in 0..tw {
            let (fx0, fx1) = (tx as f32 * sx, (tx + 1) as f32 * sx);
            let (mut sum, mut area) = (0f32, 0f32);
            for y in fy0.floor() as usize..(fy1.ceil() as usize).min(ch) {
                let wy = (fy1.min(y as f32 + 1.0) - fy0.max(y as f32)).max(0.0);
                for x in fx0.floor() as usize..(fx1.ceil() as usize).min(cw) {
                    let wx = (fx1.min(x as f32 + 1.0) - fx0.max(x as f32)).max(0.0);
                    sum += wx * wy * at(x0 + x, y0 + y);
                    area += wx * wy;
                }
            }
            small[ty * tw + tx] = if area > 0.0 { sum / area } else { 0.0 };
        }
    }

    // Place so that the centre of mass lands on the frame's centre.
    let (mut mass, mut mx, mut my) = (0f32, 0f32, 0f32);
    for y in 0..th {
        for x in 0..tw {
            let v = small[y * tw + x];
            mass += v;
            mx += v * (x as f32 + 0.5);
            my += v * (y as f32 + 0.5);
        }
    }
    let centre = SIDE as f32 / 2.0;
    let ox = (centre - mx / mass).round() as i64;
    let oy = (centre - my / mass).round() as i64;
    let mut out = vec![0f32; PIXELS];
    for y in 0..th {
        for x in 0..tw {
            let (px, py) = (x as i64 + ox, y as i64 + oy);
            if (0..SIDE as i64).contains(&px) && (0..SIDE as i64).contains(&py) {
                out[py as usize * SIDE + px as usize] = small[y * tw + x];
            }
        }
    }
    Ok(out)
}

/// Smallest picture side accepted: below this there is no digit to see.
const MIN_SIDE: usize = 8;

/// Converts an RGBA picture (any size, as a canvas gives it) to MNIST form: grey by luminance,
/// transparent pixels as background, inverted when the background is light (ink must be bright
/// on dark), then [`to_mnist`]. Errors say what is wrong with the picture.
pub fn picture_to_mnist(rgba: &[u8], width: usize, height: usize) -> Result<Vec<f32>, Error> {
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(Error::argument(
            "image",
            format!(
                "{width}×{height} pixels is too small; a digit needs at least {MIN_SIDE}×{MIN_SIDE}"
            ),
        ));
    }
    if width.checked_mul(height).and_then(|n| n.checked_mul(4)) != Some(rgba.len()) {
        return Err(Error::argument(
            "rgba",
            format!(
                "expected width × height × 4 = {width} × {height} × 4 bytes, got {}",
                rgba.len()
            ),
        ));
    }
    let opaque = rgba.chunks_exact(4).filter(|p| p[3] > 0).count();
    if opaque == 0 {
        return Err(Error::argument(
            "image",
            "it is fully transparent: there is no digit in it",
        ));
    }
    // Luminance, with transparency as the background: the background's brightness is judged
    // on the opaque border pixels, and transparent ones take the opposite of the ink.
    let lum: Vec<Option<f32>> = rgba
        .chunks_exact(4)
        .map(|p| {
            (p[3] > 0).then(|| {
                (0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2]))
                    / 255.0
            })
        })
        .collect();
    let border: Vec<f32> = (0..width * height)
        .filter(|&i| {
            let (x, y) = (i % width, i / width);
            x == 0 || y == 0 || x + 1 == width || y + 1 == height
        })
        .filter_map(|i| lum[i])
        .collect();
    let light = if border.is_empty() {
        // No opaque border: ink on a transparent background; light ink means a dark page.
        let ink: f32 = lum.iter().flatten().sum::<f32>() / opaque as f32;
        ink < 0.5
    } else {
        border.iter().sum::<f32>() / border.len() as f32 > 0.5
    };
    let gray: Vec<f32> = lum
        .iter()
        .map(|l| match (l, light) {
            (None, _) => 0.0,
            (Some(v), true) => 1.0 - v,
            (Some(v), false) => *v,
        })
        .collect();
    let out = to_mnist(&gray, width, height)?;
    if out.iter().all(|&v| v <= INK) {
        return Err(Error::argument(
            "image",
            "no digit found: the picture is blank",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_is_scaled_to_twenty_pixels_and_centred() {
        // A 10×40 vertical bar in a 100×100 image.
        let (w, h) = (100, 100);
        let mut gray = vec![0f32; w * h];
        for y in 5..45 {
            for x in 70..80 {
                gray[y * w + x] = 1.0;
            }
        }
        let out = to_mnist(&gray, w, h).unwrap();
        let rows: Vec<usize> = (0..SIDE)
            .filter(|&y| (0..SIDE).any(|x| out[y * SIDE + x] > 0.5))
            .collect();
        let cols: Vec<usize> = (0..SIDE)
            .filter(|&x| (0..SIDE).any(|y| out[y * SIDE + x] > 0.5))
            .collect();
        assert_eq!(rows.len(), 20);
        assert_eq!(cols.len(), 5);
        assert_eq!(rows[0], 4, "20 rows centred in 28: 4..24");
        assert_eq!(cols[0] + cols.len() / 2, 14, "mass centred on column 14");
    }

    #[test]
    fn pictures_dark_on_light_are_inverted() {
        // A black 8×24 bar on a white 40×40 picture, and the same bar white on black.
        let (w, h) = (40, 40);
        let bar = |ink: u8, paper: u8| -> Vec<u8> {
            (0..w * h)
                .flat_map(|i| {
                    let (x, y) = (i % w, i / w);
                    let v = if (16..24).contains(&x) && (8..32).contains(&y) {
                        ink
                    } else {
                        paper
                    };
                    [v, v, v, 255]
                })
                .collect()
        };
        let a = picture_to_mnist(&bar(0, 255), w, h).unwrap();
        let b = picture_to_mnist(&bar(255, 0), w, h).unwrap();
        assert_eq!(a, b);
        assert!(
            a[14 * SIDE + 14] > 0.9,
            "the bar is bright ink in the middle"
        );
        assert!(a[0] == 0.0, "the background is black");
    }

    #[test]
    fn bad_pictures_get_clear_messages() {
        assert!(
            picture_to_mnist(&[0; 4], 1, 1)
                .unwrap_err()
                .to_string()
                .contains("too small")
        );
        assert!(
            picture_to_mnist(&[0; 64 * 4], 8, 8)
                .unwrap_err()
                .to_string()
                .contains("transparent")
        );
        assert!(
            picture_to_mnist(&[255; 64 * 4], 8, 8)
                .unwrap_err()
                .to_string()
                .contains("blank")
        );
        assert!(
            picture_to_mnist(&[255; 10], 8, 8)
                .unwrap_err()
                .to_string()
                .contains("bytes")
        );
    }

    #[test]
    fn empty_and_bad_images() {
        assert_eq!(to_mnist(&[0.0; 4], 2, 2).unwrap(), vec![0.0; PIXELS]);
        assert!(
            to_mnist(&[0.0; 3], 2, 2)
                .unwrap_err()
                .to_string()
                .contains("gray")
        );
        assert!(to_mnist(&[], 0, 0).is_err());
        assert!(to_mnist(&[f32::NAN; 4], 2, 2).is_err());
    }
}
