#!/bin/sh
# The README's `memvisor analyze` example on real memory: two python3
# processes that import the same modules, dumped with gdb's gcore (ELF
# process cores, as `virsh dump --memory-only` writes ELF guest dumps),
# then analysed together. Address-space randomisation is off and the hash
# seed fixed (setarch -R, PYTHONHASHSEED=0) so the two lay out memory the
# same way, as two VMs booted from one image do.
# usage: scripts/analyze-example.sh [MEMVISOR]
set -e
cd "$(dirname "$0")/.."
mv=${1:-./build/memvisor}
[ -x "$mv" ] || make -s all >/dev/null
command -v gcore >/dev/null || ./scripts/deps.sh
dir=$(mktemp -d "${TMPDIR:-/tmp}/mvanalyze.XXXXXX")
pids=""
cleanup() {
	[ -n "$pids" ] && kill $pids 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
code='import json, email.parser, http.client, xml.dom.minidom, decimal, sqlite3
data = [str(i) * 8 for i in range(20000)]
open("'$dir'/ready.%d" % __import__("os").getpid(), "w").close()
import time; time.sleep(120)'
for n in 1 2; do
	PYTHONHASHSEED=0 setarch -R python3 -c "$code" &
	pids="$pids $!"
done
for p in $pids; do
	i=0
	while [ ! -e "$dir/ready.$p" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
done
n=1
for p in $pids; do
	(ulimit -f 1048576; gcore -o "$dir/core" "$p") >/dev/null 2>&1
	mv "$dir/core.$p" "$dir/python-$n.core"
	n=$((n + 1))
done
kill $pids 2>/dev/null; wait 2>/dev/null || true; pids=""
cd "$dir"
echo "\$ memvisor analyze --top 3 python-1.core python-2.core"
"$OLDPWD/$mv" analyze --top 3 python-1.core python-2.core
