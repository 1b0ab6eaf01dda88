//! The evidence folder: HTTP archives, redaction, atomic writes, SHA256SUMS.

pub mod exchange;
