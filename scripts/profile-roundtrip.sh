#!/bin/bash
# profile-roundtrip.sh - the content-profile round trip on real memory
# (issue 14, docs/analyze.md "Round trip").
#
# usage: scripts/profile-roundtrip.sh [--pid]   (from the repository root)
#   env: MEMVISOR (default build/memvisor), MV_MEASURE (default
#        build/tests/image/test_profile_real); each built if missing.
#        MV_KEEP=1 keeps the temporary directory (cores, profiles,
#        scenario) and says where.
#
# 1. Starts three python3 processes of the same program: each imports the
#    same stdlib modules and builds the same table, JSON text and XML DOM,
#    then a dict of random words of its own (seeded by its number, 30000 +
#    10000 x N entries). ASLR is off and the hash seed fixed, as in the KSM
#    check (tests/image/test_process.c), so the common part lays out alike.
# 2. Takes an ELF core of each with gcore (gdb); with --pid, none: the
#    live processes are analysed instead (memvisor analyze --pid).
# 3. memvisor analyze --json --compress-every 1 -P p1.json -P p2.json
#    -P p3.json core1 core2 core3: the images' figures and their profiles.
# 4. Writes a scenario of three VMs, each one workload built from its
#    profile (<content profile="pN.json"/>), no host pressure, page
#    sharing scanning every page at least twice, and runs it with
#    `test_profile_real --measure`: the simulated zero pages, pages saved
#    by sharing, and the LZ4 size of every workload page.
# 5. Prints a Markdown table: quantity, analyze (cores), simulated, error.
#
# Kills only the processes it started and removes its temporary directory
# on every way out. Needs root (gcore attaches with ptrace), gdb, python3.
# Exit status: 0, 1 if an error exceeds 5%, 2 if a step failed (said on
# standard error).
set -euo pipefail

memvisor=${MEMVISOR:-build/memvisor}
measure=${MV_MEASURE:-build/tests/image/test_profile_real}
live=0
case "${1:-}" in
--pid) live=1 ;;
"") ;;
*) echo "usage: scripts/profile-roundtrip.sh [--pid]" >&2; exit 2 ;;
esac
for t in "$memvisor" "$measure"; do
	if [ ! -x "$t" ]; then
		if ! make -s "$t" >&2; then
			echo "profile-roundtrip: cannot build $t" >&2
			exit 2
		fi
	fi
done
for p in python3 gcore setarch; do
	if ! command -v $p >/dev/null; then
		echo "profile-roundtrip: no $p on PATH" >&2
		exit 2
	fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/profile-roundtrip.XXXXXX")
pids=()
kill_processes() {
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
}
cleanup() {
	kill_processes
	if [ -n "${MV_KEEP:-}" ]; then
		echo "profile-roundtrip: files kept in $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

fail() {
	echo "profile-roundtrip: $*" >&2
	exit 2
}

# The program: the same modules and data in every process, then its own
# random dict; it says "ready" in a file and waits for gcore, exiting when
# this script is gone (its parent changes) or after 10 minutes.
cat >"$dir/prog.py" <<'EOF'
import os, sys, time, random
import json, email, email.parser, http.client, xml.dom.minidom
import decimal, argparse, csv, collections, fractions, statistics
import difflib, textwrap, urllib.parse, logging, unittest
n, ready = int(sys.argv[1]), sys.argv[2]
parent = os.getppid()
table = {'key%d' % i: [i, str(i), i / 7] for i in range(30000)}
doc = xml.dom.minidom.parseString('<a>' + '<b c="1"/>' * 2000 + '</a>')
blob = json.dumps(table)
words = textwrap.dedent(json.__doc__).split()
rng = random.Random(n)
mine = {rng.getrandbits(64): ' '.join(rng.choice(words) for _ in range(8))
        for _ in range(30000 + 10000 * n)}
with open(ready, 'w') as f:
    f.write('ready\n')
end = time.monotonic() + 600
while os.getppid() == parent and time.monotonic() < end:
    time.sleep(0.2)
EOF

for i in 1 2 3; do
	PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 \
		setarch "$(uname -m)" -R python3 -S "$dir/prog.py" $i \
		"$dir/ready$i" </dev/null >"$dir/py$i.log" 2>&1 &
	pids+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 400); do
		[ -s "$dir/ready$i" ] && break
		kill -0 "${pids[i - 1]}" 2>/dev/null ||
			fail "python3 process $i exited: $(cat "$dir/py$i.log")"
		sleep 0.1
	done
	[ -s "$dir/ready$i" ] || fail "python3 process $i not ready in 40 s"
done

inputs=()
for i in 1 2 3; do
	pid=${pids[i - 1]}
	if [ $live = 1 ]; then
		inputs+=(--pid "$pid")
		continue
	fi
	(ulimit -f 1048576; gcore -o "$dir/core$i" "$pid") >"$dir/gcore$i.log" 2>&1 ||
		fail "gcore $pid failed: $(tail -3 "$dir/gcore$i.log")"
	inputs+=("$dir/core$i.$pid")
done

"$memvisor" analyze --json --compress-every 1 -P "$dir/p1.json" \
	-P "$dir/p2.json" -P "$dir/p3.json" "${inputs[@]}" >"$dir/analysis.json" ||
	fail "memvisor analyze failed"
# the images are taken: the processes are no longer needed
kill_processes

# The scenario: each VM just large enough for its workload (the profile's
# pages), a host with room for all (nothing reclaimed, every page stays
# resident), and a scanner fast enough for several full scans.
if ! python3 - "$dir" >"$dir/roundtrip.xml" <<'EOF'
import json, math, sys
d = sys.argv[1]
pages = [json.load(open('%s/p%d.json' % (d, i)))['pages'] for i in (1, 2, 3)]
mib = [math.ceil(p * 4096 / 2**20) + 8 for p in pages]
scan, sleep_ms = 4000, 10
duration = max(2, math.ceil(4 * sum(pages) / (scan * 1000 / sleep_ms)))
print("<scenario name='profile-roundtrip' seed='3' duration='%ds' "
      "step='20ms'>" % duration)
print("  <host><memory unit='MiB'>%d</memory>" % (sum(mib) + 64))
print("    <sharing pages-to-scan='%d' sleep='%dms'/></host>"
      % (scan, sleep_ms))
for i in (1, 2, 3):
    print("  <vm><domain type='kvm'><name>vm%d</name>"
          "<memory unit='MiB'>%d</memory><metadata>"
          "<mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
          "<mv:guest image-size='0'/></mv:memvisor></metadata></domain>"
          "<workload kind='idle' write-ratio='0'>"
          "<content profile='p%d.json'/></workload></vm>" % (i, mib[i - 1], i))
print("</scenario>")
EOF
then
	fail "cannot write the scenario"
fi

"$measure" --measure "$dir/roundtrip.xml" >"$dir/sim.txt" ||
	fail "the simulation of $dir/roundtrip.xml failed"

# The table; exit 1 when a figure is off by more than 5% (half a page of
# slack, as the synthetic round trip allows, for tiny figures).
what=cores
[ $live = 1 ] && what=processes
python3 - "$dir/analysis.json" "$dir/sim.txt" $what <<'EOF'
import json, sys
what = sys.argv[3]
t = json.load(open(sys.argv[1]))['total']
sim = dict(line.split() for line in open(sys.argv[2]))
sim = {k: int(v) for k, v in sim.items()}
if sim['pages'] != t['pages']:
    sys.exit('profile-roundtrip: simulated %d pages, the cores %d'
             % (sim['pages'], t['pages']))
if sim['full_scans'] < 2:
    sys.exit('profile-roundtrip: only %d full sharing scans'
             % sim['full_scans'])
rows = [('zero pages', t['zero'], sim['zero']),
        ('pages saved by sharing (ESX saved)', t['esx_saved'], sim['saved']),
        ('LZ4 <= 1 KiB (pages)', t['lz4_hist'][0], sim['lz4_1k']),
        ('LZ4 <= 2 KiB (pages)', t['lz4_hist'][1], sim['lz4_2k']),
        ('LZ4 > 2 KiB (pages)', t['lz4_hist'][2], sim['lz4_more']),
        ('LZ4 bytes', t['lz4_bytes'], sim['lz4_bytes'])]
print('| quantity (%d pages in 3 %s) | analyze (%s) | simulated | error |'
      % (t['pages'], what, what))
print('|---|---:|---:|---:|')
bad = 0
for name, want, got in rows:
    err = 100.0 * (got - want) / want if want else 0.0
    print('| %s | %d | %d | %+.2f%% |' % (name, want, got, err))
    bad += abs(got - want) > 0.05 * want + 0.5
sys.exit(1 if bad else 0)
EOF
