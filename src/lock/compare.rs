//! A matrix against its lock: each difference named, in words a reviewer acts on (a check
//! missing, a level lowered, a lane changed without re-locking).

use super::{LockedCheck, MatrixLock};
use crate::cutover::CutoverPhase;
use crate::outcome::Level;
use std::collections::BTreeMap;

/// One way a matrix differs from its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A file's content changed since the lock was written.
    FileChanged {
        kind: &'static str,
        name: String,
        locked: String,
        now: String,
    },
    /// A file the lock does not know.
    FileAdded { kind: &'static str, name: String },
    /// A locked file that is gone.
    FileRemoved { kind: &'static str, name: String },
    /// A locked check that the matrix no longer declares (in this phase).
    CheckMissing { id: String, level: Level },
    /// A declared check the lock does not know.
    CheckUnlocked { id: String, level: Level },
    /// A check's level differs from the lock (lowered: required → optional).
    LevelChanged {
        id: String,
        locked: Level,
        declared: Level,
    },
    /// A check's target, lane or phases differ from the lock.
    CheckMoved {
        id: String,
        what: &'static str,
        locked: String,
        declared: String,
    },
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::FileChanged {
                kind,
                name,
                locked,
                now,
            } => write!(
                f,
                "{kind} {name} changed since the lock (sha256 {} locked, {} now): review it, then re-lock",
                short(locked),
                short(now)
            ),
            Difference::FileAdded { kind, name } => {
                write!(
                    f,
                    "{kind} {name} is not in the lock: review it, then re-lock"
                )
            }
            Difference::FileRemoved { kind, name } => {
                write!(f, "{kind} {name} is in the lock but gone")
            }
            Difference::CheckMissing { id, level } => write!(
                f,
                "check {id} ({}) is in the lock but not declared",
                level.as_str()
            ),
            Difference::CheckUnlocked { id, level } => write!(
                f,
                "check {id} ({}) is declared but not in the lock",
                level.as_str()
            ),
            Difference::LevelChanged {
                id,
                locked,
                declared,
            } => {
                let how = if *locked == Level::Required {
                    "a level lowered"
                } else {
                    "a level raised"
                };
                write!(
                    f,
                    "check {id} is locked {} but declared {} ({how})",
                    locked.as_str(),
                    declared.as_str()
                )
            }
            Difference::CheckMoved {
                id,
                what,
                locked,
                declared,
            } => write!(f, "check {id}: {what} {declared}, locked {locked}"),
        }
    }
}

fn files(
    kind: &'static str,
    locked: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
    out: &mut Vec<Difference>,
) {
    for (name, digest) in locked {
        match now.get(name) {
            None => out.push(Difference::FileRemoved {
                kind,
                name: name.clone(),
            }),
            Some(current) if current != digest => out.push(Difference::FileChanged {
                kind,
                name: name.clone(),
                locked: digest.clone(),
                now: current.clone(),
            }),
            Some(_) => {}
        }
    }
    for name in now.keys().filter(|n| !locked.contains_key(*n)) {
        out.push(Difference::FileAdded {
            kind,
            name: name.clone(),
        });
    }
}

fn phases(check: &LockedCheck) -> String {
    let names: Vec<&str> = check.phases.iter().map(|p| p.name()).collect();
    names.join(",")
}

/// Every difference between `lock` and `now` (the matrix as planned), checks included only
/// for `phase` when one is given (a gate decides one phase; its plan holds that phase's checks).
pub fn compare(
    lock: &MatrixLock,
    now: &MatrixLock,
    phase: Option<CutoverPhase>,
) -> Vec<Difference> {
    let mut out = Vec::new();
    files("lane file", &lock.files, &now.files, &mut out);
    files("stdlib module", &lock.stdlib, &now.stdlib, &mut out);
    let in_scope = |c: &&LockedCheck| phase.is_none_or(|p| c.phases.contains(&p));
    let locked: Vec<&LockedCheck> = lock.checks.iter().filter(in_scope).collect();
    let declared: Vec<&LockedCheck> = now.checks.iter().filter(in_scope).collect();
    for l in &locked {
        let Some(d) = declared.iter().find(|d| d.id == l.id) else {
            out.push(Difference::CheckMissing {
                id: l.id.clone(),
                level: l.level,
            });
            continue;
        };
        if l.level != d.level {
            out.push(Difference::LevelChanged {
                id: l.id.clone(),
                locked: l.level,
                declared: d.level,
            });
        }
        let moved = |what, locked: String, declared: String| Difference::CheckMoved {
            id: l.id.clone(),
            what,
            locked,
            declared,
        };
        let target = |c: &LockedCheck| c.target.clone().unwrap_or_else(|| "-".to_string());
        if l.target != d.target {
            out.push(moved("targets", target(l), target(d)));
        }
        if l.lane != d.lane {
            out.push(moved("is declared in", l.lane.clone(), d.lane.clone()));
        }
        if phase.is_none() && l.phases != d.phases {
            out.push(moved("runs in phases", phases(l), phases(d)));
        }
    }
    for d in declared
        .iter()
        .filter(|d| !locked.iter().any(|l| l.id == d.id))
    {
        out.push(Difference::CheckUnlocked {
            id: d.id.clone(),
            level: d.level,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, level: Level, phases: &[CutoverPhase]) -> LockedCheck {
        LockedCheck {
            id: id.to_string(),
            level,
            target: Some("staging".to_string()),
            phases: phases.to_vec(),
            lane: "x.rhai".to_string(),
        }
    }

    fn lock(files: &[(&str, &str)], checks: Vec<LockedCheck>) -> MatrixLock {
        MatrixLock {
            schema: super::super::SCHEMA.to_string(),
            files: files
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            stdlib: BTreeMap::new(),
            checks,
        }
    }

    #[test]
    fn each_difference_is_named() {
        use CutoverPhase::*;
        let locked = lock(
            &[("x.rhai", "aaaa"), ("gone.rhai", "bbbb")],
            vec![
                check("kept", Level::Required, &[AppSurface]),
                check("lowered", Level::Required, &[AppSurface]),
                check("dropped", Level::Required, &[AppSurface]),
                check("later", Level::Required, &[LegacyDeletion]),
            ],
        );
        let now = lock(
            &[("x.rhai", "cccc"), ("new.rhai", "dddd")],
            vec![
                check("kept", Level::Required, &[AppSurface]),
                check("lowered", Level::Optional, &[AppSurface]),
                check("added", Level::Required, &[AppSurface]),
            ],
        );
        let text: Vec<String> = compare(&locked, &now, Some(AppSurface))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            text,
            [
                "lane file gone.rhai is in the lock but gone",
                "lane file x.rhai changed since the lock (sha256 aaaa locked, cccc now): review it, then re-lock",
                "lane file new.rhai is not in the lock: review it, then re-lock",
                "check lowered is locked required but declared optional (a level lowered)",
                "check dropped (required) is in the lock but not declared",
                "check added (required) is declared but not in the lock",
            ]
        );
        // The same matrix: nothing to say.
        assert!(compare(&locked, &locked, Some(AppSurface)).is_empty());
        assert!(compare(&locked, &locked, None).is_empty());
    }
}
