#!/bin/sh
# The shared-swap figure of docs/cluster.md (section 3), as a Markdown
# table: examples/cluster-swap.xml with its swap files on each host's own
# disk and on shared storage, the migration's figures read from
# `memvisor run --json`.
#
#   examples/cluster-swap.sh
#
# The host-local variant is the file with <storage swap="local"/>, written
# to a new file next to it (mktemp) and removed on exit or on a signal.
# MEMVISOR names the binary (default build/memvisor, else memvisor).
set -eu
MEMVISOR=${MEMVISOR:-}
if [ -z "$MEMVISOR" ]; then
	if [ -x build/memvisor ]; then MEMVISOR=build/memvisor; else MEMVISOR=memvisor; fi
fi
src=examples/cluster-swap.xml
tmp=$(mktemp -d)
variant=
cleanup() {
	rm -rf "$tmp"
	[ -z "$variant" ] || rm -f "$variant"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
variant=$(mktemp -p examples .cluster-swap-XXXXXX.xml)
sed 's|<storage swap="shared"/>|<storage swap="local"/>|' "$src" > "$variant"
grep -q 'swap="local"' "$variant" || { echo "cluster-swap.sh: no <storage swap=\"shared\"/> in $src" >&2; exit 2; }
"$MEMVISOR" run -q --json "$variant" > "$tmp/local.json"
"$MEMVISOR" run -q --json "$src" > "$tmp/shared.json"
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
print("| swap files | pages sent | of them read back | of them as a slot | MiB sent | migration s | downtime ms |")
print("|---|---|---|---|---|---|---|")
for v, label in (("local", "each host's own disk"), ("shared", "shared storage")):
    m = json.load(open(f"{tmp}/{v}.json"))["cluster"]["migrations"][0]
    assert m["state"] == "done", m
    rb = sum(r["readback"] for r in m["round"])
    refs = sum(r["swap_refs"] for r in m["round"])
    print(f'| {label} | {m["pages_sent"]} | {rb} | {refs} | '
          f'{m["bytes_sent"] / 2**20:.1f} | {m["time_ns"] / 1e9:.3f} | '
          f'{m["downtime_ns"] / 1e6:.1f} |')
PY
