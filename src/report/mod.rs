//! Report sinks.
