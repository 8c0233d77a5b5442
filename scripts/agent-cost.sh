#!/bin/sh
# The cost of `memvisor agent` with N guests (default 200) on libvirt's
# in-process test driver: a <node> file of N 1 GiB domains (every tenth
# with a 768 MiB soft_limit reservation) on a budget that puts the host in
# the soft state, so balloons move. Prints the agent's summary for one
# interval (--once: the first sight of every guest included) and for
# INTERVALS intervals of 1 s (default 10), each with its CPU per interval
# and maximum RSS. KSM is a scratch directory: nothing on the host changes.
# usage: scripts/agent-cost.sh [N] [INTERVALS]   (memvisor on PATH, or
# MEMVISOR=path)
set -e
n=${1:-200}
k=${2:-10}
mv=${MEMVISOR:-memvisor}
dir=$(mktemp -d /tmp/mvcost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/ksm"
for f in run:0 pages_to_scan:100 sleep_millisecs:20 pages_shared:0 \
	pages_sharing:0 pages_unshared:0 pages_volatile:0 full_scans:0; do
	echo "${f#*:}" >"$dir/ksm/${f%%:*}"
done
{
	echo "<node><memory>268435456</memory>"
	i=0
	while [ $i -lt "$n" ]; do
		res=""
		[ $((i % 10)) -eq 0 ] && res="<memtune><soft_limit>786432</soft_limit></memtune>"
		printf "<domain type='test'><name>vm%03d</name><memory>1048576</memory>%s<os><type>hvm</type></os><devices><memballoon model='virtio'/></devices></domain>\n" $i "$res"
		i=$((i + 1))
	done
	echo "</node>"
} >"$dir/node.xml"
# the guests' RSS is half their memory on the test driver: n x 512 MiB,
# on a budget 1% above it
budget=$((n * 512 * 101 / 100))M
echo "== $n guests, --host-memory $budget, --once"
"$mv" agent -c "test://$dir/node.xml" --host-memory "$budget" \
	--ksm-dir "$dir/ksm" --once --json-log "$dir/log1.json"
echo "== $n guests, --host-memory $budget, $k intervals of 1 s"
"$mv" agent -c "test://$dir/node.xml" --host-memory "$budget" \
	--ksm-dir "$dir/ksm" --interval 1s --duration "${k}s" \
	--json-log "$dir/log.json"
echo "JSON log: $(wc -l <"$dir/log.json") lines, $(wc -c <"$dir/log.json") bytes"
