//! What local lanes use under `--sim`: the fixture workspace (a tiny Cargo crate whose tests
//! carry the seed's names, built into the binary and written out to the per-user cache) and a
//! Gmail test account.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The variable naming the connected Gmail test account (recorded redacted).
pub const GMAIL_ACCOUNT_VAR: &str = "OA_GMAIL_TEST_ACCOUNT";
/// The account the simulated inbox is connected to.
pub const SIM_GMAIL_ACCOUNT: &str = "inbox-sim@openagents.com";

/// The fixture workspace's files, carried in the binary: (path under the workspace, contents).
/// Listed by hand (a handful of files); a test checks the list against the folder, so a file
/// added there cannot be left out.
const FIXTURE_FILES: &[(&str, &str)] = &[
    (
        ".gitignore",
        include_str!("../fixture/workspace/.gitignore"),
    ),
    (
        "apps/runtime/Cargo.lock",
        include_str!("../fixture/workspace/apps/runtime/Cargo.lock"),
    ),
    (
        "apps/runtime/Cargo.toml",
        include_str!("../fixture/workspace/apps/runtime/Cargo.toml"),
    ),
    (
        "apps/runtime/src/fx/mod.rs",
        include_str!("../fixture/workspace/apps/runtime/src/fx/mod.rs"),
    ),
    (
        "apps/runtime/src/fx/service.rs",
        include_str!("../fixture/workspace/apps/runtime/src/fx/service.rs"),
    ),
    (
        "apps/runtime/src/lib.rs",
        include_str!("../fixture/workspace/apps/runtime/src/lib.rs"),
    ),
    (
        "apps/runtime/src/server.rs",
        include_str!("../fixture/workspace/apps/runtime/src/server.rs"),
    ),
    (
        "scripts/run-cross-surface-contract-harness.sh",
        include_str!("../fixture/workspace/scripts/run-cross-surface-contract-harness.sh"),
    ),
];

/// The fixture workspace under `cache`, written out from the binary when it is not there yet:
/// `<cache>/fixture-workspace-<digest>` (the digest of its files, so another build's fixture
/// never mixes in). Written into a temporary folder and renamed, so concurrent runs never see
/// half a workspace.
pub fn fixture_workspace(cache: &Path) -> std::io::Result<PathBuf> {
    let files = FIXTURE_FILES;
    let mut digest = Sha256::new();
    for (name, contents) in files {
        digest.update(name.as_bytes());
        digest.update(b"\0");
        digest.update(contents.as_bytes());
    }
    let digest = hex::encode(digest.finalize());
    let root = cache.join(format!("fixture-workspace-{}", &digest[..12]));
    if root.join("apps/runtime/Cargo.toml").is_file() {
        return Ok(root);
    }
    std::fs::create_dir_all(cache)?;
    let staging = tempfile_dir(cache)?;
    for (name, contents) in files {
        let path = staging.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents)?;
        if name.ends_with(".sh") {
            make_executable(&path)?;
        }
    }
    match std::fs::rename(&staging, &root) {
        Ok(()) => Ok(root),
        // Another run wrote it first: theirs is the same.
        Err(_) if root.join("apps/runtime/Cargo.toml").is_file() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(root)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

fn tempfile_dir(parent: &Path) -> std::io::Result<PathBuf> {
    use rand::Rng;
    let path = parent.join(format!(
        ".fixture-workspace-{:016x}",
        rand::thread_rng().r#gen::<u64>()
    ));
    std::fs::create_dir(&path)?;
    Ok(path)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixture_workspace_is_written_once_with_its_scripts_executable() {
        let cache = tempfile::tempdir().unwrap();
        let root = super::fixture_workspace(cache.path()).unwrap();
        assert!(root.join("apps/runtime/Cargo.toml").is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let script = root.join("scripts/run-cross-surface-contract-harness.sh");
            let mode = std::fs::metadata(script).unwrap().permissions().mode();
            assert_ne!(mode & 0o111, 0);
        }
        assert_eq!(super::fixture_workspace(cache.path()).unwrap(), root);
    }

    #[test]
    fn every_file_of_the_fixture_folder_is_carried() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixture/workspace");
        let mut on_disk = Vec::new();
        let mut pending = vec![folder.clone()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    // A `cargo test` of the fixture in place leaves its build output here.
                    if !path.ends_with("target") {
                        pending.push(path);
                    }
                } else {
                    let relative = path.strip_prefix(&folder).unwrap();
                    on_disk.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        on_disk.sort();
        let carried: Vec<&str> = super::FIXTURE_FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(carried, on_disk);
    }
}
