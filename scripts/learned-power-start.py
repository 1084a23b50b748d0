#!/usr/bin/env python3
"""What a learned sketch buys as the start of power iterations (issue 26), on the street video.

    dotnet build src/Cli -c Release
    dotnet run --project src/Cli -c Release --no-build -- train data/vtest.npy --select 0:400:8 --out data/vtest.sketch
    python3 scripts/learned-power-start.py

For q = 0..3 power iterations, the mean ratio ||A - A~||_F / ||A - [A]_k||_F (k = 10) over five frames the sketch was not
trained on (450, 525, 600, 675, 750), started from the learned 20-row sketch and from a random 20-row CountSketch
(seed 1), both through `lowrank approx --optimal`. Standard library only.
"""
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "src", "Cli", "bin", "Release", "net10.0", "LowRank.Cli.dll")
FRAMES = [450, 525, 600, 675, 750]


def ratio(frame, sketch, q):
    out = subprocess.run(
        ["dotnet", TOOL, "approx", os.path.join(ROOT, "data", "vtest.npy"), "--select", str(frame), *sketch,
         "-q", str(q), "--optimal", "-o", os.path.join(ROOT, "data", "power-start")],
        capture_output=True, text=True, check=True).stdout
    return float(re.search(r"ratio\s*│\s*([0-9.]+)", out).group(1))


def main():
    learned = os.path.join(ROOT, "data", "vtest.sketch")
    if not os.path.exists(learned):
        sys.exit(f"{learned} is missing: train it first (see this script's docstring).")
    print("| q | learned start | random CountSketch start |")
    print("|---|---:|---:|")
    for q in range(4):
        mean = [statistics.mean(ratio(f, s, q) for f in FRAMES)
                for s in (["--sketch", learned], ["-m", "20", "--seed", "1"])]
        print(f"| {q} | {mean[0]:.4f} | {mean[1]:.4f} |")


if __name__ == "__main__":
    main()
