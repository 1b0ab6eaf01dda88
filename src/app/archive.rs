//! `oa-validate archive DIR --to DEST`: the folder packed ([`crate::archive::pack`]) and
//! stored in a folder or in Cloud Storage, with its index line.

use super::sign;
use crate::archive::{self, Outcome, gcs};
use crate::config::{ArchiveConfig, UsageError};
use crate::exit_code;
use std::time::Duration;

/// An upload of a large folder over a slow link may take a while; never for ever.
const UPLOAD_DEADLINE: Duration = Duration::from_secs(600);

pub fn archive(
    runtime: &tokio::runtime::Runtime,
    config: &ArchiveConfig,
) -> Result<i32, UsageError> {
    let packed = archive::pack(&config.dir).map_err(UsageError)?;
    let (outcome, place) = if config.to.starts_with("gs://") {
        let dest = gcs::Destination::parse(&config.to).ok_or_else(|| {
            UsageError(format!(
                "--to {:?}: expected gs://BUCKET[/PREFIX] (a bucket of a-z 0-9 - _ .)",
                config.to
            ))
        })?;
        let outcome = sign::standalone_session(runtime, &config.env, UPLOAD_DEADLINE, |session| {
            gcs::store(session, &packed, &dest)
        })
        .map_err(|e| UsageError(format!("archive: {e}")))?;
        (outcome, dest.url_of(&packed.name))
    } else {
        let dest = std::path::Path::new(&config.to);
        let outcome = archive::local::store(&packed, dest)
            .map_err(|e| UsageError(format!("archive: {e}")))?;
        (outcome, dest.join(&packed.name).display().to_string())
    };
    let said = match outcome {
        Outcome::Archived => "archived",
        Outcome::AlreadyArchived => "already archived",
    };
    println!(
        "{said}: {} ({} bytes; index {})",
        crate::diagnostic::escape_controls(&place),
        packed.bytes.len(),
        archive::INDEX_FILE
    );
    Ok(exit_code::GO)
}
