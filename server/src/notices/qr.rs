//! The QR code printed on a notice: it encodes the page's URL, nothing else.

use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use std::io::Cursor;

/// Level M survives a crease or a smudge on a paper notice.
fn code(url: &str) -> Result<QrCode, qrcode::types::QrError> {
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
}

pub fn svg(url: &str) -> Result<String, qrcode::types::QrError> {
    Ok(code(url)?.render::<svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build())
}

pub fn png(url: &str) -> Result<Vec<u8>, String> {
    let image = code(url).map_err(|e| e.to_string())?.render::<Luma<u8>>().min_dimensions(360, 360).build();
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_forms_render() {
        let url = "http://127.0.0.1:8080/n/abc";
        assert!(super::svg(url).expect("svg").starts_with("<?xml"));
        assert_eq!(&super::png(url).expect("png")[..4], b"\x89PNG");
    }
}
