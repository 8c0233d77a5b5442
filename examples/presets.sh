#!/bin/sh
# The figures of docs/presets.md, as Markdown tables, every figure read
# from `memvisor run --json` in the same call:
#
#   examples/presets.sh [SCENARIO [PRESET...]]  one scenario under several
#       host presets, side by side (default: examples/overcommit.xml under
#       esx41 and esx8); each run is the scenario with preset="..." added
#       to its <host>, written next to it (its domain files are relative
#       to it) and removed afterwards
#   examples/presets.sh --cgroup   examples/kvm-cgroup.xml: memory.max with
#       and without QEMU's overhead, memory.high
#   examples/presets.sh --fpr      examples/free-page-reporting.xml: the
#       host's footprint of a guest with and without free page reporting
#
# MEMVISOR names the binary (default build/memvisor, else memvisor on PATH).
set -eu
MEMVISOR=${MEMVISOR:-}
if [ -z "$MEMVISOR" ]; then
	if [ -x build/memvisor ]; then MEMVISOR=build/memvisor; else MEMVISOR=memvisor; fi
fi
case ${1:-} in
--cgroup | --fpr)
	mode=$1
	file=examples/kvm-cgroup.xml
	[ "$mode" = --fpr ] && file=examples/free-page-reporting.xml
	"$MEMVISOR" run --json "$file" | python3 -c '
import json, sys
mode = sys.argv[1]
r = json.load(sys.stdin)
MiB = 1 << 20
if mode == "--cgroup":
    print("| VM | memory.max, MiB | memory.high, MiB | QEMU overhead, MiB | held at the end, MiB | swapped, pages | OOM kill |")
    print("|---|---|---|---|---|---|---|")
    for v in r["vms"]:
        c, f = v["config"], v["final"]
        big = c["limit_bytes"] >= 1 << 60
        kill = v["config"]["oom_killed_ns"]
        print("| {} | {} | {} | {:.0f} | {:.1f} | {} | {} |".format(
            v["name"], "max" if big else "%.0f" % (c["limit_bytes"] / MiB),
            "%.0f" % (c["soft_limit_bytes"] / MiB) if c["soft_limit_bytes"] else "max",
            c["qemu_overhead_bytes"] / MiB,
            f["consumed_bytes"] / MiB, f["swap"]["writes"],
            "at %.0f s" % (kill / 1e9) if kill is not None else "no"))
else:
    names = [v["name"] for v in r["vms"]]
    print("| t, s | " + " | ".join("`%s` held, MiB" % n for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for s in r["series"]:
        print("| %.0f | " % s["t_s"] + " | ".join(
            "%.0f" % (s["vms"][i]["consumed_bytes"] / MiB) for i in range(len(names))) + " |")
' "$mode"
	exit 0
	;;
esac
scenario=${1:-examples/overcommit.xml}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- esx41 esx8
dir=$(dirname "$scenario")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; rm -f "$dir"/.presets-*.xml' EXIT INT TERM
for p in "$@"; do
	case $p in esx41 | esx5 | esx6 | esx8 | kvm) ;; *)
		echo "presets.sh: unknown preset '$p' (esx41, esx5, esx6, esx8, kvm)" >&2
		exit 2
		;;
	esac
	if ! grep -q '<host[ >]' "$scenario"; then
		echo "presets.sh: $scenario has no <host> element" >&2
		exit 2
	fi
	sed "s/<host\([ >]\)/<host preset=\"$p\"\1/" "$scenario" >"$dir/.presets-$p.xml"
	"$MEMVISOR" run --json "$dir/.presets-$p.xml" >"$tmp/$p.json"
done
python3 - "$tmp" "$@" <<'EOF'
import json, sys
tmp, presets = sys.argv[1], sys.argv[2:]
runs = [json.load(open(f"{tmp}/{p}.json")) for p in presets]
MiB = 1 << 20

def row(name, f):
    print(f"| {name} | " + " | ".join(f(r) for r in runs) + " |")

def mib(b):
    return f"{b / MiB:.1f}"

def vm_sum(r, key):
    return sum(v["final"][key] for v in r["vms"])

print("| | " + " | ".join(f"`{p}`" for p in presets) + " |")
print("|---|" + "---|" * len(presets))
row("free-memory states", lambda r: f"`{r['host']['memstate_model']}`")
row("`Mem.ShareForceSalting`", lambda r: str(r["host"]["reclaim"]["sharing"]["salting"]))
row("saved by sharing, MiB (zero pages included)",
    lambda r: mib(r["host"]["sharing_saved_bytes"]))
row("of which zero pages, MiB",
    lambda r: mib(r["host"]["sharing"]["zero_pages"] * 4096))
row("sharing frames (`pages_shared`)", lambda r: str(r["host"]["sharing"]["pages_shared"]))
row("min host free, MiB", lambda r: mib(r["host"]["free"]["min_bytes"]))
row("time in soft / hard / low, s", lambda r: " / ".join(
    f"{r['host']['free']['state_ns'][s] / 1e9:.0f}" for s in ("soft", "hard", "low")))
row("ballooned at the end, MiB", lambda r: mib(r["totals"]["guest"]["balloon_bytes"]))
row("compressed, pages (cumulative)", lambda r: str(r["totals"]["zcache"]["compressed"]))
row("hypervisor swap-outs, pages (cumulative)", lambda r: str(r["totals"]["swap"]["writes"]))
row("guest swap-outs, pages (cumulative)", lambda r: str(r["totals"]["guest"]["swap_out_pages"]))
row("stall, s (all VMs)", lambda r: f"{r['totals']['stall_ns'] / 1e9:.1f}")
EOF
