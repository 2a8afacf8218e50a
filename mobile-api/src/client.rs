//! HTTP client for the phone contract (being written).
