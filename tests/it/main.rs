//! The integration tests, one binary (it links once): the real `oa-validate` binary end to
//! end against the simulated deployment and loopback fault servers. `common` is the sandbox;
//! each other module covers one area; `regression` holds one test per fixed bug, named after it.

mod common;

mod archive;
mod attest;
mod canaries;
mod cheats;
mod cli;
mod determinism;
mod diff_rerun;
mod docs;
mod durability;
mod faults;
mod faults_net;
mod fidelity;
mod first_hour;
mod gate;
mod htmx;
mod install;
mod integrity;
mod interrupt;
mod leaks;
mod load;
mod local_lanes;
mod matrix;
mod phases;
mod regression;
mod repl;
mod report_html;
mod round3;
mod runtime_lanes;
mod scheduling;
mod script_faults;
mod scripts;
mod secrets;
mod sim_google;
mod transport;
mod untrusted_folder;
