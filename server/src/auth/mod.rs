//! Accounts: password hashing, device-bound tokens, and who is calling.
//!
//! Tokens are random and only their SHA-256 is stored. A token is bound to one device;
//! revoking the device ends every token on it.

pub mod login;
pub mod roles;
pub mod session;
pub mod throttle;
pub mod tokens;

pub use roles::{Grant, Role};
pub use tokens::Caller;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A random password for a first administrator: 16 characters with letters and
/// digits (the password rule), printed once.
pub fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    loop {
        let password: String = (0..16).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect();
        if password.chars().any(|c| c.is_ascii_digit()) && password.chars().any(|c| c.is_ascii_alphabetic()) {
            return password;
        }
    }
}
