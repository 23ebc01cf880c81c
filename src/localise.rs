//! Weakly supervised localisation from a saliency map (paper §3.1, with a plain threshold in
//! place of GraphCut): the pixels above a quantile, their largest connected component, its box.

use crate::Error;

/// A box in pixels: columns `x..x + width`, rows `y..y + height`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundingBox {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Localisation {
    /// The value a pixel must exceed to be foreground.
    pub threshold: f32,
    /// Pixels above the threshold.
    pub mask: Vec<bool>,
    /// The largest 8-connected component of the mask.
    pub component: Vec<bool>,
    /// The component's bounding box; `None` when nothing exceeds the threshold.
    pub bbox: Option<BoundingBox>,
}

/// Thresholds `map` (row-major, `width × height`) at its `quantile` (0.95 keeps the top 5%).
/// Ties at the threshold stay background, so an all-zero map gives an empty mask.
pub fn localise(
    map: &[f32],
    width: usize,
    height: usize,
    quantile: f64,
) -> Result<Localisation, Error> {
    if width == 0 || height == 0 || width.checked_mul(height) != Some(map.len()) {
        return Err(Error::argument(
            "map",
            format!("expected {width} × {height} values, got {}", map.len()),
        ));
    }
    if !(0.0..=1.0).contains(&quantile) {
        return Err(Error::argument(
            "quantile",
            format!("must lie in [0, 1], got {quantile}"),
        ));
    }
    if let Some(i) = map.iter().position(|v| !v.is_finite()) {
        return Err(Error::argument(
            "map",
            format!("value at index {i} is not a finite number"),
        ));
    }
    let mut sorted = map.to_vec();
    sorted.sort_by(f32::total_cmp);
    let rank = ((quantile * map.len() as f64).ceil() as usize).clamp(1, map.len()) - 1;
    let threshold = sorted[rank];
    let mask: Vec<bool> = map.iter().map(|&v| v > threshold).collect();

    // Largest 8-connected component, by flood fill; the first found wins ties.
    let mut label = vec![0u32; map.len()];
    let (mut best, mut best_size, mut next) = (0u32, 0usize, 0u32);
    let mut stack = Vec::new();
    for start in 0..map.len() {
        if !mask[start] || label[start] != 0 {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let mut size = 0;
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = ((i % width) as i64, (i / width) as i64);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= width as i64 || ny >= height as i64 {
                        continue;
                    }
                    let j = ny as usize * width + nx as usize;
                    if mask[j] && label[j] == 0 {
                        label[j] = next;
                        stack.push(j);
                    }
                }
            }
        }
        if size > best_size {
            (best, best_size) = (next, size);
        }
    }
    let component: Vec<bool> = label.iter().map(|&l| best != 0 && l == best).collect();
    let bbox = component
        .iter()
        .enumerate()
        .filter(|(_, on)| **on)
        .map(|(i, _)| (i % width, i / width))
        .fold(None, |b: Option<(usize, usize, usize, usize)>, (x, y)| {
            Some(match b {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            })
        })
        .map(|(x0, y0, x1, y1)| BoundingBox {
            x: x0,
            y: y0,
            width: x1 - x0 + 1,
            height: y1 - y0 + 1,
        });
    Ok(Localisation {
        threshold,
        mask,
        component,
        bbox,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_blob_gives_its_box() {
        // 10×10 map: a bright 3×2 blob at x 6..9, y 2..4, a weaker lone pixel elsewhere.
        let mut map = vec![0.1f32; 100];
        for y in 2..4 {
            for x in 6..9 {
                map[y * 10 + x] = 5.0 + x as f32;
            }
        }
        map[90] = 4.0;
        // 7 of 100 pixels are above the 0.9 quantile (0.1): the blob (6) and the lone pixel.
        let l = localise(&map, 10, 10, 0.9).unwrap();
        assert_eq!(l.mask.iter().filter(|m| **m).count(), 7);
        assert_eq!(l.component.iter().filter(|m| **m).count(), 6);
        assert_eq!(
            l.bbox,
            Some(BoundingBox {
                x: 6,
                y: 2,
                width: 3,
                height: 2
            })
        );
    }

    #[test]
    fn ties_and_zero_maps_do_not_panic() {
        let l = localise(&[0.0; 784], 28, 28, 0.95).unwrap();
        assert!(l.mask.iter().all(|m| !m));
        assert_eq!(l.bbox, None);
        // All equal but one: only the larger one is foreground.
        let mut map = vec![1.0f32; 16];
        map[5] = 2.0;
        let l = localise(&map, 4, 4, 0.5).unwrap();
        assert_eq!(
            l.bbox,
            Some(BoundingBox {
                x: 1,
                y: 1,
                width: 1,
                height: 1
            })
        );
        // Quantile 0 keeps everything above the minimum; quantile 1 keeps nothing.
        assert_eq!(localise(&map, 4, 4, 1.0).unwrap().bbox, None);
        assert!(localise(&map, 4, 4, 1.5).is_err());
        assert!(localise(&map, 4, 4, f64::NAN).is_err());
        assert!(localise(&map[..15], 4, 4, 0.5).is_err());
    }
}
