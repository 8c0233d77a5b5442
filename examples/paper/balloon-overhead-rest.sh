#!/bin/sh
# balloon-overhead-rest.sh - what the ballooned VM of Waldspurger's figure 2
# (OSDI 2002, section 3.2) lost beyond its boot structures, measured in
# memvisor: how much less memory memvisor's ballooned VM must have to be as
# slow as the paper's.
#
# usage: examples/paper/balloon-overhead-rest.sh OUTDIR
#   env: MEMVISOR (default build/memvisor)
#
# Runs examples/paper/balloon-overhead.sh OUTDIR (the paper's figures and
# Linux 2.4's boot structures, OUTDIR/balloon-overhead.txt), then a variant
# of its scenario, OUTDIR/balloon-rest.xml: the configured VMs cNNN as
# they are and, for each ballooned VM bNNN, copies bNNN-K whose
# <currentMemory> is K MiB lower (K = 0, 2, ..., 16: the balloon holds K
# MiB more from boot), on a host large enough to hold them all (no
# host-level reclaim, as in the scenario). Prints one line per size: the
# paper's slowdown, memvisor's at K = 0 (the scenario's: the boot
# structures alone), the K at which memvisor's slowdown reaches the
# paper's (linear between the two K around it; "> 16" if none), the MiB
# the paper's slowdown is worth at the paper's own slope, and Linux 2.4's
# boot structures (MiB more than at this size, and the slowdown they give
# at the paper's slope), these from balloon-overhead.txt. memvisor's
# slowdown is given twice: in the scenario and at K = 0 here (the same
# VMs, other random draws: they differ by the run's noise).
set -eu

here=$(dirname "$0")
out=${1:?usage: $0 OUTDIR}
memvisor=${MEMVISOR:-build/memvisor}

mkdir -p "$out"
"$here/balloon-overhead.sh" "$out" >/dev/null

python3 - "$here/balloon-overhead.xml" "$out/balloon-rest.xml" <<'PY'
import re, sys

KS = range(0, 17, 2)
xml = open(sys.argv[1]).read()
vms = re.findall(r"  <vm>\n.*?\n  </vm>\n", xml, re.S)
head = xml[:xml.index(vms[0])]
tail = xml[xml.index(vms[-1]) + len(vms[-1]):]
HOST = 16384  # MiB: more than all the VMs' memory (checked below)
head, n = re.subn(r'(<host name="[^"]*">\s*<memory unit="MiB">)\d+',
                  r"\g<1>%d" % HOST, head)
if n != 1:
    sys.exit("balloon-overhead-rest.sh: %s: no <host><memory unit=\"MiB\">"
             % sys.argv[1])
body = []
for vm in vms:
    name = re.search(r"<name>(\w+)</name>", vm).group(1)
    if name.startswith("c"):
        body.append(vm)
        continue
    cur = int(re.search(r'<currentMemory unit="MiB">(\d+)<', vm).group(1))
    for k in KS:
        v = vm.replace("<name>%s</name>" % name, "<name>%s-%d</name>" % (name, k))
        v = v.replace('<currentMemory unit="MiB">%d<' % cur,
                      '<currentMemory unit="MiB">%d<' % (cur - k))
        body.append(v)


def held(vm):  # MiB the VM holds from boot: <currentMemory>, or <memory>
    m = (re.search(r'<currentMemory unit="MiB">(\d+)<', vm) or
         re.search(r'<memory unit="MiB">(\d+)<', vm))
    return int(m.group(1))


mem = sum(held(vm) for vm in body)
if mem > HOST:
    sys.exit("balloon-overhead-rest.sh: the VMs' %d MiB exceed the host's %d"
             % (mem, HOST))
open(sys.argv[2], "w").write(head + "".join(body) + tail)
PY

"$memvisor" run -q --json -o "$out/balloon-rest.json" "$out/balloon-rest.xml" \
	>/dev/null

python3 - "$out/balloon-rest.json" "$out/balloon-overhead.txt" <<'PY'
import json, sys

WARM = 120  # as balloon-overhead.sh: accesses done from 120 s to the end
run = json.load(open(sys.argv[1]))
series = run["series"]
first = [s for s in series if s["t_s"] >= WARM][0]
last = series[-1]
done = {vm["name"]: last["vms"][i]["accesses_done"] -
        first["vms"][i]["accesses_done"] for i, vm in enumerate(run["vms"])}

# balloon-overhead.txt: the paper's slowdown and the MiB it is worth at the
# paper's slope; Linux 2.4's boot structures, MiB more than at each size.
# memvisor's slowdown in the scenario itself; the structures' share of the
# paper's slowdown at the paper's slope.
paper, paper_mib, l24, l24_pct, scen = {}, {}, {}, {}, {}
section = None
for line in open(sys.argv[2]):
    if line.startswith("throughput: "):
        section = "scenario"
    elif line.startswith("Linux 2.4 i386"):
        section = "l24"
    elif line.startswith("size MB | throughput gained"):
        section = "slope"
    elif section and line[:3].isdigit() and "|" in line:
        f = [x.strip() for x in line.split("|")]
        mb = int(f[0])
        if section == "scenario":
            if f[2] != "-":
                scen[mb] = float(f[3])
        elif section == "l24":
            l24[mb] = float(f[3])
        else:
            l24_pct[mb] = float(f[2].split()[0])
            paper[mb] = float(f[3])
            paper_mib[mb] = float(f[4])

print("size MB | slowdown %: paper, memvisor, memvisor K = 0 | MiB less "
      "the ballooned VM needs for the paper's slowdown: in memvisor, at the "
      "paper's slope | Linux 2.4's boot structures: MiB, % at the paper's "
      "slope")
for mb in (128, 160, 192, 224):
    c = done["c%d" % mb]
    curve = [(k, 100.0 * (c - done["b%d-%d" % (mb, k)]) / c)
             for k in range(0, 17, 2)]
    need = "> 16"
    for (k0, s0), (k1, s1) in zip(curve, curve[1:]):
        if s0 < paper[mb] <= s1:
            need = "%.1f" % (k0 + (k1 - k0) * (paper[mb] - s0) / (s1 - s0))
            break
    print("%d | %.2f, %.2f, %.2f | %s, %.1f | %.2f, %.2f" % (
        mb, paper[mb], scen[mb], curve[0][1] + 0.0, need, paper_mib[mb],
        l24[mb], l24_pct[mb]))
PY
