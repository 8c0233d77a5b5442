#!/bin/bash
# TLB-heavy lackey traces for the MMU model (docs/mmu.md, "## Traces").
#
#   scripts/mmu-traces.sh DIR [traces|replay]
#
# Makes two traces of real programs doing random lookups into working sets
# far larger than the 6 MiB reach of the model's L2 TLB, cut from their
# steady lookup phase, converts them to memvisor's binary format, and prints
# the replay table (all modes; 4k/4k, 2m/2m, 2m/4k, 4k/2m; cold and --warm).
# "traces" only makes the traces, "replay" only replays traces already in DIR;
# TRACES="python-rand" (say) makes or replays only those.
#
#   python-rand: /usr/bin/python3.11 -S (the real binary, not a pyenv
#     shim) maps a 256 MiB table and reads bytes at scattered offsets;
#     builtins' C loops (map, sum) drive the reads, so the interpreter's
#     bytecode loop does not dilute them (a Python-level loop runs ~6,700
#     lackey records per iteration).
#   mawk-rand: mawk reads 400,000 lines as one record, split() makes its
#     split array of 400,000 strings (29 MB resident), then
#     reads length(a[int(rand()*n)+1]) at random.
#
# Each program writes "MARK" to stderr when its lookup phase starts; lackey
# writes its trace to the same stderr, so awk keeps the COUNT well-formed
# records that follow SKIP records after the marker.  Lackey writes one
# record per write(2), ~0.2-0.6 M records/s here: python3 -S start-up is
# ~30 M records, mawk start-up and split of 400,000 lines ~195 M.
set -euo pipefail

dir=${1:?usage: scripts/mmu-traces.sh DIR [traces|replay]}
what=${2:-all}
here=$(cd "$(dirname "$0")/.." && pwd)
memvisor=${MEMVISOR:-$here/build/memvisor}
python=${PYTHON:-/usr/bin/python3.11}
traces=${TRACES:-python-rand mawk-rand}
skip=1000000
count=5000000
# the build's packages plus the tracer and the traced programs
MV_EXTRA_PKGS="valgrind mawk python3.11 coreutils" "$here/scripts/deps.sh"
[ -x "$memvisor" ] || make -C "$here" build/memvisor >/dev/null
mkdir -p "$dir"
cd "$dir"

cat > window.awk <<'EOF'
# keep COUNT well-formed lackey records starting SKIP records after "MARK"
/MARK/ { if (!m) m = NR; next }
m && NR > m + skip && c < count && /^(I | [LSM]) +[0-9a-f]+,[0-9]+$/ { print; c++ }
END { if (c < count) { printf "window: only %d records after MARK\n", c > "/dev/stderr"; exit 1 } }
EOF

trace() { # NAME COMMAND...: lackey trace of COMMAND, window kept in NAME.lackey
    local name=$1; shift
    echo "== $name: $*" >&2
    valgrind --tool=lackey --trace-mem=yes "$@" 2>&1 >/dev/null \
        | awk -v skip=$skip -v count=$count -f window.awk > "$name.lackey"
    "$memvisor" mmu --convert "$name.lackey" "$name.mvtr"
}

python_rand() {
    [ -x "$python" ] && ! head -c 2 "$python" | grep -q '#!' \
        || { echo "$python: not a real python binary" >&2; exit 1; }
    cat > python-rand.py <<'EOF'
import mmap, os
from itertools import repeat
size = 1 << 28
table = mmap.mmap(-1, size)     # a 256 MiB table, anonymous memory
os.write(2, b"\nMARK\n")
# 200,000 reads at offsets i*P mod size (P odd: scattered), all in C loops
offsets = map(int.__mod__, range(0, 200_000 * 2654435761, 2654435761),
              repeat(size))
print(sum(map(table.__getitem__, offsets)))
EOF
    trace python-rand "$python" -S python-rand.py
}

mawk_rand() {
    cat > mawk-rand.awk <<'EOF'
{
    n = split($0, a)
    system("echo MARK >&2")
    srand(1)
    for (j = 0; j < m; j++) s += length(a[int(rand() * n) + 1])
    print n, s
}
EOF
    seq 1 400000 | shuf --random-source=<(yes) > lines.txt
    trace mawk-rand mawk -v 'RS=\001' -v m=30000 -f mawk-rand.awk lines.txt
}

if [ "$what" != replay ]; then
    for t in $traces; do "${t/-/_}"; done
fi

[ "$what" = traces ] && exit 0
for t in $traces; do
    for pages in "4k 4k" "2m 2m" "2m 4k" "4k 2m"; do
        set -- $pages
        for warm in "" --warm; do
            echo "### $t $1/$2 ${warm:-cold}"
            "$memvisor" mmu --trace "$t.mvtr" --mode all --page-size "$1" \
                --host-page-size "$2" $warm
        done
    done
done
