//! Report sinks.
pub mod terminal;
