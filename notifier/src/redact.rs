//! What a provider says back is kept for people to read (the delivery log, the attempt
//! history, a test send's answer), but it is not ours to trust: Aliyun's
//! `SignatureDoesNotMatch` quotes the whole string to sign, which holds the recipient's
//! phone number and the template variables (household names); other providers echo the
//! number they refused. [`provider_text`] is applied to every such text before it is
//! stored or shown.
//!
//! It must never keep a whole phone or ID number: any run of seven or more digits keeps
//! only its first 3 and last 4 (the server's phone mask, `138****8000`).

/// Markers after which a provider quotes what it signed; everything from them on goes.
const SIGNED_TEXT_MARKERS: [&str; 4] = ["string to sign", "stringtosign", "string-to-sign", "canonical request"];

/// The longest provider text kept: enough for any real error message.
const MAX_CHARS: usize = 500;

/// A provider's text with the signed request dropped and digit runs masked.
pub fn provider_text(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    // ASCII lowercasing keeps byte offsets, so the marker's offset is valid in `text`.
    let cut = SIGNED_TEXT_MARKERS.iter().filter_map(|marker| lower.find(marker)).min();
    let (kept, dropped) = match cut {
        Some(at) => (&text[..at], true),
        None => (text, false),
    };
    let mut out = mask_digit_runs(kept.trim_end());
    if dropped {
        out.push_str(if out.is_empty() { "[signed request removed]" } else { " [signed request removed]" });
    }
    if out.chars().count() > MAX_CHARS {
        out = out.chars().take(MAX_CHARS).chain(std::iter::once('…')).collect();
    }
    out
}

/// Masks every run of 7 or more ASCII digits: a phone, an ID or a bank account number
/// cannot be read back from what is left.
fn mask_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 7 {
            out.push_str(&crate::mask_phone(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_string_to_sign_is_dropped() {
        let text = "Specified signature is not matched with our calculation. server string to sign is:\
                    POST&%2F&AccessKeyId%3DLTAI%26PhoneNumbers%3D13800138000%26TemplateParam%3D%257B%2522name";
        let kept = provider_text(text);
        assert_eq!(kept, "Specified signature is not matched with our calculation. server [signed request removed]");
        assert!(!kept.contains("13800138000"));
    }

    #[test]
    fn phone_and_id_numbers_are_masked() {
        assert_eq!(provider_text("invalid mobile 13800138000"), "invalid mobile 138****8000");
        assert_eq!(provider_text("+8613800138000 refused"), "+861******8000 refused");
        assert_eq!(provider_text("id 32070319600101123X"), "id 320**********1123X");
        // Short numbers (codes, counts, HTTP statuses) stay.
        assert_eq!(provider_text("errcode 45009, 20 per minute"), "errcode 45009, 20 per minute");
        assert_eq!(provider_text(""), "");
    }

    #[test]
    fn long_texts_are_cut() {
        let kept = provider_text(&"错".repeat(2000));
        assert_eq!(kept.chars().count(), MAX_CHARS + 1);
    }
}
