#!/bin/sh
# The NUMA figure of docs/numa.md: examples/numa/big-vm.xml (a 1536 MiB VM
# on two 1 GiB nodes) under <numatune> strict (as written, and with
# <memoryBacking><locked/>, so nothing can be reclaimed), preferred and
# interleave, one run each; prints a Markdown table from each run's JSON
# (docs/json.md): where its memory ended up (N%L, remote MiB), the
# accesses that went remote, their stall, the strict allocations that
# failed, the policy-constrained OOM kill, and progress.
# Usage: examples/numa/figure.sh  (env MEMVISOR, default build/memvisor)
set -eu
MEMVISOR=${MEMVISOR:-build/memvisor}
dir=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '| mode | nodeset | N%%L | remote MiB | accesses remote | NUMA stall (ms) | all stall (ms) | strict failures | swapped + compressed MiB | OOM kill | progress |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for m in strict:0: strict:0:locked preferred:0: interleave:0-1:; do
	mode=${m%%:*}
	rest=${m#*:}
	set=${rest%%:*}
	locked=${rest#*:}
	back=
	[ -n "$locked" ] && back='<memoryBacking><locked/></memoryBacking>'
	sed "s|<numatune><memory mode=\"preferred\" nodeset=\"0\"/>|$back<numatune><memory mode=\"$mode\" nodeset=\"$set\"/>|" \
		"$dir/big-vm.xml" >"$tmp/$mode$locked.xml"
	"$MEMVISOR" run --json "$tmp/$mode$locked.xml" >"$tmp/$mode$locked.json" \
		2>"$tmp/$mode$locked.err"
	python3 - "$tmp/$mode$locked.json" "$mode${locked:+, locked}" "$set" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = d["vms"][0]
n, f = v["numa"], v["final"]
acc = n["accesses"] or 1
stall = f["stall_ns"] + f["xlat_ns"] + n["stall_ns"] + n["migrate_ns"]
kill = v["config"].get("oom_killed_ns")
print("| %s | %s | %.1f%% | %.1f | %.1f%% | %.1f | %.1f | %d | %.1f | %s | %.1f%% |" % (
    sys.argv[2], sys.argv[3], 100 * n["local_fraction"],
    n["remote_bytes"] / 2**20, 100 * n["remote_accesses"] / acc,
    n["stall_ns"] / 1e6, stall / 1e6, n["bind_failed"],
    (f["state_bytes"]["swapped"] + f["state_bytes"]["compressed"]) / 2**20,
    "%.2f s (%s)" % (kill / 1e9, v["config"]["oom_constraint"]) if kill is not None else "-",
    100 * v["progress_fraction"]))
PY
done
