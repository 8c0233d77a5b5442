#!/usr/bin/env python3
# paper-experiment
"""sampling-zpt.sh - Waldspurger, OSDI 2002, figure 6: the spike the
Windows zero page thread puts in the sampled active-memory estimate when
the toucher stops, and its absence under Linux
(examples/paper/sampling-zpt.xml).

usage: examples/paper/sampling-zpt.sh OUTDIR          the table's rows
       examples/paper/sampling-zpt.sh --sizes OUTDIR  how the spike moves
                                                      with the VMs' size
env: MEMVISOR (build/memvisor)

Runs the scenario once with --exact (the reference model), --json, --csv
and --svg into OUTDIR (OUTDIR/svg/vm-win.svg, vm-linux.svg) and prints the
rows of docs/paper.md's table (7 TAB-separated fields, scripts/paper.sh),
every value from the run's JSON: for each VM, how far its estimate (ACTV)
rises within 10 s after the toucher stops, above the last estimate before
the stop. The paper's plot data: 160 MB in the period before the stop,
224 MB within 10 s of it, a rise of 64 MB; under Linux, the text: "an
effect that does not occur".

--sizes runs copies of the scenario (in OUTDIR) with both VMs at other
sizes, and one where the toucher does not keep the CPU busy (no cpu="1":
the zero page thread clears each freed page at once), and prints a
Markdown table of the two rises (docs/sampling.md).

MB in the paper are 2^20 bytes: memvisor's MiB.
"""
import os
import sys

import paperlib

WINDOW = 10.0  # s after the stop, as the paper's plot is read
SIZE = '<memory unit="MiB">304</memory>'


def rises(j):
    """{VM name: (estimate before the stop, highest within WINDOW after)}"""
    wl = j["vms"][0]["guest_config"]["workloads"]
    stop = max(w["stop_ns"] for w in wl) / 1e9
    r = {}
    for i, v in enumerate(j["vms"]):
        ser = [(s["t_s"], s["vms"][i]["active_est_bytes"] / paperlib.MiB)
               for s in j["series"]]
        before = [e for t, e in ser if t <= stop][-1]
        r[v["name"]] = (before,
                        max(e for t, e in ser if stop < t <= stop + WINDOW))
    return r


def sizes(out):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "sampling-zpt.xml")) as f:
        xml = f.read()
    if xml.count(SIZE) != 2 or xml.count(' cpu="1"') != 2:
        sys.exit("sampling-zpt.sh: sampling-zpt.xml no longer has two VMs "
                 "of 304 MiB with a toucher that spins")
    print("| VMs' size, MiB | toucher spins (`cpu=\"1\"`) | "
          "Windows: rise, MiB | Linux: rise, MiB |")
    print("|---:|---|---:|---:|")
    for mib, spins in ((288, 1), (304, 1), (320, 1), (384, 1), (512, 1),
                       (304, 0)):
        v = xml.replace(SIZE, SIZE.replace("304", str(mib)))
        if not spins:
            v = v.replace(' cpu="1"', "")
        d = os.path.join(out, "%d-%d" % (mib, spins))
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "sampling-zpt.xml")
        with open(path, "w") as f:
            f.write(v)
        r = rises(paperlib.run_xml(path, d, exact=True))
        print("| %d | %s | %+.1f | %+.1f |" %
              (mib, "yes" if spins else "no", r["win"][1] - r["win"][0],
               r["linux"][1] - r["linux"][0]))


if len(sys.argv) == 3 and sys.argv[1] == "--sizes":
    sizes(sys.argv[2])
    sys.exit(0)

out, j = paperlib.run("sampling-zpt", svg=True, exact=True)
r = rises(j)
src = "Fig. 6 (Sec. 5.4), plot data"
paperlib.row("Active-memory sampling",
             "Windows: rise within 10 s of the toucher's stop (ZPT spike)",
             64, src, "%.1f" % (r["win"][1] - r["win"][0]), "MB", "2x")
paperlib.row("Active-memory sampling", "Linux: the same rise (no spike)", 0,
             "Sec. 5.4 (p. 9)", "%.1f" % (r["linux"][1] - r["linux"][0]),
             "MB", "±15")
print("sampling-zpt.sh: estimate before the stop and highest after it: "
      "windows %.1f -> %.1f MiB, linux %.1f -> %.1f MiB" %
      (r["win"] + r["linux"]),
      file=sys.stderr)
