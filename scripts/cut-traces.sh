#!/bin/sh
# cut-traces.sh - make examples/traces/bitbrains/ from a copy of the GWA-T-12
# Bitbrains "rnd" traces (examples/traces/bitbrains/SOURCE.md says which).
#
#   scripts/cut-traces.sh GITDIR [OUTDIR]
#
# GITDIR: a git directory holding rnd/2013-7/N.csv at HEAD (for example a
# clone of github.com/JessieRayeBauer/Time-Series-Forecasting-); OUTDIR:
# default examples/traces/bitbrains. The cut, deterministic:
#   * month 2013-7, VMs 1..500, the first ROWS (576 = 2 days of 300 s) data
#     rows of each, bytes unchanged, header kept;
#   * a VM qualifies when in those rows every timestamp is after the
#     previous one by at most 600 s, the memory provisioned is 256 MiB ..
#     16 GiB and the memory used is above 0 and at most the provisioned;
#   * of those, the NVMS (24) whose used/provisioned ratio spans the widest
#     range (max - min) in the window, ties to the lower VM number: VMs
#     whose memory moves, which is what a usage workload is for.
set -eu
GITDIR=${1:?usage: cut-traces.sh GITDIR [OUTDIR]}
OUT=${2:-examples/traces/bitbrains}
ROWS=576
NVMS=24
MONTH=2013-7
commit=$(git --git-dir="$GITDIR" rev-parse HEAD)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=1
while [ $i -le 500 ]; do
	git --git-dir="$GITDIR" show "HEAD:rnd/$MONTH/$i.csv" >"$tmp/$i.csv"
	head -n $((ROWS + 1)) "$tmp/$i.csv" | awk -F';' -v vm=$i -v rows=$ROWS '
		NR == 1 { next }
		{
			t = $1 + 0; p = $6 + 0; u = $7 + 0
			if (NR > 2 && (t <= pt || t - pt > 600)) bad = 1
			if (p < 262144 || p > 16777216 || u <= 0 || u > p) bad = 1
			f = u / p
			if (NR == 2 || f < lo) lo = f
			if (NR == 2 || f > hi) hi = f
			pt = t; n++
		}
		END { if (!bad && n == rows) printf "%.9f %d\n", hi - lo, vm }'
	i=$((i + 1))
done | sort -k1,1gr -k2,2n | head -n $NVMS | awk '{print $2}' | sort -n \
	>"$tmp/picked"
mkdir -p "$OUT/$MONTH"
for vm in $(cat "$tmp/picked"); do
	head -n $((ROWS + 1)) "$tmp/$vm.csv" >"$OUT/$MONTH/$vm.csv"
done
echo "cut from $GITDIR at $commit: $(wc -l <"$tmp/picked") VMs of rnd/$MONTH," \
	"$ROWS rows each, into $OUT/$MONTH:" $(cat "$tmp/picked")
