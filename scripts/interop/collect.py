#!/usr/bin/env python3
"""collect.py EVIDENCE_DIR COMMIT RUN: one TSV row per check of the folder's summary.json
(commit, run, check, level, status, reason), on stdout. Nothing when the run left no summary."""
import json
import sys

folder, commit, run = sys.argv[1:4]
try:
    summary = json.load(open(f"{folder}/summary.json"))
except (OSError, ValueError):
    sys.exit(0)
for c in summary["verdict"]["checks"]:
    reason = " ".join((c.get("reason") or "").split())
    if len(reason) > 400:
        reason = reason[:397] + "..."
    print("\t".join([commit, run, c["id"], c["level"], c["status"], reason]))
