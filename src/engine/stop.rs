//! Typed stops: why a script was ended from outside its own code — `skip(reason)`, the check's
//! deadline, or an interruption. They travel as Rhai's uncatchable `ErrorTerminated`, carrying
//! a [`Stop`] value, so a script cannot catch them and the runner reads them back by type.

use rhai::{Dynamic, EvalAltResult, Position};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The check ends as skipped, with this reason.
    Skip(String),
    /// The check's wall-clock deadline passed.
    Deadline,
    /// SIGINT/SIGTERM.
    Interrupted,
}

impl Stop {
    /// The uncatchable error that carries this stop from `pos`.
    pub fn raise(self, pos: Position) -> Box<EvalAltResult> {
        Box::new(EvalAltResult::ErrorTerminated(Dynamic::from(self), pos))
    }

    /// The stop a terminated evaluation carries (what `on_progress` or a primitive raised).
    pub fn carried_by(value: &Dynamic) -> Option<Stop> {
        value.read_lock::<Stop>().map(|stop| stop.clone())
    }
}
