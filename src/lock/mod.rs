//! The matrix lock (`lanes/matrix.lock`): the identity of a matrix — every check (id, level,
//! target, the cutover phases it runs in, its lane), the SHA-256 of every lane and module
//! file, and of every stdlib module. `oa-validate lock` writes it, a reviewer reads its diff
//! (a check quietly made optional shows up there), `--gate` refuses a plan that differs from
//! it ([`compare`]), and every report names its digest.
//!
//! JSON, one check per line, so a review diff shows one line per changed check.

pub mod compare;

use crate::cutover::CutoverPhase;
use crate::outcome::{CheckSpec, Level};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub use compare::{Difference, compare};

use crate::config::{LaneFile, LaneSelection, Matrix, UsageError};
use crate::plan::Plan;

pub const SCHEMA: &str = "oa-validate.matrix-lock.v1";

/// A matrix as locked (or as planned now, to compare with the lock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MatrixLock {
    pub schema: String,
    /// Every `.rhai` file of the matrix folder (lanes and the modules beside them), by path
    /// relative to it: its SHA-256.
    pub files: BTreeMap<String, String>,
    /// Every stdlib module the lanes can import, by name: its SHA-256.
    pub stdlib: BTreeMap<String, String>,
    /// Every check of every phase, in plan order.
    pub checks: Vec<LockedCheck>,
}

/// One check as the lock holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LockedCheck {
    pub id: String,
    pub level: Level,
    pub target: Option<String>,
    /// The phases whose plan declares it.
    pub phases: Vec<CutoverPhase>,
    /// Its lane, relative to the matrix folder.
    pub lane: String,
}

/// Lowercase hex SHA-256 of `text`.
pub fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl MatrixLock {
    /// A lock of `files` (path relative to the matrix folder, source), the binary's stdlib,
    /// and the checks each phase plans: (phase, [(lane relative to the matrix, check)]).
    /// A check planned in several phases is one entry naming them all.
    pub fn new<'a>(
        files: &[(String, String)],
        plans: impl IntoIterator<Item = (CutoverPhase, Vec<(String, &'a CheckSpec)>)>,
    ) -> MatrixLock {
        let mut checks: Vec<LockedCheck> = Vec::new();
        for (phase, planned) in plans {
            for (lane, spec) in planned {
                let same = |c: &&mut LockedCheck| {
                    c.id == spec.id
                        && c.level == spec.level
                        && c.target == spec.target
                        && c.lane == lane
                };
                match checks.iter_mut().find(|c| same(c)) {
                    Some(check) if !check.phases.contains(&phase) => check.phases.push(phase),
                    Some(_) => {}
                    None => checks.push(LockedCheck {
                        id: spec.id.clone(),
                        level: spec.level,
                        target: spec.target.clone(),
                        phases: vec![phase],
                        lane,
                    }),
                }
            }
        }
        MatrixLock {
            schema: SCHEMA.to_string(),
            files: files
                .iter()
                .map(|(name, source)| (name.clone(), sha256(source)))
                .collect(),
            stdlib: crate::engine::stdlib::modules()
                .map(|(name, source)| (name.to_string(), sha256(source)))
                .collect(),
            checks,
        }
    }

    /// The checks that run in `phase`.
    pub fn checks_of(&self, phase: CutoverPhase) -> impl Iterator<Item = &LockedCheck> {
        self.checks
            .iter()
            .filter(move |c| c.phases.contains(&phase))
    }

    /// The lock file's text: JSON with one check per line, and a trailing newline.
    pub fn render(&self) -> String {
        let map = |entries: &BTreeMap<String, String>| -> String {
            let rows: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("    {}: {}", compact(k), compact(v)))
                .collect();
            format!("{{\n{}\n  }}", rows.join(",\n"))
        };
        let checks: Vec<String> = self
            .checks
            .iter()
            .map(|c| format!("    {}", compact(c)))
            .collect();
        format!(
            "{{\n  \"schema\": {},\n  \"files\": {},\n  \"stdlib\": {},\n  \"checks\": [\n{}\n  ]\n}}\n",
            compact(self.schema.as_str()),
            map(&self.files),
            map(&self.stdlib),
            checks.join(",\n")
        )
    }

    /// Reads a lock file.
    pub fn parse(text: &str) -> Result<MatrixLock, String> {
        let lock: MatrixLock = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if lock.schema != SCHEMA {
            return Err(format!(
                "schema {:?} (this version reads {SCHEMA})",
                lock.schema
            ));
        }
        Ok(lock)
    }
}

/// Compact JSON of plain data (string keys: serialization cannot fail).
fn compact<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("serializable")
}

/// What the reports say about the matrix a run ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MatrixRecord {
    /// The lock file as named in messages (`lanes/matrix.lock (built in)`, `DIR/matrix.lock`).
    pub lock: String,
    /// SHA-256 of the lock file's text; `null` when there is none.
    pub lock_sha256: Option<String>,
    /// `matches`, `differs`, `missing`, or `not compared` (lane files were named).
    pub status: LockStatus,
    /// Each difference, in words (empty unless `differs`).
    pub differences: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LockStatus {
    Matches,
    Differs,
    Missing,
    NotCompared,
}

impl LockStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LockStatus::Matches => "matches",
            LockStatus::Differs => "differs",
            LockStatus::Missing => "missing",
            LockStatus::NotCompared => "not-compared",
        }
    }
}

impl MatrixRecord {
    /// One line for the terminal and SUMMARY.md: `lanes/matrix.lock (built in) sha256:1a2b3c4d5e6f (matches)`.
    pub fn line(&self) -> String {
        let digest = self.lock_sha256.as_deref().map_or("-".to_string(), |d| {
            format!("sha256:{}", &d[..d.len().min(12)])
        });
        let status = match self.status {
            LockStatus::Matches => "matches".to_string(),
            LockStatus::Differs => format!("differs: {}", self.differences.len()),
            LockStatus::Missing => "no lock".to_string(),
            LockStatus::NotCompared => "not compared: lane files named".to_string(),
        };
        format!("{} {digest} ({status})", self.lock)
    }
}

/// A lane as the lock names it: relative to its matrix folder (a lane from elsewhere, such as
/// the built-in backup lane a phase brings along, by its display name).
pub fn lane_key(file: &LaneFile, matrix: &Matrix) -> String {
    match (file, matrix) {
        (LaneFile::Embedded(name), Matrix::BuiltIn) => name.to_string(),
        (LaneFile::Disk(path), Matrix::Dir(dir)) => path
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| file.display()),
        _ => file.display(),
    }
}

/// The checks of `plan` as the lock keys them: (lane, check).
pub fn planned<'a>(plan: &'a Plan, matrix: &Matrix) -> Vec<(String, &'a CheckSpec)> {
    plan.checks
        .iter()
        .map(|c| (lane_key(&plan.lane_of(c).file, matrix), &c.spec))
        .collect()
}

/// The lock of `matrix` as it is now, from one plan per phase (each narrowed to the checks
/// that apply in its phase).
pub fn of_plans<'a>(
    matrix: &Matrix,
    plans: impl IntoIterator<Item = (CutoverPhase, &'a Plan)>,
) -> Result<MatrixLock, UsageError> {
    let files = matrix.files()?;
    let plans: Vec<(CutoverPhase, Vec<(String, &CheckSpec)>)> = plans
        .into_iter()
        .map(|(phase, plan)| {
            let mut checks = planned(plan, matrix);
            checks.retain(|(_, spec)| phase.includes(&spec.phases));
            (phase, checks)
        })
        .collect();
    Ok(MatrixLock::new(&files, plans))
}

/// What a run's reports say about its matrix: for a whole matrix, its lock compared with the
/// plan's checks of `phase` (before any `--check` filter); for named lane files, the built-in
/// lock, not compared.
pub fn record(
    lanes: &LaneSelection,
    plan: &Plan,
    phase: CutoverPhase,
) -> Result<MatrixRecord, UsageError> {
    let Some(matrix) = &lanes.matrix else {
        return Ok(MatrixRecord {
            lock: Matrix::BuiltIn.lock_name(),
            lock_sha256: crate::embedded::matrix_lock().map(sha256),
            status: LockStatus::NotCompared,
            differences: Vec::new(),
        });
    };
    let lock = matrix.lock_name();
    let Some(text) = matrix.lock_text()? else {
        return Ok(MatrixRecord {
            lock,
            lock_sha256: None,
            status: LockStatus::Missing,
            differences: Vec::new(),
        });
    };
    let locked = MatrixLock::parse(&text)
        .map_err(|e| UsageError(format!("{lock}: not a matrix lock: {e}")))?;
    let now = of_plans(matrix, [(phase, plan)])?;
    let differences: Vec<String> = compare(&locked, &now, Some(phase))
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(MatrixRecord {
        lock,
        lock_sha256: Some(sha256(&text)),
        status: if differences.is_empty() {
            LockStatus::Matches
        } else {
            LockStatus::Differs
        },
        differences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::SourcePos;

    fn spec(id: &str, level: Level, target: &str) -> CheckSpec {
        let mut spec = CheckSpec::new(id, level, SourcePos::default());
        spec.target = Some(target.to_string());
        spec
    }

    #[test]
    fn a_lock_names_each_check_once_with_its_phases_and_reads_back() {
        let a = spec("a-staging", Level::Required, "staging");
        let b = spec("b-late", Level::Optional, "prod");
        let files = vec![("x.rhai".to_string(), "required(\"a\", || {});".to_string())];
        let lock = MatrixLock::new(
            &files,
            [
                (CutoverPhase::AppSurface, vec![("x.rhai".to_string(), &a)]),
                (
                    CutoverPhase::LegacyDeletion,
                    vec![("x.rhai".to_string(), &a), ("x.rhai".to_string(), &b)],
                ),
            ],
        );
        assert_eq!(lock.checks.len(), 2);
        assert_eq!(
            lock.checks[0].phases,
            [CutoverPhase::AppSurface, CutoverPhase::LegacyDeletion]
        );
        assert_eq!(lock.checks_of(CutoverPhase::AppSurface).count(), 1);
        assert_eq!(lock.files["x.rhai"], sha256("required(\"a\", || {});"));
        assert!(lock.stdlib.contains_key("control"));
        let text = lock.render();
        assert!(
            text.contains(
                "    {\"id\":\"b-late\",\"level\":\"optional\",\"target\":\"prod\",\"phases\":[\"legacy-deletion\"],\"lane\":\"x.rhai\"}\n"
            ),
            "one check per line:\n{text}"
        );
        assert_eq!(MatrixLock::parse(&text).unwrap(), lock);
        assert!(MatrixLock::parse("{\"schema\":\"other\"}").is_err());
    }
}
