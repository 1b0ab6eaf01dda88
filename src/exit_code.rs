//! The documented exit codes (docs/cli.md), one constant per meaning.

/// Every required check passed: GO.
pub const GO: i32 = 0;
/// At least one required check did not pass: NO-GO.
pub const NO_GO: i32 = 1;
/// Bad arguments or configuration (including a gate run that would skip a required check).
pub const USAGE: i32 = 2;
/// A lane does not compile or fails while being planned.
pub const LANE_ERROR: i32 = 3;
/// The lanes and filters selected no check at all.
pub const NO_CHECKS: i32 = 4;
/// `verify`: the attestation proves nothing (missing, tampered with, another key's).
pub const UNVERIFIED: i32 = 5;
/// Interrupted by SIGINT/SIGTERM; partial results were written, the verdict is NO-GO.
pub const INTERRUPTED: i32 = 130;
