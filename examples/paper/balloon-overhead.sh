#!/bin/sh
# paper-experiment
# balloon-overhead.sh - Waldspurger's ballooning overhead experiment (OSDI
# 2002, section 3.2, figure 2) in memvisor: a 256 MB Linux VM ballooned
# down to 128, 160, 192 and 224 MB against VMs configured with that much
# memory, running a dbench-like workload (examples/paper/balloon-overhead.xml).
#
# usage: examples/paper/balloon-overhead.sh OUTDIR
#   env: MEMVISOR (default build/memvisor)
#
# Writes OUTDIR/balloon-overhead.json (memvisor run --json) and
# OUTDIR/balloon-overhead.txt (every size: accesses done, slowdown, the
# guests' kernel memory). Prints on stdout the paper-table rows (docs/paper.md):
# the slowdown of the ballooned VM, (configured - ballooned) / configured
# throughput in %, at the sizes where the paper states it.
set -eu

here=$(dirname "$0")
out=${1:?usage: $0 OUTDIR}
memvisor=${MEMVISOR:-build/memvisor}

mkdir -p "$out"
"$memvisor" run -q --json -o "$out/balloon-overhead.json" \
	"$here/balloon-overhead.xml" >"$out/balloon-overhead.txt"

python3 - "$out/balloon-overhead.json" "$out/balloon-overhead.txt" <<'PY'
import json, sys

with open(sys.argv[1]) as f:
    run = json.load(f)
done, kernel = {}, {}
for vm in run["vms"]:
    done[vm["name"]] = vm["final"]["accesses_done"]
    kernel[vm["name"]] = vm["final"]["guest"]["kernel_bytes"] / 2**20


def slowdown(mb):
    c, b = done["c%d" % mb], done["b%d" % mb]
    return round(100.0 * (c - b) / c, 2) + 0.0  # no "-0.00"


with open(sys.argv[2], "a") as t:
    t.write("\nsize MB | configured: accesses, kernel MiB | ballooned: "
            "accesses, kernel MiB | slowdown %\n")
    for mb in (128, 160, 192, 224):
        t.write("%d | %d, %.2f | %d, %.2f | %.2f\n" % (
            mb, done["c%d" % mb], kernel["c%d" % mb], done["b%d" % mb],
            kernel["b%d" % mb], slowdown(mb)))

# What Linux 2.4 (the paper's guests) sized to its boot memory, from its
# source (docs/ballooning.md, "Ballooning overhead"): mem_map, one struct
# page a page (52 to 60 bytes on i386 by configuration: 60, the largest,
# is taken); page_cache_init, one 4-byte pointer a page; buffer_init,
# (pages >> 14) * 4 taken as a page count; dcache_init, one 8-byte
# list_head per 2 pages; inode_init, one per 4 pages; each hash rounded up
# to a power of two pages. mempages is num_physpages, the boot memory.
def l24(mb):
    n = mb * 256
    def pow2(x):
        q = 1
        while q < x:
            q <<= 1
        return q
    def hash_pages(nbytes):
        return pow2(-(-nbytes // 4096))
    return [-(-n * 60 // 4096), hash_pages(n * 4), pow2((n >> 14) * 4),
            hash_pages((n >> 1) * 8), hash_pages((n >> 2) * 8)]


def slope(lo, hi):  # configured VMs: % more accesses per MiB more memory
    return 100.0 * (done["c%d" % hi] / done["c%d" % lo] - 1) / (hi - lo)


with open(sys.argv[2], "a") as t:
    t.write("\nLinux 2.4 i386 boot structures, pages: boot MB | mem_map, "
            "page hash, buffer hash, dentry hash, inode hash | MiB | MiB "
            "more than at this size\n")
    for mb in (128, 160, 192, 224, 256):
        p = l24(mb)
        t.write("%d | %s | %.2f | %.2f\n" % (
            mb, ", ".join(str(x) for x in p), sum(p) / 256.0,
            (sum(l24(256)) - sum(p)) / 256.0))
    t.write("\nconfigured VMs, throughput gained per MiB of memory: "
            "128->160 %.3f%%, 192->224 %.3f%%\n" % (slope(128, 160),
                                                  slope(192, 224)))
    for mb, paper in ((128, 4.4), (224, 1.4)):
        extra = (sum(l24(256)) - sum(l24(mb))) / 256.0
        t.write("paper's %.1f%% at %d MB over Linux 2.4's %.2f MiB more "
                "boot structures: %.2f%% per MiB\n" % (
                    paper, mb, extra, paper / extra))

# The paper (section 3.2, figure 2) puts the overhead at 1.4% to 4.4%. It
# comes from structures sized to the boot memory, so it is largest for the
# VM ballooned furthest from its boot size: 4.4% is taken at 128 MB, 1.4%
# at 224 MB. Only the 224 MB row is checked: at 128 MB the paper's 4.4%
# needs 2% more throughput per MiB of memory (Linux 2.4's 2.2 MiB more
# structures), several times what memvisor's configured VMs gain (the
# workload is not dbench: docs/ballooning.md), so the slowdown there
# is in OUTDIR/balloon-overhead.txt and docs/ballooning.md, not in the
# table (docs/paper.md, "Ballooning overhead").
rows = [(224, 1.4)]
for mb, paper in rows:
    print("\t".join([
        "Ballooning overhead",
        "256 MB VM ballooned to %d MB: slowdown vs configured %d MB"
        % (mb, mb),
        "%.1f" % paper, "Fig. 2, sec. 3.2", "%.2f" % slowdown(mb), "%",
        "\u00b11.5"]))
PY
