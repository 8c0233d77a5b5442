#!/bin/sh
# The scaling figure of docs/cluster.md (section 5): one cluster file run
# as one process and under `mpirun -np N`, its hosts spread over N ranks;
# the wall time of each, whether its JSON (without the measured wall_s
# lines) and CSV are byte for byte those of one process, and the model of
# N machines: the run's wall time when each rank has a core of its own,
# the largest sum, over the ranks, of their hosts' measured stepping time
# (each host's wall_s in the one-process run's JSON; the hosts of rank r
# are h with h * N / H = r) plus what the one-process run spent outside
# stepping (start, power-on, the migrations' and DRS's work, reports),
# which the model does not divide.
#
#   examples/cluster-ranks.sh [-f CLUSTER.xml] [-d DURATION] [N...]
#       default: examples/cluster16.xml for 5m (DRS moves VMs at its
#       second run, at 4 minutes), N = 1 2 4
#
# The file runs as it is: its DRS decides on every rank from every host's
# figures, and its moves go between ranks as MPI messages. Runs as root
# need mpirun's --allow-run-as-root, and more ranks than cores
# --oversubscribe: both are given. MEMVISOR names the
# binary (default build/memvisor, else memvisor). Exit status 1 when a
# run under mpirun wrote other outputs than one process.
set -eu
MEMVISOR=${MEMVISOR:-}
if [ -z "$MEMVISOR" ]; then
	if [ -x build/memvisor ]; then MEMVISOR=build/memvisor; else MEMVISOR=memvisor; fi
fi
src=examples/cluster16.xml dur=5m
while [ $# -gt 0 ]; do
	case $1 in
	-f) [ $# -ge 2 ] || { echo "cluster-ranks.sh: -f needs a file" >&2; exit 2; }; src=$2; shift 2 ;;
	-d) [ $# -ge 2 ] || { echo "cluster-ranks.sh: -d needs a duration" >&2; exit 2; }; dur=$2; shift 2 ;;
	*) break ;;
	esac
done
[ -f "$src" ] || { echo "cluster-ranks.sh: $src: no such file" >&2; exit 2; }
command -v mpirun >/dev/null 2>&1 || { echo "cluster-ranks.sh: mpirun not on PATH (apt-get install openmpi-bin)" >&2; exit 2; }
[ $# -gt 0 ] || set -- 1 2 4
tmp=$(mktemp -d)
cleanup() {
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
f=$src
# run N (0: one process): wall seconds to $tmp/N.s, outputs under $tmp/N
run() {
	mkdir -p "$tmp/$1"
	set -- "$1" "$MEMVISOR" run -q --duration "$dur" --json -o "$tmp/$1/run.json" --csv "$tmp/$1/csv" "$f"
	n=$1
	shift
	[ "$n" -eq 0 ] || set -- mpirun --allow-run-as-root --oversubscribe -np "$n" "$@"
	t0=$(date +%s.%N)
	"$@" > "$tmp/$n/out" 2>&1 || { cat "$tmp/$n/out" >&2; exit 1; }
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }' > "$tmp/$n.s"
	grep -v '"wall_s"' "$tmp/$n/run.json" > "$tmp/$n/run.cmp"
}
run 0

# the model: N machines, a core per rank
model() {
	python3 - "$tmp/0/run.json" "$(cat "$tmp/0.s")" "$1" <<'PY'
import json, sys
doc, wall, n = json.load(open(sys.argv[1])), float(sys.argv[2]), int(sys.argv[3])
step = [h["wall_s"] for h in doc["hosts"]]
H = len(step)
ranks = [0.0] * n
for h, w in enumerate(step):
    ranks[h * n // H] += w
print(f"{wall - sum(step) + max(ranks):.1f}")
PY
}
# live migrations done in run N, from its JSON
moves() {
	python3 -c 'import json, sys; print(sum(m["state"] == "done" for m in json.load(open(sys.argv[1]))["cluster"]["migrations"]))' "$tmp/$1/run.json"
}
echo "| ranks | wall s here | migrations done | outputs | model: N machines, s |"
echo "|---|---|---|---|---|"
echo "| one process | $(cat "$tmp/0.s") | $(moves 0) | - | - |"
status=0
for n in "$@"; do
	run "$n"
	if cmp -s "$tmp/0/run.cmp" "$tmp/$n/run.cmp" && diff -r "$tmp/0/csv" "$tmp/$n/csv" >/dev/null; then
		same="the same as one process's"
	else
		same="DIFFERENT"
		status=1
	fi
	echo "| $n | $(cat "$tmp/$n.s") | $(moves "$n") | $same | $(model "$n") |"
done
exit $status
