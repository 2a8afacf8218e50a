//! Public notices (公示 / 公告, C5, R10): gathering cases waiting at a notice step,
//! publishing them frozen and hashed, villagers' objections and their investigation,
//! and closing a notice when its period ends.

pub mod objections;
