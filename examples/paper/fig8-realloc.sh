#!/usr/bin/env python3
# paper-experiment
"""fig8-realloc.sh - Waldspurger, OSDI 2002, figure 8: dynamic reallocation
on five Windows VMs over 90 minutes (examples/paper/fig8-realloc.xml).

usage: examples/paper/fig8-realloc.sh OUTDIR     env: MEMVISOR (build/memvisor)

Runs the scenario once with --json and --csv into OUTDIR and prints the
rows of docs/paper.md's table (7 TAB-separated fields, scripts/paper.sh),
every value from the run's JSON:

  high/soft/hard/low   the share of the run the host spent in each
                       free-memory state (host.free.state_ns), in % of
                       time (the paper: about 97/2.5/0.3/0.1%)
  zero sharing         the most memory zero-page sharing saved
                       (sharing.zero_pages) in the first 10 minutes, while
                       the guests boot and start their services (the
                       paper: about 325 MB)

MB in the paper are 2^20 bytes: memvisor's MiB. The scenario's sizes and
load over time are assumptions (the XML's comment, docs/paper.md).
"""
import json
import os
import subprocess
import sys

if len(sys.argv) != 2:
    sys.exit("usage: fig8-realloc.sh OUTDIR")
out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
memvisor = os.environ.get("MEMVISOR", "build/memvisor")
scenario = os.path.join(here, "fig8-realloc.xml")
MiB = 1 << 20
EXP = "Dynamic reallocation"
BOOT_S = 600

os.makedirs(out, exist_ok=True)
path = os.path.join(out, "run.json")
subprocess.run([memvisor, "run", "-q", "--json", "-o", path,
                "--csv", os.path.join(out, "csv"), scenario],
               check=True, stdout=sys.stderr)
run = json.load(open(path))

state_ns = run["host"]["free"]["state_ns"]
total = sum(state_ns.values())
if total <= 0:
    sys.exit("fig8-realloc.sh: no time in any state")
page = run["host"]["page_size_bytes"]
zero = max(x["sharing"]["zero_pages"] * page / MiB
           for x in run["series"] if x["t_s"] <= BOOT_S)

rows = [
    ("time in state high", 97, state_ns["high"], "±3"),
    ("time in state soft", 2.5, state_ns["soft"], "±3"),
    ("time in state hard", 0.3, state_ns["hard"], "±1"),
    ("time in state low", 0.1, state_ns["low"], "±1"),
]
for q, p, ns, tol in rows:
    print("%s\t%s\t%g\tFig. 8 (as issue 15 reads it)\t%.2f\t%% of time\t%s" %
          (EXP, q, p, 100.0 * ns / total, tol))
print("%s\tzero-page sharing while the VMs boot (peak)\t325\tFig. 8 (as issue 15 reads it)\t"
      "%.0f\tMB\tgap:2x" % (EXP, zero))
