#!/bin/sh
# idle-tax.sh - Waldspurger's idle memory tax experiment (OSDI 2002, 5.4,
# figure 7) in memvisor: the same two VMs with the tax at 0% and at 75%.
#
# usage: examples/paper/idle-tax.sh [OUTDIR]     (default idle-tax-out)
#   env: MEMVISOR (default build/memvisor)
#
# Runs examples/paper/idle-tax-0.xml and idle-tax.xml with --csv and --svg
# into OUTDIR/tax-0 and OUTDIR/tax-75 (charts: vm-idle.svg, vm-busy.svg,
# host.svg) and prints, every 60 simulated seconds, each VM's consumed
# memory and the idle VM's sampled active estimate (ACTV) in MiB: the
# figure's curves as a table (docs/policy.md).
set -eu

here=$(dirname "$0")
out=${1:-idle-tax-out}
memvisor=${MEMVISOR:-build/memvisor}

mkdir -p "$out"
for t in 0 75; do
	f=$here/idle-tax.xml
	[ "$t" = 0 ] && f=$here/idle-tax-0.xml
	"$memvisor" run -q --csv "$out/tax-$t" --svg "$out/tax-$t" \
		-o "$out/tax-$t.txt" "$f"
done

# column of a CSV header by name
col() { head -1 "$1" | tr ',' '\n' | grep -n -x "$2" | cut -d: -f1; }

c=$(col "$out/tax-0/vm-idle.csv" consumed)
a=$(col "$out/tax-0/vm-idle.csv" ACTV)
echo "| t (s) | tax 0%: idle | busy | tax 75%: idle | busy | idle ACTV (75%) |"
echo "|---|---|---|---|---|---|"
paste -d, "$out/tax-0/vm-idle.csv" "$out/tax-0/vm-busy.csv" \
	"$out/tax-75/vm-idle.csv" "$out/tax-75/vm-busy.csv" |
	awk -F, -v c="$c" -v a="$a" 'NR > 1 {
		n = split($0, f, ",") / 4
		if (f[1] % 60 != 0) next
		printf "| %d | %s | %s | %s | %s | %s |\n", f[1], f[c],
			f[n + c], f[2 * n + c], f[3 * n + c], f[2 * n + a]
	}'
