#!/usr/bin/env python3
"""Prints criterion's medians from the last bench run as a table, with ratios to the peers.

Usage: python3 benches/report.py [GROUP ...]   (after `cargo bench --bench limiter`)
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
groups = sys.argv[1:] or sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != "report")
for group in groups:
    medians = {}
    for est in sorted((root / group).glob("*/new/estimates.json")):
        medians[est.parent.parent.name] = json.loads(est.read_text())["median"]["point_estimate"]
    if "sluicegate" not in medians:
        continue
    ours = medians["sluicegate"]
    peers = "  ".join(
        f"{name} {ns:8.1f} ns ({ours / ns:4.2f}x)" for name, ns in medians.items() if name != "sluicegate"
    )
    print(f"{group:<18} sluicegate {ours:8.1f} ns  {peers}")
