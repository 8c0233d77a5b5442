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


def run(name, svg=False, exact=False):
    """The script's one argument, OUTDIR, and the run of NAME.xml with
    --json, --csv (and --svg) into it, --exact (the access-by-access
    reference model) if asked: (OUTDIR, the run's JSON)."""
    if len(sys.argv) != 2:
        sys.exit("usage: %s.sh OUTDIR" % name)
    out = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    return out, run_xml(os.path.join(here, name + ".xml"), out, svg, exact)


def run_xml(xml, out, svg=False, exact=False):
    """The run of scenario file xml, as run() runs it, into out: its
    JSON (out/run.json)."""
    memvisor = os.environ.get("MEMVISOR", "build/memvisor")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "run.json")
    svg_opt = ["--svg", os.path.join(out, "svg")] if svg else []
    exact_opt = ["--exact"] if exact else []
    subprocess.run([memvisor, "run", "-q", *exact_opt, "--json", "-o", path,
                    "--csv", os.path.join(out, "csv"), *svg_opt, xml],
                   check=True, stdout=sys.stderr)
    with open(path) as f:
        return json.load(f)


def row(exp, quantity, paper, source, value, unit, tolerance):
    """One row of the table; value already formatted."""
    print("%s\t%s\t%g\t%s\t%s\t%s\t%s" %
          (exp, quantity, paper, source, value, unit, tolerance))
