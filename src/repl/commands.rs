//! The REPL's `:` commands: `:help` (from the engine's own metadata), `:targets`, `:use`,
//! `:env`, `:history`, `:save` and `:quit`.

use super::session::{Evaluated, Session};
use rhai::Engine;
use std::collections::BTreeSet;
use std::path::Path;

const HELP: &str = "\
Type Rhai: `http::get(target.control_url + \"/readyz\")`. Variables, functions and imports
persist; an unfinished block continues on the next line.

  :help             this text
  :help <name>      the functions of a namespace (`:help http`), or one function
  :targets          the targets (the current one is marked *)
  :use <target>     switch `target` to another target (staging, prod)
  :env              the upstream variables (secrets redacted)
  :history          what you typed this session
  :save FILE        write this session's HTTP probes as a lane of required checks
  :quit             leave (also Ctrl-D)

Tab completes functions, namespaces, variables and response fields.";

impl Session {
    /// Runs one `:` command.
    pub(super) fn command(&mut self, line: &str) -> Evaluated {
        let mut parts = line.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or_default();
        let arg = parts.next().map(str::trim).unwrap_or_default();
        let out = match name {
            ":help" | ":h" if arg.is_empty() => {
                format!("{HELP}\n\n{}", namespaces_line(&self.engine))
            }
            ":help" | ":h" => help_on(&self.engine, arg),
            ":quit" | ":q" | ":exit" => return Evaluated::Quit,
            ":targets" => self
                .host
                .targets
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    format!(
                        "{} {:8} control {}  runtime {}  token {}",
                        if i == self.current { "*" } else { " " },
                        t.name,
                        t.control_url,
                        t.runtime_url.as_deref().unwrap_or("-"),
                        if t.token.is_some() { "set" } else { "unset" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ":use" => match self.host.targets.iter().position(|t| t.name == arg) {
                Some(i) => {
                    self.current = i;
                    self.bind_target();
                    format!("target is now {}", self.target().name)
                }
                None => return Evaluated::Error(format!("no target named {arg:?}")),
            },
            ":env" => crate::config::UPSTREAM_VARIABLES
                .iter()
                .map(|(name, _)| {
                    let value = match self.host.env.get(name) {
                        None => "<unset>".to_string(),
                        Some(_) if crate::config::is_secret_name(name) => "<redacted>".to_string(),
                        Some(v) => v.to_string(),
                    };
                    format!("{name}={value}")
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ":history" => self.history.join("\n"),
            ":save" => {
                if arg.is_empty() {
                    return Evaluated::Error(":save needs a file name".to_string());
                }
                match self.save(Path::new(arg)) {
                    Ok(n) => format!("saved {n} probe(s) as required checks in {arg}"),
                    Err(e) => return Evaluated::Error(format!(":save {arg}: {e}")),
                }
            }
            other => return Evaluated::Error(format!("unknown command {other} (try :help)")),
        };
        Evaluated::Output(self.host.services.redactor.redact(&out))
    }
}

/// The namespaces the engine registers, from its metadata (never a hand-kept list).
fn namespaces_line(engine: &Engine) -> String {
    let namespaces: BTreeSet<String> = crate::api::docs::registered_functions(engine)
        .into_iter()
        .filter(|d| !d.namespace.is_empty())
        .map(|d| format!("{}::", d.namespace))
        .collect();
    let namespaces: Vec<String> = namespaces.into_iter().collect();
    format!(
        "Namespaces: {}\nGlobal functions: :help global. Values' fields and methods: :help fields.",
        namespaces.join(" ")
    )
}

/// `:help http` (a namespace), `:help global`, `:help fields`, or `:help http::get`: the
/// signatures with the first line of their doc comments.
fn help_on(engine: &Engine, topic: &str) -> String {
    let topic = topic.trim_end_matches("::");
    let docs = crate::api::docs::registered_functions(engine);
    let chosen: Vec<_> = docs
        .iter()
        .filter(|d| match topic {
            "global" => d.namespace.is_empty() && !d.is_property,
            "fields" => d.is_property,
            _ => {
                d.namespace == topic
                    || (d.namespace.is_empty() && !d.is_property && d.name == topic)
                    || format!("{}::{}", d.namespace, d.name) == topic
            }
        })
        .collect();
    if chosen.is_empty() {
        return format!("nothing named {topic:?}\n{}", namespaces_line(engine));
    }
    let whole_doc = chosen.iter().all(|d| d.name == chosen[0].name);
    let mut out = Vec::new();
    for d in chosen {
        out.push(d.signature.clone());
        let doc = if whole_doc {
            d.doc.trim().to_string()
        } else {
            d.doc.lines().next().unwrap_or_default().trim().to_string()
        };
        if !doc.is_empty() {
            out.push(
                doc.lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
    }
    out.join("\n")
}
