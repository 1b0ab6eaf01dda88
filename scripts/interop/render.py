#!/usr/bin/env python3
"""render.py OUT...: the Markdown results of interop runs (each OUT's results.tsv and runs.tsv)."""
import csv
import re
import sys
from collections import OrderedDict

def rows(out, name):
    with open(f"{out}/{name}", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


results = [r for out in sys.argv[1:] for r in rows(out, "results.tsv")]
runs = [r for out in sys.argv[1:] for r in rows(out, "runs.tsv")]
by_run = {}
for r in results:
    by_run.setdefault((r["commit"], r["run"]), OrderedDict())[r["check"]] = r


def cell(text):
    return text.replace("|", "\\|") if text else ""


print("### Runs\n")
print("| commit | phase | run | exit | verdict |")
print("| --- | --- | --- | --- | --- |")
for r in runs:
    if r["kind"] != "negative":
        print(f"| `{r['commit'][:10]}` | {r['phase']} | {r['run']} | {r['exit']} | {r['verdict']} |")

columns = [(r["commit"], r["run"], r["phase"]) for r in runs if r["kind"] != "negative"]
checks = OrderedDict()
for c, run, _ in columns:
    for check, row in by_run.get((c, run), {}).items():
        checks.setdefault(check, row["level"])
print("\n### Every check × commit × result\n")
print("`–`: not in that run (another phase's check, or a run of selected checks).\n")
head = " | ".join(f"`{c[:10]}` {run}" for c, run, _ in columns)
print(f"| check | level | {head} |")
print("| --- | --- |" + " --- |" * len(columns))
for check, level in checks.items():
    cells = []
    for c, run, _ in columns:
        row = by_run.get((c, run), {}).get(check)
        cells.append(row["status"] if row else "–")
    print(f"| {check} | {level} | " + " | ".join(cells) + " |")

print("\n### Why each check that did not pass did not pass\n")
print("| commit | run | check | status | reason (oa-validate) |")
print("| --- | --- | --- | --- | --- |")
for c, run, _ in columns:
    for check, row in by_run.get((c, run), {}).items():
        if row["status"] != "passed":
            print(f"| `{c[:10]}` | {run} | {check} | {row['status']} | {cell(row['reason'])} |")

print("\n### Negative controls\n")
print("| commit | control | verdict (exit) | expected failing check | expected reason (regex) | actual | reason | as expected |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for r in runs:
    if r["kind"] != "negative":
        continue
    row = by_run.get((r["commit"], r["run"]), {}).get(r["expect_check"])
    status = row["status"] if row else "missing"
    reason = row["reason"] if row else ""
    ok = (r["verdict"] == "NO-GO" and status in ("failed", "errored")
          and re.search(r["expect_reason"], reason or "") is not None)
    print(f"| `{r['commit'][:10]}` | {r['run']} | {r['verdict']} ({r['exit']}) | {r['expect_check']} | "
          f"`{cell(r['expect_reason'])}` | {status} | {cell(reason)} | {'yes' if ok else 'NO'} |")
