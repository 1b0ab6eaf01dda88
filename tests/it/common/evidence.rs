//! Readers for an evidence folder (results.tsv, summary.json, SUMMARY.md, artifacts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Readers for an evidence folder.
pub struct Evidence {
    pub dir: PathBuf,
}

/// Whether `sha256sum -c SHA256SUMS` (GNU coreutils, as a user runs it) passes in `dir`.
pub fn sha256sum_verifies(dir: &Path) -> bool {
    std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(dir)
        .status()
        .expect("sha256sum runs")
        .success()
}

impl Evidence {
    /// Whether `sha256sum -c SHA256SUMS` passes in the folder.
    pub fn sums_verify(&self) -> bool {
        sha256sum_verifies(&self.dir)
    }

    pub fn new(dir: PathBuf) -> Self {
        Evidence { dir }
    }

    pub fn exists(&self) -> bool {
        self.dir.exists()
    }

    #[track_caller]
    pub fn read(&self, rel: &str) -> String {
        let path = self.dir.join(rel);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// results.tsv as its raw text.
    pub fn tsv_text(&self) -> String {
        self.read("results.tsv")
    }

    /// results.tsv rows as maps keyed by the header names, in file order.
    #[track_caller]
    pub fn tsv_rows(&self) -> Vec<BTreeMap<String, String>> {
        parse_tsv(&self.tsv_text())
    }

    /// The results.tsv row of check `id`.
    #[track_caller]
    pub fn row(&self, id: &str) -> BTreeMap<String, String> {
        self.tsv_rows()
            .into_iter()
            .find(|r| r["check_id"] == id)
            .unwrap_or_else(|| panic!("no row for {id} in\n{}", self.tsv_text()))
    }

    /// (check id, status) of every results.tsv row.
    pub fn statuses(&self) -> Vec<(String, String)> {
        self.tsv_rows()
            .into_iter()
            .map(|r| (r["check_id"].clone(), r["status"].clone()))
            .collect()
    }

    /// (id, status) of every check in report order, from summary.json: the real status
    /// (`errored` stays `errored`, unlike results.tsv).
    #[track_caller]
    pub fn json_statuses(&self) -> Vec<(String, String)> {
        self.summary_json()["verdict"]["checks"]
            .as_array()
            .expect("verdict.checks")
            .iter()
            .map(|c| {
                let field = |name: &str| c[name].as_str().unwrap_or_default().to_string();
                (field("id"), field("status"))
            })
            .collect()
    }

    #[track_caller]
    pub fn summary_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.read("summary.json")).expect("summary.json parses")
    }

    /// `verdict.checks[]` entry of check `id` in summary.json.
    #[track_caller]
    pub fn json_check(&self, id: &str) -> serde_json::Value {
        let summary = self.summary_json();
        summary["verdict"]["checks"]
            .as_array()
            .expect("verdict.checks is an array")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no check {id} in summary.json verdict.checks"))
    }

    pub fn summary_md(&self) -> String {
        self.read("SUMMARY.md")
    }

    /// Every regular file of the folder, relative paths, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.dir, &self.dir, &mut out);
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read evidence folder") {
        let entry = entry.expect("folder entry");
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("inside root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Header + rows, each row a map header name -> field; every row must have all the fields.
#[track_caller]
pub fn parse_tsv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                fields.len(),
                header.len(),
                "row {line:?} does not have the header's {} fields",
                header.len()
            );
            header
                .iter()
                .zip(fields)
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}
