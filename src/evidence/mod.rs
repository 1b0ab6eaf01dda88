//! The evidence folder: HTTP archives, redaction, atomic writes, SHA256SUMS.

pub mod exchange;
pub mod har;
pub mod sums;
pub mod write;
