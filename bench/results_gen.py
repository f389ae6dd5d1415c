#!/usr/bin/env python3
"""Writes synthetic boot records for the results benchmark.

Usage: results_gen.py RECORDS JSONL CSV [--keys N] [--seed S]

RECORDS boots over N regression keys (default 10,000): each key boots once per revision, so
RECORDS / N revisions of one tree/branch. The JSON Lines file is in `bootfarm results import`
format; the CSV file holds the same rows with the same columns, for `sqlite3 .import`.
About 2 % of keys fail from some revision on, 1 % are flaky, 1 % have infrastructure errors,
0.5 % gain a kernel warning, and boot times are noisy around a per-key base.
"""
import argparse
import csv
import json
import random

COLUMNS = ["id", "lab", "board", "board_type", "arch", "defconfig", "compiler", "tree", "branch", "commit",
           "describe", "commit_time", "started_at", "status", "stage", "reason", "boot_time_s", "warnings",
           "kernel_image_size", "energy_j", "avg_power_w", "peak_power_w"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("records", type=int)
    parser.add_argument("jsonl")
    parser.add_argument("csv")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    revisions = max(1, args.records // args.keys)
    arches = [("arm64", "defconfig"), ("arm", "multi_v7_defconfig"), ("x86_64", "x86_64_defconfig"), ("riscv", "defconfig")]
    keys = []
    for index in range(args.keys):
        arch, defconfig = arches[index % len(arches)]
        keys.append({
            "lab": f"lab-{index % 7}", "board": f"board-{index}", "board_type": f"type-{index % 300}",
            "arch": arch, "defconfig": defconfig, "compiler": "gcc-12",
            "base": rng.uniform(2.0, 20.0), "breaks": rng.randrange(revisions) if rng.random() < 0.02 else None,
            "flaky": rng.random() < 0.01, "offline": rng.random() < 0.01,
            "warns": rng.randrange(revisions) if rng.random() < 0.005 else None,
        })
    written = 0
    with open(args.jsonl, "w") as jsonl, open(args.csv, "w", newline="") as csv_file:
        writer = csv.writer(csv_file)
        for revision in range(revisions):
            describe = f"v6.{revision // 10}-rc{revision % 10}-{revision}-g{revision * 2654435761 % (1 << 28):07x}"
            commit = f"{revision * 40503 % (1 << 32):08x}" * 5
            commit_time = f"2026-{1 + revision // 28 % 12:02d}-{1 + revision % 28:02d}T12:00:00Z"
            for key in keys:
                if written >= args.records:
                    break
                status, stage, reason = "pass", "prompt", ""
                if key["breaks"] is not None and revision >= key["breaks"]:
                    status, stage, reason = "fail", "kernel", "Kernel panic - not syncing: VFS: Unable to mount root fs"
                if key["flaky"] and rng.random() < 0.4:
                    status, stage, reason = "fail", "userspace", "timeout in userspace after 60 s"
                if key["offline"] and rng.random() < 0.5:
                    status, stage, reason = "error", "power", "relay did not answer"
                boot_time = round(key["base"] * rng.uniform(0.98, 1.02), 3) if status == "pass" else None
                row = {
                    "id": f"b{written:08d}", "lab": key["lab"], "board": key["board"], "board_type": key["board_type"],
                    "arch": key["arch"], "defconfig": key["defconfig"], "compiler": key["compiler"],
                    "tree": "mainline", "branch": "master", "commit": commit, "describe": describe,
                    "commit_time": commit_time, "started_at": commit_time, "status": status, "stage": stage,
                    "reason": reason, "boot_time_s": boot_time, "warnings": 1 if key["warns"] is not None and revision >= key["warns"] else 0,
                    "kernel_image_size": 20_000_000 + revision * 1000, "energy_j": round(key["base"] * 2.1, 3),
                    "avg_power_w": 2.1, "peak_power_w": 3.4,
                }
                jsonl.write(json.dumps({k: v for k, v in row.items() if v is not None}, separators=(",", ":")) + "\n")
                writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
                written += 1
    print(json.dumps({"records": written, "keys": args.keys, "revisions": revisions}))


if __name__ == "__main__":
    main()
