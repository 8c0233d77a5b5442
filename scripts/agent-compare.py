#!/usr/bin/env python3
"""Simulated against measured: a scenario written by `memvisor record`
replayed by `memvisor run`, and per guest the balloon size and the guest's
free memory the simulator shows beside what was measured (docs/agent.md).

usage: scripts/agent-compare.py SCENARIO [CSV_DIR]
  SCENARIO  the recorded scenario (FILE); its series FILE-NAME.csv and
            FILE-host.csv beside it
  CSV_DIR   where `memvisor run --csv` writes (default: a temporary one)
memvisor is found on PATH, or as $MEMVISOR.

For each simulated sample after power-on (the run's --csv rows, at the
scenario's stats-interval) the measured row nearest in time since the
recording's start is taken. Printed as a Markdown table: per guest the
samples compared, the means (MiB) and the mean absolute error, also as a
percentage of the measured mean. Measured balloon = <memory> - actual;
guest free = the balloon statistics' unused. Simulated: MCTLSZ and
guest_unused.
"""
import csv
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


def rows(path, sep):
    with open(path) as f:
        r = csv.reader(f, delimiter=sep)
        head = [h.strip() for h in next(r)]
        return [dict(zip(head, (v.strip() for v in row))) for row in r]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    scen = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else tempfile.mkdtemp()
    base = scen[:-4] if scen.endswith(".xml") else scen
    mv = os.environ.get("MEMVISOR", "memvisor")
    subprocess.run([mv, "run", "-q", "--csv", out, scen], check=True,
                   stdout=subprocess.DEVNULL)
    t0 = int(rows(base + "-host.csv", ";")[0]["Timestamp [ms]"])
    guests = []  # (domain name, its series)
    for vm in ET.parse(scen).getroot().iter("vm"):
        name = vm.find("domain/name").text.strip()
        wl = vm.find("workload")
        guests.append((name, os.path.join(os.path.dirname(scen),
                                          wl.get("file"))))
    print("| guest | samples | balloon measured | simulated | error "
          "| guest free measured | simulated | error |")
    print("|---|---|---|---|---|---|---|---|")
    for name, series in guests:
        meas = rows(series, ";")
        sim = rows(os.path.join(out, "vm-%s.csv" % name), ",")
        mt = [(int(m["Timestamp [ms]"]) - t0) / 1000.0 for m in meas]
        pairs = []
        for s in sim:
            t = float(s["time_s"])
            if t <= 0:
                continue  # power-on, before the guest booted
            i = min(range(len(mt)), key=lambda k: abs(mt[k] - t))
            m = meas[i]
            mb = (int(m["Memory capacity provisioned [KB]"]) -
                  int(m["Balloon actual [KB]"])) / 1024.0
            mf = int(m["Unused [KB]"]) / 1024.0
            pairs.append((mb, float(s["MCTLSZ"]), mf,
                          float(s["guest_unused"])))
        n = len(pairs)
        if not n:
            print("| %s | 0 | | | | | | |" % name)
            continue

        def col(a, b):
            ma = sum(p[a] for p in pairs) / n
            mb = sum(p[b] for p in pairs) / n
            err = sum(abs(p[a] - p[b]) for p in pairs) / n
            pct = " (%.0f%%)" % (100 * err / ma) if ma else ""
            return "%.1f | %.1f | %.1f%s" % (ma, mb, err, pct)
        print("| %s | %d | %s | %s |" % (name, n, col(0, 1), col(2, 3)))


main()
