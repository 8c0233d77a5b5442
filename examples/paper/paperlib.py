"""paperlib.py - what the paper experiments written in Python share: run
examples/paper/NAME.xml once into OUTDIR and print the table's rows
(scripts/paper.sh's protocol: 7 TAB-separated fields on stdout, anything
else on stderr or in OUTDIR).

A script imports it from its own directory (python3 puts that first on
sys.path), without writing a __pycache__ beside it.
"""
import json
import os
import subprocess
import sys

MiB = 1 << 20  # the paper's MB


def run(name, svg=False):
    """The script's one argument, OUTDIR, and the run of NAME.xml with
    --json, --csv (and --svg) into it: (OUTDIR, the run's JSON)."""
    if len(sys.argv) != 2:
        sys.exit("usage: %s.sh OUTDIR" % name)
    out = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    memvisor = os.environ.get("MEMVISOR", "build/memvisor")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "run.json")
    svg_opt = ["--svg", os.path.join(out, "svg")] if svg else []
    subprocess.run([memvisor, "run", "-q", "--json", "-o", path,
                    "--csv", os.path.join(out, "csv"), *svg_opt,
                    os.path.join(here, name + ".xml")],
                   check=True, stdout=sys.stderr)
    with open(path) as f:
        return out, json.load(f)


def row(exp, quantity, paper, source, value, unit, tolerance):
    """One row of the table; value already formatted."""
    print("%s\t%s\t%g\t%s\t%s\t%s\t%s" %
          (exp, quantity, paper, source, value, unit, tolerance))
