//! Command-line arguments as clap parses them; [`crate::config::resolve`] turns them, with
//! the environment, into the configuration every command runs from.

use crate::cutover::CutoverPhase;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "oa-validate",
    version,
    about = "Release gate for the OpenAgents Rust cutover: runs the validation matrix (Rhai lanes) \
             against staging and production and decides GO or NO-GO with archived evidence.",
    after_help = "Exit codes: 0 GO, 1 NO-GO, 2 usage or configuration error, 3 a lane does not \
                  compile, 4 no checks selected, 5 verify: not verified, 130 interrupted.\n\n\
                  Environment (upstream names): STAGING_CONTROL_BASE_URL, PROD_CONTROL_BASE_URL, \
                  STAGING_RUNTIME_BASE_URL, PROD_RUNTIME_BASE_URL, STAGING_CONTROL_ACCESS_TOKEN, \
                  PROD_CONTROL_ACCESS_TOKEN (secrets), GCP_PROJECT, GCP_REGION, CONTROL_SERVICE, \
                  RUNTIME_SERVICE, MIGRATE_JOB, EXPECTED_IMAGE, RUN_* toggles, \
                  FAIL_ON_REQUIRED_FAILURE, OUTPUT_DIR, OA_REPO_ROOT, OA_SIGNING_KEY, NO_COLOR, CI.\n\n\
                  Docs: `oa-validate show docs/cli.md` (commands, flags, every variable), \
                  docs/release-gate.md, docs/writing-lanes.md; `oa-validate show` lists the \
                  built-in lanes, stdlib and docs.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the matrix (id, lane, level, target, description) without touching the network.
    List(ListArgs),
    /// Compile and plan lanes only; errors name file:line:col.
    Check(LaneArgs),
    /// Serve the simulated deployment on loopback and print the environment to use it.
    Sim(SimArgs),
    /// Probe a deployment interactively with the same primitives, targets and redaction.
    Repl(ReplArgs),
    /// Write Rhai definition files (.d.rhai) of the whole API, for editors and the language server.
    Defs(DefsArgs),
    /// (Re)build DIR/report.html from the evidence folder's own files.
    Report(ReportArgs),
    /// What changed between two evidence folders (exit 1 when a required check regressed).
    Diff(DiffArgs),
    /// What a run with these arguments would do, without touching the network: its targets,
    /// the checks that would run, every check that would be skipped grouped by why, and what
    /// `--gate` would refuse (exit 2 then, as the run would).
    Plan(Box<RunArgs>),
    /// Re-run the failed and errored checks of an evidence folder into a new folder.
    Rerun(RerunArgs),
    /// Write the matrix lock (every check's id, level, target and phases, every lane's
    /// SHA-256) that `--gate` holds the matrix to.
    Lock(LockArgs),
    /// Check an evidence folder's signed attestation (from a run with --sign) with a public
    /// key, and print the verdict it proves. Exit 0: verified, PASSED (GO); 1: verified,
    /// FAILED (NO-GO); 5: not verified (tampered, another key, unsigned).
    Verify(VerifyArgs),
    /// Pack an evidence folder into a deterministic .tar.zst named by its time, verdict,
    /// phase and evidence digest, and add a line to DEST/index.jsonl; DEST is a folder or
    /// gs://bucket/prefix. Archiving the same folder again changes nothing.
    Archive(ArchiveArgs),
    /// Install what the HTMX lanes and the sim need (Chromium, the htmx library) when missing.
    Setup,
    /// Print a file the binary carries: a built-in lane or module (`lanes/control.rhai`), the
    /// matrix lock, a stdlib module (`stdlib/htmx.rhai`) or a doc (`docs/cli.md`); without a
    /// path, list them.
    Show(ShowArgs),
}

#[derive(Args, Debug, Clone)]
pub struct LockArgs {
    /// The matrix folder to lock; its lock is DIR/matrix.lock. Without it: `--check`
    /// compares the matrix a run uses (the one built into the binary) with its lock; writing
    /// locks ./lanes when there is one (the source tree's matrix, which a build embeds).
    #[arg(long = "lanes", value_name = "DIR")]
    pub lanes_dir: Option<PathBuf>,
    /// Compare only: exit 1 naming each difference when the lock does not match; write nothing.
    #[arg(long)]
    pub check: bool,
}

#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    /// The evidence folder (it holds attestation.intoto.jsonl).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The public key: an SPKI PEM file (`openssl pkey -pubout`), or the Cloud KMS key
    /// version that signed (its public key is fetched) [env: OA_VERIFY_KEY].
    #[arg(long, value_name = "PUBKEY")]
    pub key: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ArchiveArgs {
    /// The evidence folder (its SHA256SUMS must verify).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where the archive and index.jsonl go: a folder (created if missing), or
    /// gs://bucket/prefix (Cloud Storage, with the Google credentials the tool uses).
    #[arg(long, value_name = "DEST")]
    pub to: String,
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// The evidence folder (it holds summary.json).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// How `diff` prints what changed.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Md,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct DiffArgs {
    /// The earlier evidence folder.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The later evidence folder.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// A perf change is flagged when a probe's TTFB p50 or p95 moved by at least this percent
    /// of its OLD value...
    #[arg(long, value_name = "PERCENT", default_value_t = 20.0)]
    pub perf_threshold: f64,
    /// ...and by at least this many milliseconds (the jitter of a few samples is not a change).
    #[arg(long, value_name = "MS", default_value_t = 25.0)]
    pub perf_min_ms: f64,
}

#[derive(Args, Debug, Clone)]
pub struct RerunArgs {
    /// The evidence folder whose failed and errored checks run again.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The new evidence folder [default: DIR-rerun-<YYYYMMDDTHHMMSSZ> beside DIR]; never DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Never show the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Allow checks declared `mutates: true` to run against production in this re-run. Only
    /// this flag allows it: a folder that ran with it does not pass it on.
    #[arg(long)]
    pub allow_prod_mutations: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ReplArgs {
    /// Start the in-process simulated deployment and probe it.
    #[arg(long)]
    pub sim: bool,
    /// The target bound to the variable `target` at start.
    #[arg(long, value_name = "NAME", default_value = "staging", value_parser = ["staging", "prod"])]
    pub target: String,
    /// Do not read or write the history file.
    #[arg(long)]
    pub no_history: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DefsArgs {
    /// Folder to write the .d.rhai files into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Also write the Markdown API reference (docs/api.md) to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct LaneArgs {
    /// Lane files or globs [default: the built-in matrix].
    #[arg(value_name = "LANE")]
    pub lanes: Vec<String>,
    /// A matrix folder: its *.rhai files instead of the built-in matrix.
    #[arg(long = "lanes", value_name = "DIR")]
    pub lanes_dir: Option<PathBuf>,
    /// Plan against the simulated targets instead of staging and prod.
    #[arg(long)]
    pub sim: bool,
    /// Cutover phase whose checks to show (app-surface, spacetime-convergence,
    /// legacy-deletion) [default: app-surface].
    #[arg(long, value_name = "PHASE", value_parser = parse_phase)]
    pub phase: Option<CutoverPhase>,
}

#[derive(Args, Debug, Clone)]
pub struct ShowArgs {
    /// The file, by its path in the source tree (`lanes/control.rhai`, `docs/cli.md`).
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ListArgs {
    #[command(flatten)]
    pub lanes: LaneArgs,
    /// One JSON document: every check with its lane, level, target, phases, description and
    /// what it needs to run (variables, toggle, mutation, timeout, retries).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// Turn on a named fault (repeatable); `--fault help` lists them.
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// Latency added to every response, e.g. "50ms".
    #[arg(long, value_name = "DURATION", default_value = "0ms")]
    pub latency: String,
    /// Serve the upstream era of this cutover phase (app-surface: 6b173e913a;
    /// spacetime-convergence, legacy-deletion: d29e2a788f) [default: app-surface].
    #[arg(long, value_name = "PHASE", value_parser = parse_phase)]
    pub phase: Option<CutoverPhase>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Lane files or globs to run [default: the built-in matrix].
    #[arg(value_name = "LANE")]
    pub lanes: Vec<String>,
    /// A matrix folder: run its *.rhai files (and hold them to DIR/matrix.lock under --gate)
    /// instead of the built-in matrix.
    #[arg(long = "lanes", value_name = "DIR")]
    pub lanes_dir: Option<PathBuf>,
    /// Run against an in-process simulated deployment (staging and prod instances).
    #[arg(long)]
    pub sim: bool,
    /// With --sim: turn on a named sim fault (repeatable).
    #[arg(long = "sim-fault", value_name = "NAME", requires = "sim")]
    pub sim_faults: Vec<String>,
    /// Release gating: the whole matrix must run; refuses filters, lane subsets, toggles that
    /// would skip a required check, and --baseline.
    #[arg(long)]
    pub gate: bool,
    /// Baseline capture: exit 0 even on NO-GO (the verdict is still NO-GO).
    /// Same as FAIL_ON_REQUIRED_FAILURE=0.
    #[arg(long)]
    pub baseline: bool,
    /// Evidence folder [env: OUTPUT_DIR] [default: validation-evidence/<YYYYMMDDTHHMMSSZ>].
    /// Must be missing or empty (see --replace-out).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Empty the evidence folder first when it holds an earlier run's evidence (only files
    /// oa-validate writes; anything else is refused). Without it a non-empty folder is refused.
    #[arg(long)]
    pub replace_out: bool,
    /// Lanes run concurrently; checks within a lane run in order.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    /// Default timeout of a check (a check's own `timeout` option wins).
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub timeout: String,
    /// Run only these checks: ids or globs over ids (`control-*-health`; repeatable).
    /// Refused with --gate.
    #[arg(long = "check", value_name = "ID|GLOB")]
    pub checks: Vec<String>,
    /// Allow checks declared `mutates: true` to run against production.
    #[arg(long)]
    pub allow_prod_mutations: bool,
    /// Largest response body read, in bytes (suffixes KiB, MiB accepted).
    #[arg(long, value_name = "BYTES", default_value = "16MiB")]
    pub max_body: String,
    /// Trust the CA certificates of this PEM file too, besides the system's trust store
    /// (a service behind a private CA) [env: OA_CA_BUNDLE].
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Never show the progress bar (it is shown only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Do not write HTTP archives (http/<check_id>.har); logs still list every request.
    #[arg(long)]
    pub no_har: bool,
    /// Cutover phase: only the checks that apply to it run. app-surface (before the app
    /// surface cleanup), spacetime-convergence (after it and the Spacetime convergence),
    /// legacy-deletion (adds legacy-db-backup-evidence, policy 4). Required by --gate when
    /// the matrix has phase-dependent checks [default: app-surface].
    #[arg(long, value_name = "PHASE", value_parser = parse_phase)]
    pub phase: Option<CutoverPhase>,
    /// Oldest Laravel DB backup evidence accepted in the legacy-deletion phase.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub backup_max_age: String,
    /// Print only the checks that did not pass, and the verdict (as `pytest -q`).
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print under each check what it did, as its log has it (as `hurl --verbose`): each
    /// request with its status and timing, each assertion that held (`ok: ...`) or failed.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Stop at the first required check that fails or errors: the checks not yet started are
    /// skipped (`--fail-fast`), so the verdict (NO-GO) comes sooner.
    #[arg(long)]
    pub fail_fast: bool,
    /// Set a variable for this run as if exported (lanes read it with `env()`; the upstream
    /// variables set targets and tokens), like Hurl's `--variable` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Sign the verdict: write attestation.intoto.jsonl (an in-toto SLSA verification summary
    /// in a DSSE envelope) into the evidence folder. KEY is a PKCS#8 PEM private key file
    /// (Ed25519 or ECDSA P-256) or a Cloud KMS key version
    /// (projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N) [env: OA_SIGNING_KEY].
    #[arg(long, value_name = "KEY")]
    pub sign: Option<String>,
}

/// `--phase` values: the names of [`CutoverPhase`].
fn parse_phase(text: &str) -> Result<CutoverPhase, String> {
    text.parse()
        .map_err(|e: crate::cutover::UnknownPhase| e.to_string())
}
