#!/bin/sh
# sweep.sh - the overcommit sweep: one host at overcommit ratios 1.0 to 2.0.
#
# usage: scripts/sweep.sh [SCENARIO]     (default examples/sweep.xml)
#   env: MEMVISOR (default build/memvisor), RATIOS (default "1.0 1.1 ... 2.0"),
#        JOBS (parallel runs, default 2), SEED (default: the scenario's)
#
# For each ratio R it copies the scenario with the host's <memory> set to
# the VMs' configured memory / R (so the VMs and their workloads stay the
# same and only the machine shrinks), runs `memvisor run --json` on it and
# prints one row of a Markdown table from the JSON (docs/json.md):
#
#   saved MiB   memory each mechanism took back, averaged over the samples:
#               sharing (pages_sharing + zero_pages), balloon (pages the
#               guests' balloons hold), compression (pages compressed minus
#               the frames the cache holds), swap (pages in swap files)
#   state %     share of simulated time in each free-memory state
#   swap-in/s   hypervisor swap-ins (pages/s), and the guests' own swap-ins
#               (pages/s) that ballooning pushed them into
#   stall %     each VM's vCPU time stalled on hypervisor faults
#   progress    the worst VM's accesses done / demanded
#
# A Markdown table of the sweep; `memvisor plan` (docs/plan.md) runs the
# same sweep in C with a verdict per ratio and is the interface to use;
# this script stays for the Markdown table. Exit status: 0; 1 if a run
# failed (its error is printed, the other ratios still run); 2 for bad
# usage (no such scenario, memvisor not built, a
# scenario memvisor refuses).
set -eu

scenario=${1:-examples/sweep.xml}
memvisor=${MEMVISOR:-build/memvisor}
ratios=${RATIOS:-"1.0 1.1 1.2 1.3 1.4 1.5 1.6 1.7 1.8 1.9 2.0"}
jobs=${JOBS:-2}
seed_opt=""
[ -n "${SEED:-}" ] && seed_opt="--seed $SEED"

[ -f "$scenario" ] || { echo "sweep.sh: $scenario: no such scenario" >&2; exit 2; }
[ -x "$memvisor" ] || { echo "sweep.sh: $memvisor: not built (run make)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mvsweep.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The VMs' configured memory, as memvisor reads it (any units, domain
# files); a scenario memvisor refuses is bad input (its error is printed).
$memvisor run --json --quiet --duration 10ms "$scenario" > "$tmp/probe.json" ||
	exit 2

# One scenario per ratio: host memory replaced, relative domain files made
# absolute so the copy loads from the temporary directory.
python3 - "$scenario" "$tmp" $ratios <<'EOF' || exit 2
import json, os, re, sys
src, tmp, ratios = sys.argv[1], sys.argv[2], sys.argv[3:]
configured = json.load(open(os.path.join(tmp, "probe.json")))["run"]["configured_bytes"]
text = open(src).read()
base = os.path.dirname(os.path.abspath(src))
# The attributes the scenario reader resolves against the scenario's
# folder: <vm file=> (a domain or .vmx file) and <workload trace=>, in
# either quote style. (<swap dir=> is relative to the working directory,
# which the runs share, so it stays as written.)
def absolute(m):
    return "%s=%s%s%s" % (m.group(1), m.group(2),
                          os.path.join(base, m.group(3)), m.group(2))
text = re.sub(r"""\b(file|trace)\s*=\s*(["'])((?!/)(?:(?!\2).)*)\2""",
              absolute, text)
host = re.search(r"<host\b.*?</host>", text, re.S)
if not host:
    sys.exit("sweep.sh: %s: no <host> element" % src)
mem = re.compile(r"<memory\b[^>]*>[^<]*</memory>")
if not mem.search(host.group(0)):
    sys.exit("sweep.sh: %s: <host> has no <memory>" % src)
for r in ratios:
    mib = int(configured / float(r) / (1 << 20))
    h = mem.sub('<memory unit="MiB">%d</memory>' % mib, host.group(0), count=1)
    out = text[:host.start()] + h + text[host.end():]
    open(os.path.join(tmp, "r%s.xml" % r), "w").write(out)
EOF

# The runs, $jobs at a time; a failed run prints its error and the sweep
# goes on to the others, then exits 1 (xargs itself would exit 123 or 124).
failed=0
for r in $ratios; do echo "$r"; done |
	xargs -P "$jobs" -I{} sh -c \
		'"$1" run --json --quiet $2 -o "$3/r{}.json" "$3/r{}.xml" 2> "$3/r{}.err" ||
		 { echo "sweep.sh: ratio {}: $(cat "$3/r{}.err")" >&2; exit 1; }' \
		sh "$memvisor" "$seed_opt" "$tmp" || failed=1
[ "$failed" -eq 0 ] || exit 1

python3 - "$tmp" $ratios <<'EOF'
import json, os, sys
tmp, ratios = sys.argv[1], sys.argv[2:]
MIB = 1 << 20
runs = [json.load(open(os.path.join(tmp, "r%s.json" % r))) for r in ratios]
states = list(runs[0]["host"]["free"]["state_ns"].keys())
vms = [v["name"] for v in runs[0]["vms"]]
head = (["ratio", "host MiB", "share", "balloon", "zip", "swap"] +
        ["%s %%" % s for s in states] +
        ["swap-in/s", "guest swap-in/s"] + ["stall %% %s" % n for n in vms] +
        ["progress"])
print("| " + " | ".join(head) + " |")
print("|" + "|".join("---:" for _ in head) + "|")
for j in runs:
    page = j["host"]["page_size_bytes"]
    ser = j["series"]
    def avg(f):
        return sum(f(s) for s in ser) / len(ser) * page / MIB
    share = avg(lambda s: s["sharing"]["pages_sharing"] + s["sharing"]["zero_pages"])
    balloon = avg(lambda s: sum(v["guest"]["balloon_pages"] for v in s["vms"]))
    zipped = avg(lambda s: sum(max(0, v["state_pages"]["compressed"] - v["zcache"]["frames"])
                               for v in s["vms"]))
    swap = avg(lambda s: sum(v["state_pages"]["swapped"] for v in s["vms"]))
    sim_ns = j["run"]["simulated_ns"]
    secs = sim_ns / 1e9
    st = j["host"]["free"]["state_ns"]
    t = j["totals"]
    row = ["%.1f" % j["run"]["overcommit_ratio"], "%d" % (j["host"]["mem_bytes"] // MIB),
           "%.0f" % share, "%.0f" % balloon, "%.0f" % zipped, "%.0f" % swap]
    row += ["%.1f" % (100.0 * st.get(s, 0) / sim_ns) for s in states]
    row += ["%.1f" % (t["faults"]["swap_in"] / secs),
            "%.1f" % (t["guest"]["swap_in_pages"] / secs)]
    row += ["%.2f" % (100.0 * v["stall_fraction"]) for v in j["vms"]]
    row += ["%.1f%%" % (100.0 * min(v["progress_fraction"] for v in j["vms"]))]
    print("| " + " | ".join(row) + " |")
print()
print("saved: MiB averaged over the run's samples; state: %% of simulated time; "
      "swap-in: pages/s; stall: %% of each VM's time; progress: worst VM's "
      "accesses done / demanded (%s, %s simulated)"
      % (runs[0]["scenario"]["name"], "%g s" % (runs[0]["run"]["simulated_ns"] / 1e9)))
EOF
