#!/bin/sh
# The DRS figures of docs/cluster.md (section 6), as a Markdown table: a
# cluster file (default examples/cluster16.xml) with each balancer given,
# side by side, every figure read from `memvisor run --json`:
#
#   examples/cluster-drs.sh [-f CLUSTER.xml] [DRS...]
#       DRS: none, 1..5 (the <drs> element's level, every 120 s),
#       N-nocb (level N, cost-benefit off), or place (level 1: initial
#       placement and mandatory moves, no load balancing: the baseline for
#       a file whose cluster <vm>s DRS places, which `none` cannot run);
#       default: none 3
#
# Each variant is the cluster file with its <drs> element replaced,
# written to a new file next to it (its host files are relative to it)
# and removed afterwards, also when the script is interrupted. The runs go two at a time (this machine has two cores).
# MEMVISOR names the binary (default build/memvisor, else memvisor).
set -eu
MEMVISOR=${MEMVISOR:-}
if [ -z "$MEMVISOR" ]; then
	if [ -x build/memvisor ]; then MEMVISOR=build/memvisor; else MEMVISOR=memvisor; fi
fi
src=examples/cluster16.xml
if [ "${1:-}" = -f ]; then
	[ $# -ge 2 ] || { echo "cluster-drs.sh: -f needs a cluster file" >&2; exit 2; }
	src=$2
	shift 2
fi
[ -f "$src" ] || { echo "cluster-drs.sh: $src: no such file" >&2; exit 2; }
grep -q '<drs[ >]' "$src" || { echo "cluster-drs.sh: $src has no <drs> element to replace" >&2; exit 2; }
[ $# -gt 0 ] || set -- none 3
dir=$(dirname "$src")
tmp=$(mktemp -d)
files= pids=
# the variants' files are new regular files (mktemp) next to the cluster
# file; removed, and the runs ended, on exit or on a signal
cleanup() {
	[ -z "$pids" ] || kill $pids 2>/dev/null || true
	rm -rf "$tmp"
	[ -z "$files" ] || rm -f $files
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# wait for the runs started so far; fail if one failed
wait_runs() {
	for p in $pids; do wait "$p" || { pids=; exit 1; }; done
	pids=
}
n=0
for v in "$@"; do
	case $v in
	none) drs='<drs>none</drs>' ;;
	[1-5]) drs="<drs level=\"$v\" interval=\"120s\"/>" ;;
	place) drs='<drs level="1" interval="120s"/>' ;;
	[1-5]-nocb) drs="<drs level=\"${v%-nocb}\" interval=\"120s\" cost-benefit=\"off\"/>" ;;
	*) echo "cluster-drs.sh: '$v': none, 1..5, N-nocb or place" >&2; exit 2 ;;
	esac
	f=$(mktemp -p "$dir" .cluster-drs-XXXXXX.xml)
	files="$files $f"
	sed "s|<drs [^>]*/>|$drs|; s|<drs>none</drs>|$drs|" "$src" > "$f"
	"$MEMVISOR" run -q --json "$f" > "$tmp/$v.json" &
	pids="$pids $!"
	n=$((n + 1))
	[ $((n % 2)) -eq 0 ] && wait_runs
done
wait_runs
python3 - "$tmp" "$@" <<'PY'
import json, sys
tmp, variants = sys.argv[1], sys.argv[2:]
print("| DRS | migrations | hosts' time in soft/hard/low | swap-in pages (hypervisor) | guest swap-in pages | stall s | accesses done | ballooned at the end MiB | imbalance at the last run |")
print("|---|---|---|---|---|---|---|---|---|")
for v in variants:
    r = json.load(open(f"{tmp}/{v}.json"))
    c = r["cluster"]
    hs = c["host_summary"]
    tot = sum(sum(h["memstate_ns"].values()) for h in hs)
    bad = sum(h["memstate_ns"][k] for h in hs for k in ("soft", "hard", "low"))
    done = sum(1 for m in c["migrations"] if m["state"] == "done")
    fin = [vm["final"] for h in r["hosts"] for vm in h["vms"]]
    acc = sum(f["accesses_done"] for f in fin) / sum(f["accesses_demanded"] for f in fin)
    runs = c["drs"]["runs"]
    label = ("none" if v == "none" else
             "placement only (level 1)" if v == "place" else
             "level " + v.replace("-nocb", ", cost-benefit off"))
    last = f'{runs[-1]["imbalance"]:.4f}' if runs else "-"
    print(f'| {label} | {done} | {100 * bad / tot:.1f}% | '
          f'{sum(h["swap_in_pages"] for h in hs)} | '
          f'{sum(f["guest"]["swap_in_pages"] for f in fin)} | '
          f'{sum(h["stall_ns"] for h in hs) / 1e9:.3f} | {100 * acc:.2f}% | '
          f'{sum(h["ballooned_bytes"] for h in hs) / 2**20:.1f} | {last} |')
PY
