//! The evidence folder: HTTP archives, redaction, atomic writes, SHA256SUMS.

pub mod archive;
pub mod exchange;
pub mod folder;
pub mod har;
pub mod redact;
pub mod sums;
pub mod write;
