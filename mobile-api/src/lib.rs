//! The phone contract of Jingzhun (DESIGN §5): what a phone and the server agree on.
//!
//! Wire types, the field catalogue with each field's merge policy, code tables,
//! validators and the stable error codes live here so that the server, the phone app
//! and the test and load tools share one definition. This crate must never depend on
//! the server's web framework or database layer: an app embeds it as it is.

pub mod client;
pub mod codes;
pub mod errors;
pub mod fields;
pub mod outbox;
pub mod validate;
pub mod wire;

/// The sync protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// Header a client sends with its protocol version; the server answers 426 below the minimum.
pub const CLIENT_VERSION_HEADER: &str = "x-jingzhun-client-version";
