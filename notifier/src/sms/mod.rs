//! SMS channels (one file per provider) and what they share: phone normalisation and
//! the HMAC helpers both signatures are built from.
//!
//! Nothing here may log a whole phone number or any key; use [`crate::mask_phone`].

pub mod aliyun;
pub mod tencent;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::SendError;

/// Normalises a mainland mobile number to its 11 digits: providers throttle and bill per
/// number, so "+86 138-0013-8000" and "13800138000" must be one recipient.
pub fn normalize_mobile(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .or_else(|| if digits.len() == 13 { digits.strip_prefix("86") } else { None })
        .unwrap_or(&digits);
    let bytes = digits.as_bytes();
    let valid = bytes.len() == 11
        && bytes[0] == b'1'
        && (b'3'..=b'9').contains(&bytes[1])
        && bytes.iter().all(u8::is_ascii_digit);
    valid.then(|| digits.to_string())
}

/// The error a channel returns for a recipient that cannot be an SMS number.
pub(crate) fn invalid_number(raw: &str) -> SendError {
    SendError::permanent("invalid_mobile", format!("not a mainland mobile number: {}", crate::mask_phone(raw)))
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_normalise_to_eleven_digits() {
        for raw in ["13800138000", "+8613800138000", "0086 138 0013 8000", "138-0013-8000", "8613800138000"] {
            assert_eq!(normalize_mobile(raw).as_deref(), Some("13800138000"), "{raw}");
        }
        for raw in ["12800138000", "1380013800", "138001380001", "1380013800a", "", "010-12345678"] {
            assert_eq!(normalize_mobile(raw), None, "{raw}");
        }
    }
}
