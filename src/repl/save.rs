//! `:save`: the session's HTTP probes as a lane of required checks that runs again against
//! the same target (or a new sim) and holds no secret.

use super::session::Session;
use crate::config::Target;
use crate::engine::context::RequestRecord;
use crate::redact::Redactor;
use std::collections::BTreeSet;
use std::path::Path;

impl Session {
    /// Writes the session's probes as a lane; returns how many checks it holds.
    pub fn save(&self, path: &Path) -> std::io::Result<usize> {
        let lane = saved_lane(
            &id_prefix(path),
            &self.host.targets,
            &self.probes,
            &self.host.services.redactor,
        );
        crate::evidence::write::atomic_write(path, lane.text.as_bytes())?;
        Ok(lane.checks)
    }
}

/// A lane written by `:save`.
pub struct SavedLane {
    pub text: String,
    pub checks: usize,
}

/// Rhai template-string text for a literal piece (escapes what templates interpret).
fn template_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace("${", "\\${")
}

/// The check id prefix of a lane saved to `path`: its file stem in the id alphabet
/// (`lanes/ready probes.rhai` → `ready-probes`), so two saved lanes never share an id.
pub fn id_prefix(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut prefix: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    prefix = prefix.trim_matches('-').to_string();
    if prefix.is_empty() {
        "repl".to_string()
    } else {
        prefix
    }
}

/// The session's probes as required checks that assert the statuses seen, with ids
/// `<prefix>-<target>-<n>`, each restricted to the target it was probed on. URLs under a
/// target's own origins are written relative to `t.control_url`/`t.runtime_url`, tokens as
/// `t.token`, so the lane runs again against the same target (or a new sim) and holds no secret.
pub fn saved_lane(
    prefix: &str,
    targets: &[Target],
    probes: &[(String, RequestRecord)],
    redactor: &Redactor,
) -> SavedLane {
    let mut text = String::from(
        "// Saved by `oa-validate repl` (:save): one required check per HTTP probe,\n\
         // asserting the status seen, on the target it was probed on; a probe that sent a\n\
         // target's token needs its variable (skipped when unset). Edit descriptions and add\n\
         // assertions as you see fit.\n",
    );
    let mut count = 0;
    let names: BTreeSet<&str> = probes.iter().map(|(t, _)| t.as_str()).collect();
    for name in names {
        let Some(target) = targets.iter().find(|t| t.name == name) else {
            continue;
        };
        text.push_str(&format!(
            "\nfor t in targets() {{\n    if t.name != {name:?} {{ continue; }}\n"
        ));
        for (i, (_, p)) in probes.iter().filter(|(t, _)| t == name).enumerate() {
            count += 1;
            let url = relative_url(target, &p.url);
            let mut opts = vec!["timeout: \"10s\"".to_string()];
            if p.with_bearer {
                opts.push("bearer: t.token".to_string());
            }
            if p.follow_redirects {
                opts.push("follow_redirects: true".to_string());
            }
            if let Some(json) = &p.json_body
                && !redactor.contains_secret(json)
            {
                opts.push(format!("json: json::parse({json:?})"));
            }
            let path = url::Url::parse(&p.url)
                .map(|u| u.path().to_string())
                .unwrap_or_default();
            let verb = p.method.to_ascii_lowercase();
            let call = match verb.as_str() {
                "get" | "head" | "post" | "put" | "patch" | "delete" => {
                    format!("http::{verb}({url}, #{{ {} }})", opts.join(", "))
                }
                _ => format!(
                    "http::request({:?}, {url}, #{{ {} }})",
                    p.method,
                    opts.join(", ")
                ),
            };
            // A token probe skips (rather than fails) where the token is not set.
            let needs = if p.with_bearer {
                "        needs: [t.token_var],\n"
            } else {
                ""
            };
            text.push_str(&format!(
                "    required(`{prefix}-${{t.name}}-{n}`, #{{\n        description: `${{t.label}} {method} {path} answers {status}`,\n        target: t,\n{needs}    }}, || {{\n        let r = {call};\n        assert_status(r, {status});\n    }});\n",
                prefix = template_literal(prefix),
                n = i + 1,
                method = p.method,
                path = template_literal(&redactor.redact(&path)),
                status = p.status,
            ));
        }
        text.push_str("}\n");
    }
    SavedLane {
        text: redactor.redact(&text),
        checks: count,
    }
}

/// `` `${t.control_url}/path` `` when the URL is under the target's control or runtime URL.
fn relative_url(target: &Target, url: &str) -> String {
    let bases = [
        (Some(target.control_url.as_str()), "t.control_url"),
        (target.runtime_url.as_deref(), "t.runtime_url"),
    ];
    for (base, expr) in bases {
        if let Some(base) = base
            && let Some(rest) = url.strip_prefix(base)
            && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
        {
            return format!("`${{{expr}}}{}`", template_literal(rest));
        }
    }
    format!("{url:?}")
}
