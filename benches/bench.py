#!/usr/bin/env python3
"""oa-validate's performance harness (run through benches/run.sh, which installs the tools).

Everything is measured in one run on one machine and reported as medians and ratios:
per-request cost against Hurl, a curl+jq loop and the wrk floor (in several rounds, with their
spread); where a checked request's time goes (benches/breakdown.rs); the full matrix against
the sim with injected latency; start-up; peak memory; and the perf sampler's TTFB fidelity.
Results go to benches/RESULTS.md.
"""

import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "oa-validate")
RUNS = int(os.environ.get("RUNS", "15"))
PER_REQUEST_ROUNDS = int(os.environ.get("ROUNDS", "5"))
# Another oa-validate binary (say, main's) measured beside this one in the same rounds, so a
# change can be judged on a shared machine without trusting absolute times.
BASELINE = os.environ.get("BASELINE")
MATRIX_RETRIES = []
FLOOR_US_PER_REQUEST = []  # the wrk floor per request, once the per-request rounds ran
REQUESTS = 1000
TMP = tempfile.mkdtemp(prefix="oa-bench-")
RESULTS = []  # markdown sections


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def hyperfine(commands, runs=RUNS, env=None, warmup=2):
    """{name: shell-free command} -> {name: {median, min, max}} in milliseconds."""
    out = os.path.join(TMP, "hyperfine.json")
    args = ["hyperfine", "-N", "--style", "basic", "--warmup", str(warmup), "--runs", str(runs),
            "--export-json", out]
    names = list(commands)
    for name in names:
        # `=` form: a name such as "--version" must not be read as hyperfine's own flag.
        args += [f"--command-name={name}", commands[name]]
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)
    with open(out) as f:
        results = json.load(f)["results"]
    return {
        r["command"]: {
            "median": r["median"] * 1000,
            "min": r["min"] * 1000,
            "max": r["max"] * 1000,
        }
        for r in results
    }


def peak_rss_mb(argv, env=None, cwd=None):
    """Runs argv to completion; returns (exit code, peak RSS of the oa-validate process itself
    in MB, peak RSS of it or any child it reaped, such as Chromium, in MB). The process's own
    peak is its VmHWM, polled every 10 ms (a high-water mark, so only growth in the last 10 ms
    could be missed), or for a run shorter than 200 ms (too short to sample) wait4's figure;
    wait4's ru_maxrss also covers the reaped children."""
    started = time.time()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    own_kb = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        own_kb = max(own_kb, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.01)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if time.time() - started < 0.2:
        # Too short to sample: wait4's figure (this process and any child it reaped) is the
        # bound; the lanes measured this way start no child.
        own_kb = usage.ru_maxrss
    return proc.returncode, own_kb / 1024.0, usage.ru_maxrss / 1024.0


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError):
        pass
    return f"{os.cpu_count()} cores ({model}), {mem}, {platform.system()} {platform.release()}"


def load():
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


LOAD_AT_START = load()


def tool_version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


# ---------------------------------------------------------------------------------------
# A fixed-response loopback server: nginx from Debian's packages.

class Nginx:
    def __init__(self, big_file_mb=100):
        self.dir = os.path.join(TMP, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        big = os.path.join(self.dir, "big.bin")
        with open(big, "wb") as f:
            f.truncate(big_file_mb * 1024 * 1024)
        # nginx's workers run as an unprivileged user: the file and the folders above it must
        # be readable by them (mkdtemp makes 0700 folders), or /big.bin answers 403.
        for path in (TMP, self.dir):
            os.chmod(path, 0o755)
        os.chmod(big, 0o644)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{self.port};
        location = /ok.json {{ default_type application/json; return 200 '{{"ok":true,"n":42}}'; }}
        location = /big.bin {{ root {self.dir}; }}
    }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------

def per_request(nginx):
    url = f"{nginx.url}/ok.json"
    lane = os.path.join(TMP, "thousand.rhai")
    with open(lane, "w") as f:
        f.write(f"""// {REQUESTS} sequential GETs, each with a status and a JSON assertion.
required("bench-{REQUESTS}-gets", #{{ timeout: "600s" }}, || {{
    for i in 0..{REQUESTS} {{
        let r = http::get("{url}");
        assert_status(r, 200);
        assert_eq(json_get(r, "/ok", ()), true, "ok");
    }}
}});
""")
    hurl = os.path.join(TMP, "thousand.hurl")
    with open(hurl, "w") as f:
        f.write(f'GET {url}\nHTTP 200\n[Asserts]\njsonpath "$.ok" == true\n\n' * REQUESTS)
    loop = os.path.join(TMP, "curl-jq.sh")
    with open(loop, "w") as f:
        f.write(f"""#!/usr/bin/env bash
# How the bash harness checked an endpoint: curl for the status, jq for the body.
set -euo pipefail
for _ in $(seq {REQUESTS}); do
    out=$(curl -s -w '\\n%{{http_code}}' {url})
    [ "${{out##*$'\\n'}}" = 200 ]
    printf '%s' "${{out%$'\\n'*}}" | jq -e '.ok == true' >/dev/null
done
""")
    os.chmod(loop, 0o755)
    ev = os.path.join(TMP, "ev-thousand")
    hurl_name = f"hurl --jobs 1 ({tool_version(['hurl', '--version']).split()[1]})"
    commands = {
        "oa-validate (HAR on)": f"{BIN} {lane} --replace-out --out {ev} --no-progress",
        hurl_name: f"hurl --test --jobs 1 {hurl}",
        "oa-validate (HAR off)": f"{BIN} {lane} --replace-out --out {ev}-nohar --no-progress --no-har",
    }
    if BASELINE:
        commands["baseline (HAR on)"] = f"{BASELINE} {lane} --replace-out --out {ev}-baseline --no-progress"
    floor_name = f"floor: wrk -t1 -c1, {REQUESTS} x mean round trip"
    # Several rounds, each measuring everything once more: the spread of a ratio across
    # rounds says how far one round's figure can be trusted on a shared machine.
    rounds = []
    for r in range(PER_REQUEST_ROUNDS):
        log(f"per-request: round {r + 1} of {PER_REQUEST_ROUNDS}")
        results = hyperfine(commands)
        wrk = subprocess.run(["wrk", "-t1", "-c1", "-d3s", "--latency", url], capture_output=True,
                             text=True, check=True).stdout
        p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", wrk)
        scale = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
        p50_ms = float(p50.group(1)) * scale[p50.group(2)]
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
        floor_ms = REQUESTS * 1000.0 / rps  # mean round trip x N, from wrk's throughput
        results[floor_name] = {"median": floor_ms, "min": REQUESTS * p50_ms, "max": floor_ms}
        rounds.append(results)
    log("per-request: curl+jq loop")
    curl_jq = hyperfine({"curl+jq loop (bash harness)": loop}, runs=3, warmup=1)

    def med(name):
        return statistics.median(r[name]["median"] for r in rounds)

    FLOOR_US_PER_REQUEST.append(med(floor_name) / REQUESTS * 1000)

    rows = []
    for name in list(commands) + [floor_name]:
        rows.append([name, f"{med(name):.1f}", f"{med(name) / REQUESTS * 1000:.0f}",
                     f"{med(name) / med(hurl_name):.2f}x"])
    name, r = next(iter(curl_jq.items()))
    rows.append([name, f"{r['median']:.1f}", f"{r['median'] / REQUESTS * 1000:.0f}",
                 f"{r['median'] / med(hurl_name):.2f}x"])

    def ratios(over):
        return [r["oa-validate (HAR on)"]["median"] / r[over]["median"] for r in rounds]

    def spread(values):
        return (f"**{statistics.median(values):.2f}x** (rounds: "
                + ", ".join(f"{v:.2f}" for v in values)
                + f"; range {min(values):.2f}-{max(values):.2f})")

    per_round = [[str(i + 1),
                  f"{r['oa-validate (HAR on)']['median']:.1f}",
                  f"{r['oa-validate (HAR off)']['median']:.1f}",
                  f"{r[hurl_name]['median']:.1f}",
                  f"{r[floor_name]['median']:.1f}",
                  f"{r['oa-validate (HAR on)']['median'] / r[hurl_name]['median']:.2f}x",
                  f"{r['oa-validate (HAR on)']['median'] / r[floor_name]['median']:.2f}x"]
                 for i, r in enumerate(rounds)]
    RESULTS.append(f"""## Per-request cost: {REQUESTS} sequential checked GETs (nginx on loopback)

Medians over {PER_REQUEST_ROUNDS} rounds (each round: hyperfine, {RUNS} runs per command, then
wrk for 3 s):

{table(["what", "median ms", "us per request", "vs hurl"], rows)}

Each round:

{table(["round", "HAR on ms", "HAR off ms", "hurl ms", "wrk floor ms", "HAR on / hurl", "HAR on / floor"], per_round)}

- oa-validate with HAR evidence / Hurl: {spread(ratios(hurl_name))} (target <= 0.8x)
- oa-validate with HAR evidence / wrk floor: {spread(ratios(floor_name))} (target <= 1.5x)
{f"- oa-validate with HAR evidence / the baseline with HAR evidence: {spread(ratios('baseline (HAR on)'))}" if BASELINE else ""}
""")


def breakdown(nginx):
    """Where a checked request's time goes, layer by layer, in one process
    (benches/breakdown.rs)."""
    log("breakdown")
    example = os.path.join(ROOT, "target", "release", "examples", "breakdown")
    out = subprocess.run([example, f"{nginx.url}/ok.json", str(REQUESTS), "9"],
                         capture_output=True, text=True, check=True).stdout
    wall, cpu = [], []  # per layer, in the example's order
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        try:
            wall.append(float(cells[1]))
            cpu.append(float(cells[4]))
        except (IndexError, ValueError):
            pass  # the header and the separator
    hyper, pooled, reqwest_, transport, render, checked = range(6)
    floor = FLOOR_US_PER_REQUEST[0] if FLOOR_US_PER_REQUEST else None

    def step(name, over, of):
        w = wall[of] - (wall[over] if over is not None else 0)
        c = cpu[of] - (cpu[over] if over is not None else 0)
        return [name, f"{w:+.1f}", f"{c:+.1f}"]

    steps = [
        ["a bare hyper connection over the wrk floor (wall)",
         f"{wall[hyper] - floor:+.1f}" if floor else "-", "-"],
        step("hyper-util's pool over the bare connection", hyper, pooled),
        step("reqwest over hyper-util's pool (what `net` pays since issue 23)", pooled, reqwest_),
        step("`net` (request id, credential policy, recorder) over reqwest", reqwest_, transport),
        step("the script and its assertions over `net`", transport, checked),
        step("rendering the exchange for the evidence, when the check ends", None, render),
    ]
    startup = hyperfine({"a lane with one assertion and no request": f"{BIN} {ZERO_LANE} --replace-out --out "
                         f"{os.path.join(TMP, 'ev-zero')} --no-progress"}, runs=max(RUNS, 20))
    zero = next(iter(startup.values()))
    RESULTS.append(f"""## Where a checked request's time goes

`benches/breakdown.rs`, in one process, {REQUESTS} sequential keep-alive GETs per round, 9
rounds: each layer alone, per request (median and range over the rounds). Each row includes
the ones above it except the rendering row, which is done once per exchange when the check
has ended.

{out.strip()}

The same, step by step (medians, us per request; the floor from the per-request rounds):

{table(["step", "wall us per request", "CPU us per request"], steps)}

A whole run also pays once: start-up, planning, the evidence folder and the reports
(a lane with one assertion and no request: median {zero['median']:.1f} ms, range
{zero['min']:.1f}-{zero['max']:.1f} ms).
""")


ZERO_LANE = os.path.join(TMP, "zero.rhai")
with open(ZERO_LANE, "w") as f:
    f.write('required("bench-zero", || { assert(true, "nothing to fetch"); });\n')


def start_sim(latency):
    """Starts `oa-validate sim` and returns (process, environment from its export lines)."""
    import threading
    proc = subprocess.Popen([BIN, "sim", "--latency", latency], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    env = dict(os.environ)
    deadline = time.time() + 20
    seen = 0
    while time.time() < deadline:
        time.sleep(0.3)
        if lines and len(lines) == seen and any("PROD_CONTROL_BASE_URL" in l for l in lines):
            break  # the sim printed everything and is now serving
        seen = len(lines)
    for line in lines:
        m = re.match(r"export (\w+)=(.*)", line.strip())
        if m:
            env[m.group(1)] = m.group(2).strip("'\"")
    return proc, env


def matrix():
    def declares_checks(lane):
        listing = subprocess.run([BIN, "list", f"lanes/{lane}"], capture_output=True, text=True,
                                 cwd=ROOT).stdout
        return any(" required " in line for line in listing.splitlines()[1:])

    # A lane with no required check on its own is NO-GO alone (legacy_backup outside --phase,
    # the optional surface parity lane): it is no path of the matrix's critical path.
    lanes = sorted(f for f in os.listdir(os.path.join(ROOT, "lanes"))
                   if f.endswith(".rhai") and declares_checks(f))
    log(f"matrix: {len(lanes)} lanes against the sim with 50 ms latency")
    sim, env = start_sim("50ms")
    try:
        ev = os.path.join(TMP, "ev-matrix")
        commands = {
            "full matrix, default --jobs": f"{BIN} --allow-prod-mutations --replace-out --out {ev}-default --no-progress",
            "full matrix, --jobs 1": f"{BIN} --allow-prod-mutations --jobs 1 --replace-out --out {ev}-1 --no-progress",
        }
        for lane in lanes:
            commands[f"lane {lane} alone"] = f"{BIN} --allow-prod-mutations lanes/{lane} --replace-out --out {ev}-{lane} --no-progress"
        try:
            results = hyperfine(commands, runs=max(3, RUNS // 3), env=env, warmup=1)
        except subprocess.CalledProcessError:
            # A run that is not GO measured something else. On a loaded machine a budget
            # check (HTMX perf) can miss once: say so and measure again, once.
            log("matrix: a run was not GO; measuring again")
            MATRIX_RETRIES.append(1)
            results = hyperfine(commands, runs=max(3, RUNS // 3), env=env, warmup=1)
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    lane_results = {k: v for k, v in results.items() if k.startswith("lane ")}
    slowest = max(lane_results, key=lambda k: lane_results[k]["median"])
    default = results["full matrix, default --jobs"]["median"]
    rows = [[k, f"{v['median']:.0f}", f"{v['median'] / lane_results[slowest]['median']:.2f}x"]
            for k, v in results.items()]
    RESULTS.append(f"""## Matrix wall time against the sim with 50 ms per request

{table(["what", "median ms", "vs slowest lane"], rows)}

- Full matrix (default --jobs) / slowest lane alone ({slowest[5:-6]}): **{default / lane_results[slowest]['median']:.2f}x** (target <= 1.2x)
{"- One run was not GO (the machine was loaded); the section was measured again." if MATRIX_RETRIES else ""}
""")


def startup():
    log("start-up")
    commands = {
        "--version": f"{BIN} --version",
        "list (all lanes)": f"{BIN} list",
        "check (all lanes)": f"{BIN} check",
    }
    if BASELINE:
        commands.update({
            "baseline --version": f"{BASELINE} --version",
            "baseline list (all lanes)": f"{BASELINE} list",
            "baseline check (all lanes)": f"{BASELINE} check",
        })
    results = hyperfine(commands, runs=max(RUNS, 30), warmup=3)
    rows = [[k, f"{v['median']:.1f}", f"{v['min']:.1f}", f"{v['max']:.1f}"] for k, v in results.items()]
    RESULTS.append(f"""## Start-up

{table(["command", "median ms", "min ms", "max ms"], rows)}

Targets: `--version` <= 10 ms; `list` and `check` <= 50 ms.{baseline_note(results)}
""")


def baseline_note(results):
    """This binary's start-up medians over the baseline's, measured in the same runs."""
    if not BASELINE:
        return ""
    ratios = [f"{name} {results[name]['median'] / results['baseline ' + name]['median']:.2f}x"
              for name in ("--version", "list (all lanes)", "check (all lanes)")]
    return f"\nThis build / the baseline ({BASELINE}), medians: " + ", ".join(ratios) + "."


def memory(nginx):
    log("memory")
    chunked = chunked_server()
    lanes = {}
    for name, url, words in (("big", f"{nginx.url}/big.bin", "response body of"),
                             ("chunked", chunked.url, "response body exceeds the cap")):
        lanes[name] = os.path.join(TMP, f"{name}.rhai")
        with open(lanes[name], "w") as f:
            f.write(f"""// A 100 MB body: the --max-body cap (16 MiB) must hold, streamed, not buffered.
required("bench-100mb-body", #{{ timeout: "120s" }}, || {{
    let err = "";
    try {{ http::get("{url}"); }} catch (e) {{ err = `${{e}}`; }}
    assert(err.contains("{words}"), `the body cap stopped the download: ${{err}}`);
}});
""")
    rows = []
    cases = [
        ("full matrix with --sim (sim in-process, Chromium as a child)",
         [BIN, "--sim", "--no-progress", "--replace-out", "--out", os.path.join(TMP, "ev-mem")], ROOT),
        ("100 MB body, Content-Length announced (refused at the headers)",
         [BIN, lanes["big"], "--no-progress", "--replace-out", "--out", os.path.join(TMP, "ev-big")], None),
        ("100 MB body, chunked (streamed up to the 16 MiB cap)",
         [BIN, lanes["chunked"], "--no-progress", "--replace-out", "--out", os.path.join(TMP, "ev-chunked")], None),
    ]
    for name, argv, cwd in cases:
        try:
            runs = [peak_rss_mb(argv, cwd=cwd) for _ in range(3)]
        finally:
            if name.startswith("100 MB body, chunked"):
                chunked.stop()
        if any(code != 0 for code, _, _ in runs):
            # A run that did not pass measured something else (a 403 is not a 100 MB body).
            raise RuntimeError(f"memory: {name}: exit codes {[r[0] for r in runs]}, expected 0")
        rows.append([name, f"{statistics.median(r[1] for r in runs):.1f}",
                     f"{statistics.median(r[2] for r in runs):.1f}",
                     ", ".join(str(r[0]) for r in runs)])
    RESULTS.append(f"""## Peak memory (median of 3)

{table(["run", "oa-validate peak RSS MB", "with reaped children MB", "exit codes"], rows)}

Target: <= 64 MB each for the oa-validate process (its VmHWM, polled; for a run shorter than
200 ms, wait4's ru_maxrss). The third column also counts the children it reaped (wait4):
in the full matrix, Chromium's own footprint dominates it.
""")


class PythonServer:
    """A threaded loopback server (Python's http.server) answering GET with `respond(handler)`,
    for the answers nginx cannot give: a fixed delay, a chunked body."""

    def __init__(self, path, respond):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                respond(self)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def delay_server(delay_s):
    """Waits a fixed time before the status line, so TTFB has a known floor that both
    measurers must report."""
    def respond(h):
        time.sleep(delay_s)
        body = b'{"ok":true}'
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    return PythonServer("/delay", respond)


def chunked_server(total=100 * 1000 * 1000):
    """100 MB with chunked transfer encoding (no Content-Length), so the client cannot refuse
    it up front: the cap must hold while the body streams."""
    def respond(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"\0" * (1 << 20)
        sent = 0
        try:
            while sent < total:
                h.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up at its cap
    return PythonServer("/big-chunked", respond)


def fidelity():
    samples = 40
    rows = []
    summary = []
    for delay_ms in (0, 50):
        server = delay_server(delay_ms / 1000.0)
        try:
            log(f"fidelity: TTFB with a {delay_ms} ms server delay")
            lane = os.path.join(TMP, f"ttfb-{delay_ms}.rhai")
            with open(lane, "w") as f:
                f.write(f"""required("bench-ttfb", #{{ timeout: "120s" }}, || {{
    perf::check([#{{ name: "delay", url: "{server.url}", max_ttfb_ms: 10000 }}], #{{ samples: {samples} }});
}});
""")
            ev = os.path.join(TMP, f"ev-ttfb-{delay_ms}")
            subprocess.run([BIN, lane, "--replace-out", "--out", ev, "--no-progress"], check=True,
                           stdout=subprocess.DEVNULL)
            with open(os.path.join(ev, "artifacts", "bench-ttfb", "perf.tsv")) as f:
                header, row = f.read().splitlines()[:2]
            oa_p50 = float(dict(zip(header.split("\t"), row.split("\t")))["ttfb_ms_p50"])
            # One curl for all samples: like the sampler, it keeps the connection alive, so
            # both measure the same thing (the first sample of each includes the connect).
            argv = ["curl", "-s", "-w", "%{time_starttransfer}\\n"]
            for _ in range(samples):
                argv += ["-o", "/dev/null", server.url]
            out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
            curl = [float(v) * 1000.0 for v in out.split()]
            curl_p50 = statistics.median(curl)
        finally:
            server.stop()
        rows.append([f"{delay_ms} ms", f"{oa_p50:.2f}", f"{curl_p50:.2f}",
                     f"{oa_p50 - curl_p50:+.2f}"])
        summary.append(abs(oa_p50 - curl_p50))
    RESULTS.append(f"""## Measurement fidelity: perf:: TTFB against curl's time_starttransfer

A loopback server that waits a fixed time before answering; {samples} samples each, p50.

{table(["server delay", "perf:: p50 ms", "curl p50 ms", "difference ms"], rows)}

- Largest difference at p50: **{max(summary):.2f} ms** (target: within 2 ms)
""")


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} missing: run benches/run.sh")
    nginx = Nginx()
    all_sections = ["startup", "per_request", "breakdown", "matrix", "memory", "fidelity"]
    sections = os.environ.get("SECTIONS", ",".join(all_sections)).split(",")
    try:
        if "startup" in sections:
            startup()
        if "per_request" in sections:
            per_request(nginx)
        if "breakdown" in sections:
            breakdown(nginx)
        if "matrix" in sections:
            matrix()
        if "memory" in sections:
            memory(nginx)
        if "fidelity" in sections:
            fidelity()
    finally:
        nginx.stop()
    header = f"""# Benchmark results

Measured by `benches/run.sh` on {time.strftime('%Y-%m-%d')} — {machine()}.
Load average when the run started: {LOAD_AT_START}; when it ended: {load()}.
All figures are medians of repeated runs on the same machine in one session; the machine
is shared, so compare ratios (and their spread across rounds) rather than absolute times.
"""
    text = header + "\n" + "\n".join(RESULTS)
    name = "RESULTS.md" if set(sections) == set(all_sections) else f"RESULTS-{'-'.join(sections)}.md"
    with open(os.path.join(ROOT, "benches", name), "w") as f:
        f.write(text)
    print(text)
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
