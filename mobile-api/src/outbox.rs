//! Persistent outbox (being written).
