//! `backup::` — policy 4: legacy deletion phases need fresh Laravel DB backup evidence.
//!
//! The evidence is a JSON file `{ "created_at": RFC 3339, "sha256": hex, "location": ... }`
//! written by whoever took the backup. It must exist, be younger than `--backup-max-age`
//! (default 24h), and, when `location` is a local file, that file's SHA-256 must match.

use crate::api::assert::{record_failure, record_pass};
use crate::api::bind;
use crate::engine::context;
use crate::file_input::{self, FileInputError, INPUT_CAP, Stop};
use rhai::plugin::*;
use rhai::{EvalAltResult, Map, NativeCallContext};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::bind::Res;

/// The variable naming the evidence file.
pub const EVIDENCE_VAR: &str = "LARAVEL_DB_BACKUP_EVIDENCE";
/// Clock skew tolerated for a `created_at` in the future.
const FUTURE_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// SHA-256 of a regular file of any size, lower-case hex; `stop` is asked between chunks
/// (a device or a FIFO is refused: `/dev/zero` never ends).
pub fn file_sha256(path: &Path, stop: &dyn Fn() -> Option<Stop>) -> Result<String, FileInputError> {
    let mut hasher = Sha256::new();
    file_input::for_each_chunk(path, stop, |chunk| hasher.update(chunk))?;
    Ok(hex::encode(hasher.finalize()))
}

/// The local path of a backup `location`: a `file://` URL or a path without a scheme
/// (relative to the evidence file's folder); `None` for a remote location (`gs://...`).
pub fn local_location(location: &str, evidence_dir: &Path) -> Option<PathBuf> {
    if let Some(rest) = location.strip_prefix("file://") {
        return url::Url::parse(location)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .or_else(|| Some(PathBuf::from(rest)));
    }
    if location.contains("://") {
        return None;
    }
    let path = PathBuf::from(location);
    Some(if path.is_absolute() {
        path
    } else {
        evidence_dir.join(path)
    })
}

/// `30h 12m` style age, to the minute (seconds when younger than a minute).
fn age_text(age: Duration) -> String {
    if age < Duration::from_secs(60) {
        return format!("{}s", age.as_secs());
    }
    humantime::format_duration(Duration::from_secs(age.as_secs() / 60 * 60)).to_string()
}

fn verify(ctx: &NativeCallContext, path: &str) -> Res<Map> {
    let host = bind::in_check(ctx, "backup::verify_evidence")?;
    let fail = |message: String, expected: &str, actual: String| {
        record_failure(ctx, message, Some(expected.to_string()), Some(actual))
    };
    let evidence_path = PathBuf::from(path);
    let text = match file_input::read_to_string(&evidence_path, INPUT_CAP, &context::io_stop) {
        Ok(text) => text,
        Err(e) => {
            if let Some(stop) = bind::file_input_stop(ctx, &e) {
                return Err(stop);
            }
            return Err(fail(
                format!("backup evidence {path} ({EVIDENCE_VAR}) cannot be read: {e}"),
                "a readable JSON file",
                e.to_string(),
            ));
        }
    };
    record_pass(&format!("backup evidence {path} exists"));
    context::with_check(|c| {
        c.record
            .artifacts
            .push(("backup-evidence.json".to_string(), text.clone()))
    });
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        fail(
            format!("backup evidence {path} is not JSON: {e}"),
            "JSON with created_at, sha256, location",
            e.to_string(),
        )
    })?;
    let field = |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::trim);
    let missing: Vec<&str> = ["created_at", "sha256", "location"]
        .into_iter()
        .filter(|name| field(name).is_none_or(str::is_empty))
        .collect();
    if !missing.is_empty() {
        return Err(fail(
            format!(
                "backup evidence {path} lacks {} (strings)",
                missing.join(", ")
            ),
            "created_at, sha256, location",
            format!("missing {}", missing.join(", ")),
        ));
    }
    let (created_at, sha256, location) = (
        field("created_at").unwrap_or_default(),
        field("sha256").unwrap_or_default().to_ascii_lowercase(),
        field("location").unwrap_or_default(),
    );
    let created = chrono::DateTime::parse_from_rfc3339(created_at).map_err(|e| {
        fail(
            format!("backup evidence created_at {created_at:?} is not an RFC 3339 time: {e}"),
            "an RFC 3339 time",
            created_at.to_string(),
        )
    })?;
    if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(fail(
            format!("backup evidence sha256 {sha256:?} is not 64 hex digits"),
            "64 hex digits",
            sha256.clone(),
        ));
    }
    let now = chrono::Utc::now();
    let age_ms = (now - created.with_timezone(&chrono::Utc)).num_milliseconds();
    let max_age = host.settings.backup_max_age;
    if age_ms < 0 {
        let ahead = Duration::from_millis(age_ms.unsigned_abs());
        if ahead > FUTURE_TOLERANCE {
            return Err(fail(
                format!(
                    "backup evidence created_at {created_at} is {} in the future",
                    age_text(ahead)
                ),
                "a time in the past",
                created_at.to_string(),
            ));
        }
    }
    let age = Duration::from_millis(age_ms.max(0).unsigned_abs());
    if age > max_age {
        return Err(fail(
            format!(
                "backup evidence is {} old (created_at {created_at}), older than the limit of {} (--backup-max-age)",
                age_text(age),
                humantime::format_duration(max_age)
            ),
            &format!("at most {}", humantime::format_duration(max_age)),
            age_text(age),
        ));
    }
    record_pass(&format!(
        "backup evidence is {} old, within {}",
        age_text(age),
        humantime::format_duration(max_age)
    ));

    let evidence_dir = evidence_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let verified = match local_location(location, &evidence_dir) {
        Some(local) => {
            let actual = file_sha256(&local, &context::io_stop).map_err(|e| {
                if let Some(stop) = bind::file_input_stop(ctx, &e) {
                    return stop;
                }
                fail(
                    format!(
                        "backup file {} (location) cannot be read: {e}",
                        local.display()
                    ),
                    "a readable backup file",
                    e.to_string(),
                )
            })?;
            if actual != sha256 {
                return Err(fail(
                    format!(
                        "backup file {} has SHA-256 {actual}, the evidence says {sha256}",
                        local.display()
                    ),
                    &sha256,
                    actual,
                ));
            }
            record_pass(&format!(
                "backup file {} matches its SHA-256",
                local.display()
            ));
            true
        }
        None => {
            context::log(format!(
                "backup location {location} is not local: its SHA-256 is not verified here"
            ));
            false
        }
    };
    let mut m = Map::new();
    m.insert("created_at".into(), created_at.to_string().into());
    m.insert("age_seconds".into(), (age.as_secs() as i64).into());
    m.insert("location".into(), location.to_string().into());
    m.insert("sha256".into(), sha256.into());
    m.insert("sha256_verified".into(), verified.into());
    Ok(m)
}

#[export_module]
pub mod backup_api {
    /// Verifies Laravel DB backup evidence (policy 4): the JSON file at `path` exists, has
    /// `created_at` (RFC 3339), `sha256` and `location`, is younger than `--backup-max-age`
    /// (default 24h), and when `location` is a local file (a path, or `file://`) its SHA-256
    /// matches. Each step counts as an assertion; the file is saved as an artifact. Returns
    /// `#{ created_at, age_seconds, location, sha256, sha256_verified }`.
    #[rhai_fn(return_raw)]
    pub fn verify_evidence(ctx: NativeCallContext, path: &str) -> Result<Map, Box<EvalAltResult>> {
        verify(&ctx, path)
    }

    /// The largest age accepted (`--backup-max-age`), in seconds.
    pub fn max_age_seconds() -> i64 {
        context::host()
            .map(|h| h.settings.backup_max_age.as_secs() as i64)
            .unwrap_or(crate::config::phase::DEFAULT_BACKUP_MAX_AGE.as_secs() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_locations_and_remote_ones() {
        let dir = Path::new("/evidence");
        assert_eq!(
            local_location("backup.sql.gz", dir),
            Some(PathBuf::from("/evidence/backup.sql.gz"))
        );
        assert_eq!(
            local_location("/var/b.sql", dir),
            Some(PathBuf::from("/var/b.sql"))
        );
        assert_eq!(
            local_location("file:///var/b.sql", dir),
            Some(PathBuf::from("/var/b.sql"))
        );
        assert_eq!(local_location("gs://bucket/b.sql", dir), None);
    }

    #[test]
    fn ages_read_to_the_minute() {
        assert_eq!(age_text(Duration::from_secs(30 * 3600 + 125)), "1day 6h 2m");
        assert_eq!(age_text(Duration::from_secs(42)), "42s");
    }
}
