#!/bin/sh
# paper.sh - memvisor against Waldspurger, "Memory Resource Management in
# VMware ESX Server", OSDI 2002: every paper experiment, one table.
#
# usage: scripts/paper.sh [--check] [DIR|SCRIPT ...]   (default examples/paper)
#   env: MEMVISOR (default build/memvisor), JOBS (parallel scripts, default 2)
#
# Runs every DIR/*.sh that contains the line `# paper-experiment` (a SCRIPT
# named on the command line runs whether or not it has the line), JOBS at a
# time, each as `SCRIPT OUTDIR` with its own OUTDIR in a temporary
# directory removed at the end. A script prints on standard output only
# rows of 7 TAB-separated fields (docs/paper.md, "Protocol"):
#
#   experiment  quantity  paper value  source  memvisor value  unit  tolerance
#
# tolerance is "15%" (|m - p| <= 0.15 p), "2x" (p / 2 <= m <= 2 p; any
# factor above 1) or "±3" (|m - p| <= 3 in the row's unit); "gap:" before
# one of them marks a known gap that docs/paper.md explains: printed with
# its error and "gap" when outside, but not failing --check. For each row
# this prints the error (relative in %, the factor m / p, or the difference
# m - p, by the kind of tolerance) and ok or OUT, as a Markdown table:
#
#   | experiment | quantity | paper | source | memvisor | error | tolerance | ok |
#
# Exit status: 0; with --check 1 when any row is OUT (each named on
# standard error; the table is still printed); 2, with one line on
# standard error and nothing on standard output, when a script fails
# (exits non-zero), prints no row or prints a malformed row, or for bad
# usage.
set -eu

check=0
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi
case "${1:-}" in -*)
	echo "paper.sh: unknown option '$1' (usage: scripts/paper.sh [--check] [DIR|SCRIPT ...])" >&2
	exit 2 ;;
esac
[ $# -gt 0 ] || set -- examples/paper

memvisor=${MEMVISOR:-build/memvisor}
case "$memvisor" in
*/*) memvisor=$(cd "$(dirname "$memvisor")" 2>/dev/null && pwd)/$(basename "$memvisor") ;;
esac
command -v "$memvisor" >/dev/null 2>&1 ||
	{ echo "paper.sh: $memvisor: not built (run make)" >&2; exit 2; }
export MEMVISOR="$memvisor"
jobs=${JOBS:-2}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mvpaper.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The scripts, in name order: one per line in $tmp/list.
: > "$tmp/list"
for a in "$@"; do
	if [ -d "$a" ]; then
		for f in "$a"/*.sh; do
			[ -f "$f" ] && grep -q -x '# paper-experiment' "$f" &&
				echo "$f" >> "$tmp/list"
		done
	elif [ -f "$a" ]; then
		echo "$a" >> "$tmp/list"
	else
		echo "paper.sh: $a: no such script or directory" >&2
		exit 2
	fi
done
[ -s "$tmp/list" ] || { echo "paper.sh: no paper experiment in $*" >&2; exit 2; }

# Run them: script N writes $tmp/N.out, N.err, N.rc, with OUTDIR $tmp/N.d.
n=0
while IFS= read -r f; do
	n=$((n + 1))
	printf '%s\t%s\n' "$n" "$f"
done < "$tmp/list" > "$tmp/jobs"
cut -f1 "$tmp/jobs" | xargs -P "$jobs" -I{} sh -c '
	t=$1; i=$2
	f=$(awk -F "\t" -v i="$i" "\$1 == i {print \$2}" "$t/jobs")
	case "$f" in /*) ;; *) f=./$f ;; esac
	mkdir "$t/$i.d"
	rc=0
	"$f" "$t/$i.d" > "$t/$i.out" 2> "$t/$i.err" < /dev/null || rc=$?
	echo "$rc" > "$t/$i.rc"' sh "$tmp" {}

# Failures first: a script that failed is an error, not a row.
while IFS="$(printf '\t')" read -r i f; do
	rc=$(cat "$tmp/$i.rc" 2>/dev/null || echo "?")
	if [ "$rc" != 0 ]; then
		last=$(grep -v '^[[:space:]]*$' "$tmp/$i.err" | tail -1 || true)
		echo "paper.sh: $f: exited with status $rc${last:+: $last}" >&2
		exit 2
	fi
	[ -s "$tmp/$i.out" ] ||
		{ echo "paper.sh: $f: printed no row" >&2; exit 2; }
done < "$tmp/jobs"

# Check and evaluate every row; the table goes to $tmp/table, the rows out
# of tolerance to $tmp/out (one line each), a malformed row stops it.
while IFS="$(printf '\t')" read -r i f; do
	awk -F '\t' -v script="$f" -v outs="$tmp/out" '
	function bad(why) {
		printf "paper.sh: %s: row %d: %s\n", script, NR, why > "/dev/stderr"
		exit 2
	}
	function num(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
	function abs(x) { return x < 0 ? -x : x }
	{
		if (NF != 7)
			bad("expected 7 TAB-separated fields, got " NF ": " $0)
		for (k = 1; k <= 7; k++)
			if ($k ~ /^[ ]*$/)
				bad("field " k " is empty: " $0)
		ex = $1; q = $2; src = $4; unit = $6; tol = $7
		gap = sub(/^gap:/, "", tol)
		if (!num($3))
			bad("paper value \"" $3 "\" is not a number")
		if (!num($5))
			bad("memvisor value \"" $5 "\" is not a number")
		p = $3 + 0; m = $5 + 0
		if (tol ~ /^[0-9]+(\.[0-9]+)?%$/) {
			t = substr(tol, 1, length(tol) - 1) / 100
			if (p == 0)
				bad("a relative tolerance (" tol ") needs a paper value other than 0")
			e = 100 * (m - p) / abs(p)
			err = sprintf("%+.1f%%", e)
			ok = abs(m - p) <= t * abs(p) + 1e-9 * abs(p)
		} else if (tol ~ /^[0-9]+(\.[0-9]+)?x$/) {
			t = substr(tol, 1, length(tol) - 1) + 0
			if (t <= 1)
				bad("factor tolerance \"" tol "\" must be above 1")
			if (p <= 0)
				bad("a factor tolerance (" tol ") needs a paper value above 0")
			if (m <= 0) {
				err = "n/a"; ok = 0
			} else {
				err = sprintf("%.2fx", m / p)
				ok = m >= p / t * (1 - 1e-9) && m <= p * t * (1 + 1e-9)
			}
		} else if (tol ~ /^±[0-9]+(\.[0-9]+)?$/) {
			t = substr(tol, length("±") + 1) + 0
			err = sprintf("%+.4g", m - p)
			ok = abs(m - p) <= t + 1e-9
		} else {
			bad("tolerance \"" tol "\" is not N%, Nx or ±N")
		}
		v = ok ? "ok" : gap ? "gap" : "OUT"
		u = unit == "%" ? "%" : " " unit
		printf "| %s | %s | %s%s | %s | %s%s | %s | %s | %s |\n",
		       ex, q, $3, u, src, $5, u, err, tol, v
		if (!ok && gap)
			printf "paper.sh: known gap: %s: %s: %s: memvisor %s %s, paper %s %s, tolerance %s (docs/paper.md)\n",
			       script, ex, q, $5, unit, $3, unit, tol > "/dev/stderr"
		if (!ok && !gap)
			printf "%s: %s: %s: memvisor %s %s, paper %s %s (%s), error %s, tolerance %s\n",
			       script, ex, q, $5, unit, $3, unit, src, err, tol >> outs
	}' "$tmp/$i.out" >> "$tmp/table" || exit 2
done < "$tmp/jobs"

echo "| experiment | quantity | paper | source | memvisor | error | tolerance | ok |"
echo "|---|---|---|---|---|---|---|---|"
cat "$tmp/table"
if [ $check = 1 ] && [ -s "$tmp/out" ]; then
	sed 's/^/paper.sh: OUT: /' "$tmp/out" >&2
	exit 1
fi
exit 0
