//! QR codes for referral links (WeChat has no share URL for the web, and a printed code serves the shop
//! counter): the link encoded by the `qrcodegen` crate (no dependencies of its own), drawn as one SVG path.
//!
//! The SVG has a quiet zone of 4 modules on every side, as the QR standard asks, and is square with integer
//! module coordinates, so it rasterises crisply at any multiple of its size.

use crate::referral::QrLevel;
use qrcodegen::{QrCode, QrCodeEcc};

/// Modules of light margin on each side.
pub const QUIET_ZONE: u32 = 4;

/// A QR code ready to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrSvg {
    /// Width and height in modules, quiet zone included (the SVG's `viewBox` is `0 0 size size`).
    pub size: u32,
    /// The dark modules as SVG path data, one rectangle per horizontal run.
    pub path: String,
}

impl QrSvg {
    /// A standalone SVG document: dark modules in `dark` on a `light` background.
    ///
    /// ```
    /// let qr = loyalty_core::qr_svg("https://shop.example/?ref=22222222", loyalty_core::QrLevel::Medium).unwrap();
    /// let svg = qr.to_svg("#000", "#fff");
    /// // Version 3 at medium error correction: 29 modules, and 4 of quiet zone on each side.
    /// assert_eq!(qr.size, 37);
    /// assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 37 37\""));
    /// ```
    pub fn to_svg(&self, dark: &str, light: &str) -> String {
        let colour = |c: &str| -> String {
            c.chars()
                .filter(|ch| {
                    ch.is_ascii_alphanumeric() || matches!(ch, '#' | '(' | ')' | ',' | '.' | ' ' | '%')
                })
                .collect()
        };
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {s} {s}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{s}\" height=\"{s}\" fill=\"{light}\"/><path d=\"{path}\" fill=\"{dark}\"/></svg>",
            s = self.size,
            light = colour(light),
            dark = colour(dark),
            path = self.path,
        )
    }
}

/// Encodes `text` (UTF-8, byte mode where needed) at error correction `level`, in the smallest version
/// that holds it.
pub fn qr_svg(text: &str, level: QrLevel) -> Result<QrSvg, String> {
    let ecc = match level {
        QrLevel::Low => QrCodeEcc::Low,
        QrLevel::Medium => QrCodeEcc::Medium,
        QrLevel::Quartile => QrCodeEcc::Quartile,
        QrLevel::High => QrCodeEcc::High,
    };
    let code = QrCode::encode_text(text, ecc)
        .map_err(|_| format!("is too long for a QR code ({} bytes)", text.len()))?;
    let modules = code.size();
    let mut path = String::new();
    for y in 0..modules {
        let mut x = 0;
        while x < modules {
            if !code.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < modules && code.get_module(x, y) {
                x += 1;
            }
            let q = QUIET_ZONE as i32;
            path.push_str(&format!("M{} {}h{}v1H{}z", start + q, y + q, x - start, start + q));
        }
    }
    Ok(QrSvg { size: modules as u32 + 2 * QUIET_ZONE, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the path back into a module grid (quiet zone included).
    fn grid(qr: &QrSvg) -> Vec<Vec<bool>> {
        let mut grid = vec![vec![false; qr.size as usize]; qr.size as usize];
        for run in qr.path.split('z').filter(|s| !s.is_empty()) {
            let numbers: Vec<usize> = run
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            let (x, y, len) = (numbers[0], numbers[1], numbers[2]);
            for cell in &mut grid[y][x..x + len] {
                *cell = true;
            }
        }
        grid
    }

    #[test]
    fn draws_every_dark_module_and_keeps_the_quiet_zone() {
        for (text, level) in [
            ("https://shop.example/?ref=22222222&utm_source=wechat", QrLevel::Low),
            ("https://shop.example/茶/龙井?ref=7KQ2M9XJ", QrLevel::High),
        ] {
            let qr = qr_svg(text, level).unwrap();
            let ecc = match level {
                QrLevel::Low => QrCodeEcc::Low,
                _ => QrCodeEcc::High,
            };
            let code = QrCode::encode_text(text, ecc).unwrap();
            let g = grid(&qr);
            let q = QUIET_ZONE as usize;
            assert_eq!(qr.size as usize, code.size() as usize + 2 * q);
            for (y, row) in g.iter().enumerate() {
                for (x, dark) in row.iter().enumerate() {
                    let inside = (q..q + code.size() as usize).contains(&x)
                        && (q..q + code.size() as usize).contains(&y);
                    let expected = inside && code.get_module((x - q) as i32, (y - q) as i32);
                    assert_eq!(*dark, expected, "module ({x}, {y}) of {text}");
                }
            }
        }
    }

    #[test]
    fn higher_error_correction_needs_more_modules_and_too_long_is_an_error() {
        let link = "https://shop.example/welcome?ref=22222222&utm_source=wechat&utm_medium=referral&utm_campaign=referral";
        let low = qr_svg(link, QrLevel::Low).unwrap().size;
        let high = qr_svg(link, QrLevel::High).unwrap().size;
        assert!(high > low, "{high} > {low}");
        let error = qr_svg(&"x".repeat(3000), QrLevel::High).unwrap_err();
        assert_eq!(error, "is too long for a QR code (3000 bytes)");
    }

    #[test]
    fn the_document_escapes_nothing_it_was_not_given() {
        let qr = qr_svg("a", QrLevel::Low).unwrap();
        let svg = qr.to_svg("\"/><script>", "#fff");
        assert!(!svg.contains("<script"), "{svg}");
    }
}
