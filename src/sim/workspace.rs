//! What local lanes use under `--sim`: the fixture workspace (a tiny Cargo crate whose tests
//! carry the seed's names) and a Gmail test account.

use std::path::PathBuf;

/// The variable naming the connected Gmail test account (recorded redacted).
pub const GMAIL_ACCOUNT_VAR: &str = "OA_GMAIL_TEST_ACCOUNT";
/// The account the simulated inbox is connected to.
pub const SIM_GMAIL_ACCOUNT: &str = "inbox-sim@openagents.com";

/// `tests/fixtures/workspace` of this source tree, when it exists (it does not next to an
/// installed binary; local lanes then skip for want of `OA_REPO_ROOT`).
pub fn fixture_workspace() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workspace");
    root.join("apps/runtime/Cargo.toml")
        .is_file()
        .then_some(root)
}
