#!/bin/sh
# paper-experiment
# sharing-n.sh - Waldspurger's page sharing experiment with N identical
# VMs (OSDI 2002, section 4.3, figure 4) in memvisor: the same Linux VM
# running the same SPEC95 benchmark, 1 to 10 copies on one host.
#
# usage: examples/paper/sharing-n.sh OUTDIR      env: MEMVISOR (build/memvisor)
#
# Runs examples/paper/sharing-n.xml with its <vm count> set to N = 1..10
# (OUTDIR/sharing-N.xml, OUTDIR/sharing-N.json), writes the curve to
# OUTDIR/sharing-n.tsv (N, MiB configured, shared, reclaimed, their % of
# all VM memory) and prints the paper table's rows for 10 VMs, parsed from
# the JSON: "shared" is the VMs' memory mapped to a sharing frame or to
# the zero frame (state shared + zero), "reclaimed" the memory sharing
# saved (SHRDSVD, pages_sharing + zero_pages), both as % of the VMs'
# configured memory, as figure 4's lower graph plots them.
set -eu

here=$(dirname "$0")
out=${1:?usage: sharing-n.sh OUTDIR}
memvisor=${MEMVISOR:-build/memvisor}

# run N VMs (a deterministic run: the order of the runs changes nothing)
one() {
	sed "s/<vm count=\"10\">/<vm count=\"$1\">/" "$here/sharing-n.xml" \
		>"$out/sharing-$1.xml"
	"$memvisor" run -q --json -o "$out/sharing-$1.json" \
		"$out/sharing-$1.xml" >&2
}

mkdir -p "$out"
# two at a time (each run is one thread)
(for n in 10 8 6 4 2; do one $n; done) &
pid=$!
for n in 9 7 5 3 1; do one $n; done
wait $pid

python3 - "$out" <<'PY'
import json, sys

out = sys.argv[1]
M = float(1 << 20)
rows = []
for n in range(1, 11):
    j = json.load(open("%s/sharing-%d.json" % (out, n)))
    t = j["totals"]
    if len(j["vms"]) != n:
        sys.exit("sharing-n.sh: %d VMs in run %d" % (len(j["vms"]), n))
    conf = t["configured_bytes"]
    shared = t["state_bytes"]["shared"] + t["state_bytes"]["zero"]
    saved = t["shared_saved_bytes"]
    rows.append((n, conf / M, shared / M, saved / M,
                 100.0 * shared / conf, 100.0 * saved / conf))
with open(out + "/sharing-n.tsv", "w") as f:
    f.write("vms\tconfigured_mib\tshared_mib\treclaimed_mib\tshared_pct\t"
            "reclaimed_pct\n")
    for r in rows:
        f.write("%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\n" % r)
n, conf, sh, rc, shp, rcp = rows[-1]
src = "Fig. 4, Sec. 4.3"
for q, p, m, tol in [
        ("shared, 10 identical VMs, % of VM memory", "67", "%.1f" % shp, "±3"),
        ("reclaimed, 10 identical VMs, % of VM memory", "60", "%.1f" % rcp,
         "±3")]:
    print("\t".join(["Page sharing, N identical VMs", q, p, src, m, "%", tol]))
PY
