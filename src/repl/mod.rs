//! `oa-validate repl`: interactive probing with the engine, primitives, targets and redaction
//! of a run. Each input is evaluated as if inside a check (so `http::` and assertions work);
//! variables, functions and imports persist between inputs. The session is [`session`], its
//! `:` commands [`commands`], `:save` [`save`], Tab completion [`completion`]; this file reads
//! lines, from a terminal or a pipe.

mod commands;
mod completion;
mod save;
mod session;

pub use completion::Completions;
pub use save::{SavedLane, saved_lane};
pub use session::{Evaluated, Session};

use completion::LineHelper;
use rhai::Engine;
use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Runs the REPL on a terminal (line editing) or over piped input (line by line).
pub fn run(session: Session, history: Option<PathBuf>) -> i32 {
    if std::io::stdin().is_terminal() {
        interactive(session, history)
    } else {
        piped(session)
    }
}

fn print_result(out: &Evaluated) {
    match out {
        Evaluated::Output(text) if !text.is_empty() => {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
        Evaluated::Error(text) => {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
        _ => {}
    }
}

/// Piped input: statements are evaluated as soon as they are complete; results on stdout,
/// errors on stderr. Exit 1 if any input failed, so scripted sessions can be checked.
fn piped(mut session: Session) -> i32 {
    let mut pending = String::new();
    let mut failed = false;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(&line);
        let out = session.eval(&pending);
        match out {
            Evaluated::Incomplete => continue,
            Evaluated::Quit => return i32::from(failed),
            Evaluated::Error(_) => failed = true,
            Evaluated::Output(_) => {}
        }
        print_result(&out);
        pending.clear();
    }
    if !pending.trim().is_empty() {
        let _ = writeln!(std::io::stderr(), "error: unfinished input at end of file");
        failed = true;
    }
    i32::from(failed)
}

fn interactive(mut session: Session, history: Option<PathBuf>) -> i32 {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor = match LineEditor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start line editing: {e}");
            return crate::exit_code::USAGE;
        }
    };
    let mut validation = Engine::new_raw();
    validation.set_max_expr_depths(64, 48);
    editor.set_helper(Some(LineHelper {
        completions: session.completion_words(),
        engine_for_validation: validation,
    }));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!(
        "oa-validate repl: target {} ({}). :help for commands, Ctrl-D to leave.",
        session.target().name,
        session.target().control_url
    );
    loop {
        let prompt: Cow<str> = format!("{}> ", session.target().name).into();
        match editor.readline(&prompt) {
            Ok(input) => {
                // In memory only (Up arrow): the file is written when the session ends.
                if !input.trim().is_empty() && !session.is_sensitive(&input) {
                    let _ = editor.add_history_entry(input.as_str());
                }
                let out = session.eval(&input);
                // The input may have made a value secret (`secret(k)`): earlier lines that
                // hold it leave the history now, in memory, long before the file.
                purge_history(&mut editor, &session);
                if matches!(out, Evaluated::Quit) {
                    break;
                }
                print_result(&out);
                if let Some(helper) = editor.helper_mut() {
                    helper.completions = session.completion_words();
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    if let Some(path) = &history {
        purge_history(&mut editor, &session);
        write_history(editor.history(), path);
    }
    0
}

type LineEditor = rustyline::Editor<LineHelper, rustyline::history::FileHistory>;

/// Drops every history entry (this session's and those loaded from the file) that is
/// sensitive now: a value marked secret after the line that typed it takes that line out.
fn purge_history(editor: &mut LineEditor, session: &Session) {
    use rustyline::history::History as _;
    let entries: Vec<String> = editor.history().iter().cloned().collect();
    let kept: Vec<&String> = entries
        .iter()
        .filter(|e| !session.is_sensitive(e))
        .collect();
    if kept.len() == entries.len() {
        return;
    }
    let memory = editor.history_mut();
    let _ = memory.clear();
    for entry in kept {
        let _ = memory.add(entry);
    }
}

/// Writes the whole (purged) history to `path`, replacing the file: the history file only
/// ever receives lines checked against every secret known at the end of the session.
fn write_history(entries: &rustyline::history::FileHistory, path: &std::path::Path) {
    use rustyline::history::History as _;
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut file = rustyline::history::FileHistory::new();
    for entry in entries.iter() {
        let _ = file.add(entry);
    }
    if file.is_empty() {
        // Every entry was purged: leave no earlier session's line behind either.
        if path.exists() {
            let _ = std::fs::write(path, "");
        }
        return;
    }
    let _ = file.save(path);
}
