//! The evidence folder: HTTP archives, atomic writes, SHA256SUMS, the reports' fixed text, and
//! reading a folder back as untrusted input.

pub mod archive;
pub mod exchange;
pub mod folder;
pub mod har;
pub mod sums;
pub mod untrusted;
pub mod vocabulary;
pub mod write;
