//! `oa-validate lock [--lanes DIR] [--check]`: the matrix of DIR planned for every cutover
//! phase, written as DIR/matrix.lock — or, with `--check`, compared with it (exit 1 naming each
//! difference). Without `--lanes`, the matrix a run would use: `--check` compares the built-in
//! matrix with its built-in lock; writing locks ./lanes (the source tree's, which a build
//! embeds) when there is one.

use super::host;
use crate::config::{self, Deployment, LaneSelection, LockConfig, PrimitiveSettings, UsageError};
use crate::cutover::CutoverPhase;
use crate::exit_code;
use crate::lock::{self, MatrixLock};

pub fn lock(runtime: &tokio::runtime::Runtime, config: LockConfig) -> Result<i32, UsageError> {
    let matrix = config.matrix;
    let lanes = matrix.lanes()?;
    let engine = crate::api::build_confined(matrix.folder());
    let mut plans = Vec::new();
    for &phase in CutoverPhase::all() {
        let mut selection = LaneSelection {
            files: lanes.clone(),
            full_matrix: true,
            matrix: Some(matrix.clone()),
            named: Vec::new(),
        };
        config::phase::add_phase_lanes(Some(phase), &mut selection);
        // Planned as a gate run plans it: against staging and prod, I/O refused.
        let deployment = Deployment::real(config.env.clone())?;
        let settings = PrimitiveSettings {
            phase: Some(phase),
            ..PrimitiveSettings::default()
        };
        let host = host::build(runtime, deployment, settings)?;
        match host::plan(&engine, &host, &selection.files) {
            Ok(plan) => plans.push((phase, plan)),
            Err(code) => return Ok(code),
        }
    }
    let now = lock::of_plans(&matrix, plans.iter().map(|(phase, plan)| (*phase, plan)))?;
    let name = matrix.lock_name();
    let existing = matrix.lock_text()?;
    if config.check_only {
        let Some(text) = existing else {
            eprintln!("error: {name} does not exist: write it with `oa-validate lock`");
            return Ok(exit_code::NO_GO);
        };
        let locked = MatrixLock::parse(&text)
            .map_err(|e| UsageError(format!("{name}: not a matrix lock: {e}")))?;
        let differences = lock::compare(&locked, &now, None);
        if differences.is_empty() {
            println!("{name} matches the matrix (sha256 {})", lock::sha256(&text));
            return Ok(exit_code::GO);
        }
        for difference in &differences {
            eprintln!("differs: {difference}");
        }
        eprintln!(
            "error: the matrix differs from {name} ({} difference(s))",
            differences.len()
        );
        return Ok(exit_code::NO_GO);
    }
    let text = now.render();
    let path = match &matrix {
        config::Matrix::Dir(dir) => dir.join(config::lanes::LOCK_FILE),
        config::Matrix::BuiltIn => {
            return Err(UsageError(
                "no ./lanes folder here: a run without --lanes uses the matrix built into the \
                 binary, whose lock is built in too (compare them with `oa-validate lock \
                 --check`); to write a matrix folder's lock, name it: oa-validate lock --lanes DIR"
                    .to_string(),
            ));
        }
    };
    crate::evidence::write::atomic_write(&path, text.as_bytes())
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    let changed = existing.as_deref() != Some(text.as_str());
    println!(
        "{} {}: {} checks, {} lane files, sha256 {}",
        if changed { "wrote" } else { "unchanged" },
        path.display(),
        now.checks.len(),
        now.files.len(),
        lock::sha256(&text)
    );
    if changed {
        println!(
            "review its diff and commit it; a binary built from this tree (cargo build, cargo install --path .) carries it"
        );
    }
    Ok(exit_code::GO)
}
