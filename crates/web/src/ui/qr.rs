//! QR codes as inline SVG, drawn on the server (no script, no image request).

use qrcode::QrCode;
use qrcode::render::svg;

/// The SVG of a QR code holding `text`, labelled for screen readers, or
/// `None` when the text does not fit in a QR code.
pub(crate) fn svg(text: &str, label: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration (meaningless inside HTML) and label the image.
    let start = image.find("<svg")?;
    let label = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    Some(image[start..].replacen(
        "<svg ",
        &format!(r#"<svg role="img" aria-label="{label}" class="qr" "#),
        1,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_otpauth_uri_becomes_a_labelled_inline_svg() {
        let s = super::svg("otpauth://totp/leadteam:a%40b.c?secret=ABC", "QR \"code\"");
        let s = s.unwrap_or_default();
        assert!(
            s.starts_with(r#"<svg role="img" aria-label="QR &quot;code&quot;" class="qr" xmlns="#)
        );
        assert!(s.ends_with("</svg>"));
    }
}
