//! A temp dir plus a tripwire the default targets point at, for one test.

use super::*;
use std::path::{Path, PathBuf};

/// A temp dir plus a tripwire listener the default targets point at.
pub struct Sandbox {
    dir: tempfile::TempDir,
    tripwire: Tripwire,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        ensure_setup();
        let dir = tempfile::Builder::new()
            .prefix("oa-validate-it-")
            .tempdir()
            .expect("create temp dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("create fake HOME");
        Sandbox {
            dir,
            tripwire: Tripwire::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `rel` (creating parent folders) and returns the full path.
    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create fixture folder");
        }
        std::fs::write(&path, contents).expect("write fixture");
        path
    }

    /// Copies a file of the repository (e.g. `lanes/control.rhai`) into the sandbox.
    pub fn copy_from_repo(&self, rel: &str, to: &str) -> PathBuf {
        let text = std::fs::read_to_string(repo_root().join(rel)).expect("read repo file");
        self.write(to, &text)
    }

    /// Copies a folder of the repository (e.g. a fixture evidence folder) into the sandbox.
    pub fn copy_dir_from_repo(&self, rel: &str, to: &str) -> PathBuf {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("create folder");
            for entry in std::fs::read_dir(from)
                .expect("read fixture folder")
                .flatten()
            {
                let target = to.join(entry.file_name());
                if entry.path().is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), &target).expect("copy fixture file");
                }
            }
        }
        let target = self.path().join(to);
        copy(&repo_root().join(rel), &target);
        target
    }

    /// A path inside the sandbox for an evidence folder (not created).
    pub fn out(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// An `Evidence` reader for `out(name)`.
    pub fn evidence(&self, name: &str) -> Evidence {
        Evidence::new(self.out(name))
    }

    /// The binary, run in the sandbox (fixture lanes written by the test).
    pub fn cmd(&self) -> Cmd {
        Cmd::new(self.path(), &self.path().join("home"), &self.tripwire.url())
    }

    /// The binary, run in the repository root (the real `lanes/`).
    pub fn cmd_in_repo(&self) -> Cmd {
        Cmd::new(
            &repo_root(),
            &self.path().join("home"),
            &self.tripwire.url(),
        )
    }

    /// The binary, run in `dir` (e.g. a fresh copy of the repository, or an empty folder).
    pub fn cmd_in(&self, dir: &Path) -> Cmd {
        Cmd::new(dir, &self.path().join("home"), &self.tripwire.url())
    }

    /// A fresh copy of the repository at `to` (inside the sandbox): what a new user has after
    /// `git clone`: no `target/`, nothing installed, nothing git-ignored.
    pub fn fresh_copy_of_repo(&self, to: &str) -> PathBuf {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("create folder");
            for entry in std::fs::read_dir(from).expect("read folder").flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                // Build output and what setup installs are never part of a checkout.
                if matches!(
                    name.as_ref(),
                    "target" | ".git" | "vendor" | "validation-evidence"
                ) {
                    continue;
                }
                let target = to.join(entry.file_name());
                if entry.path().is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), &target).expect("copy file");
                }
            }
        }
        let target = self.path().join(to);
        copy(&repo_root(), &target);
        target
    }

    /// Another oa-validate binary (e.g. one `cargo install` put somewhere), run in `dir`.
    pub fn cmd_of(&self, program: &Path, dir: &Path) -> Cmd {
        Cmd::of(
            program,
            dir,
            &self.path().join("home"),
            &self.tripwire.url(),
        )
    }

    /// `oa-validate lock --lanes lanes` in the sandbox (with `env`): locks the sandbox's own
    /// matrix, so a `--gate --lanes lanes` run there is refused only for its own reasons.
    pub fn lock_lanes(&self, env: &[(&str, &str)]) -> Run {
        let mut cmd = self.cmd().args(["lock", "--lanes", "lanes"]);
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    }

    /// The loopback listener the default staging/prod base URLs point at.
    pub fn tripwire(&self) -> &Tripwire {
        &self.tripwire
    }
}
