//! The evidence folder: HTTP archives, atomic writes, SHA256SUMS, and the reports' fixed text.

pub mod archive;
pub mod exchange;
pub mod folder;
pub mod har;
pub mod sums;
pub mod vocabulary;
pub mod write;
