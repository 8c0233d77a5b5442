#!/bin/sh
# The rebalancer figure of docs/numa.md: examples/numa/rebalance.xml (three
# VMs on two 1 GiB nodes, c spilled off node 0) with <numa rebalance> off
# (as written) and on, one run each; prints a Markdown table from each
# run's JSON (docs/json.md): per VM its home node at the end (NHN), the
# rebalancer's moves (NMIG), N%L, remote MiB, the remote-access stall, the
# pages migrated and progress.
# Usage: examples/numa/rebalance.sh  (env MEMVISOR, default build/memvisor)
set -eu
MEMVISOR=${MEMVISOR:-build/memvisor}
dir=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '| rebalance | VM | NHN | NMIG | N%%L | remote MiB | NUMA stall (ms) | migrated MiB | progress |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for r in no yes; do
	sed "s|rebalance=\"no\"|rebalance=\"$r\"|" "$dir/rebalance.xml" >"$tmp/$r.xml"
	"$MEMVISOR" run --json "$tmp/$r.xml" >"$tmp/$r.json" 2>"$tmp/$r.err"
	python3 - "$tmp/$r.json" "$r" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for v in d["vms"]:
    n = v["numa"]
    print("| %s | %s | %d | %d | %.1f%% | %.1f | %.1f | %.1f | %.1f%% |" % (
        sys.argv[2], v["name"], n["home_node"], n["home_moves"],
        100 * n["local_fraction"], n["remote_bytes"] / 2**20,
        n["stall_ns"] / 1e6, n["migrated_pages"] * 4096 / 2**20,
        100 * v["progress_fraction"]))
PY
done
