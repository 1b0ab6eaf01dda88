//! The one fault-expectation driver: a lane run against the sim with one named fault ends
//! NO-GO with exactly the expected checks failing for the expected reason and every other
//! check passing; and the one test that `sim --fault help` lists exactly the faults these
//! specs cover (tests/it/faults.rs gathers them).

use super::{Evidence, Run, Sandbox};
use std::time::Duration;

/// One row of a fault spec.
pub struct FaultCase {
    pub fault: &'static str,
    /// The checks the fault breaks; empty: the run stays GO.
    pub failing: &'static [&'static str],
    /// The status (summary.json) the failing checks end with.
    pub status: &'static str,
    /// A piece of each failing check's reason naming what broke; empty: not checked.
    pub reason: &'static str,
}

/// How the fault runs of one spec are made: which lanes, with what, and which checks they
/// declare (report order), so "every other check passes" has a list to hold to.
pub struct FaultRun<'a> {
    pub lanes: &'a [&'a str],
    /// More arguments (`--phase NAME`).
    pub args: &'a [&'a str],
    pub checks: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
    pub timeout: Option<Duration>,
}

impl FaultRun<'_> {
    /// Runs the lanes under `case.fault` into an output folder named after it and checks the
    /// verdict, every check's status and each failing check's reason.
    #[track_caller]
    pub fn expect(&self, sb: &Sandbox, case: &FaultCase) -> (Run, Evidence) {
        let name = case.fault;
        let mut cmd = sb
            .cmd_in_repo()
            .args(self.lanes)
            .args(self.args)
            .args(["--sim", "--sim-fault", name])
            .out(&sb.out(name));
        for (var, value) in self.env {
            cmd = cmd.env(var, value);
        }
        if let Some(timeout) = self.timeout {
            cmd = cmd.timeout(timeout);
        }
        let run = cmd.run();
        let (code, verdict) = if case.failing.is_empty() {
            (0, "Verdict: GO")
        } else {
            (1, "Verdict: NO-GO")
        };
        run.expect_code(code);
        assert_eq!(run.verdict_line(), verdict, "fault {name}");
        let ev = sb.evidence(name);
        let expected: Vec<(String, String)> = self
            .checks
            .iter()
            .map(|id| {
                let status = if case.failing.contains(id) {
                    case.status
                } else {
                    "passed"
                };
                (id.to_string(), status.to_string())
            })
            .collect();
        assert_eq!(ev.json_statuses(), expected, "statuses under fault {name}");
        for id in case.failing {
            let reason = ev.json_check(id)["reason"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(
                reason.contains(case.reason),
                "fault {name}: reason of {id} is {reason:?}, expected it to mention {:?}",
                case.reason
            );
        }
        (run, ev)
    }
}
