#!/bin/sh
# paper-experiment
# deployments.sh - page sharing in Waldspurger's three production
# deployments (OSDI 2002, section 4.3, figure 5: a table) in memvisor: A, 10 Windows
# NT VMs; B, 9 Linux VMs; C, 5 Linux VMs.
#
# usage: examples/paper/deployments.sh OUTDIR    env: MEMVISOR (build/memvisor)
#
# Runs examples/paper/deployments-{a,b,c}.xml into OUTDIR/deployment-X.json
# and prints the paper table's rows, parsed from the JSON: the memory
# sharing reclaimed (SHRDSVD: pages_sharing + zero_pages) as % of the VMs'
# configured memory, per configuration, and the shared memory (state
# shared + zero), which the scenarios take from figure 5 as an input (a
# check that the scanner found all of it). docs/sharing.md says which
# inputs are the paper's and which are assumptions.
set -eu

here=$(dirname "$0")
out=${1:?usage: deployments.sh OUTDIR}
memvisor=${MEMVISOR:-build/memvisor}

mkdir -p "$out"
for c in a b c; do
	"$memvisor" run -q --json -o "$out/deployment-$c.json" \
		"$here/deployments-$c.xml" >&2
done

python3 - "$out" <<'PY'
import json, sys

out = sys.argv[1]
# figure 5: configuration, guests, shared %, reclaimed %
table = [("a", "A, 10 Windows NT VMs", "42.9", "32.9"),
         ("b", "B, 9 Linux VMs", "29.2", "18.7"),
         ("c", "C, 5 Linux VMs", "10.0", "7.2")]
for c, name, p_sh, p_rc in table:
    j = json.load(open("%s/deployment-%s.json" % (out, c)))
    t = j["totals"]
    conf = t["configured_bytes"]
    shared = t["state_bytes"]["shared"] + t["state_bytes"]["zero"]
    saved = t["shared_saved_bytes"]
    for q, p, m, tol in [
            ("%s: shared (input)" % name, p_sh, 100.0 * shared / conf, "±2"),
            ("%s: reclaimed" % name, p_rc, 100.0 * saved / conf, "2x")]:
        print("\t".join(["Page sharing in production", q, p, "Fig. 5 (table)",
                         "%.1f" % m, "% of VM memory", tol]))
PY
