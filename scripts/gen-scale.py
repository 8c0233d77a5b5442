#!/usr/bin/env python3
"""gen-scale.py - write the production-scale scenarios of issue 12.

    scripts/gen-scale.py [OUTDIR]      (default: examples/scale)

writes, deterministically (no clock, no Python `random`: the same bytes on
every machine and Python version):

    host16g.xml      16 GiB host,   8 VMs, 10 simulated minutes
    host128g.xml    128 GiB host,  32 VMs, 10 simulated minutes
    host256.xml     256 GiB host,  64 VMs,  1 simulated hour
    datacenter.xml    1 TiB host, 150 VMs, 24 simulated hours

Every host carries the same mix at 1.3:1 overcommit of configured memory:
Linux and Windows VMs booted from four OS images (debian12, rhel9, win2019,
win2022), databases (large Zipf sets, write-heavy), web servers (medium
sets, read-mostly, shared application pages), application servers, batch
jobs (phased sets), idle VMs and one or two leaking VMs; VM sizes 2-64 GiB.
Every VM also fills part of its memory once during the run ("files": a
backup or log scan read into its cache at 32-128 MiB/s, from a start drawn
between 10% and 70% of the run) and about one in six has no balloon
driver, so host16g, host128g and host256 run short of free memory in the
second half and balloon, compress and swap, as the issue asks; the
datacenter's day ends 2.4 GiB above its `clear` line, a 1 TiB host's
minFree being about 1% of it (docs/engine.md, "The scale examples under
pressure" and "The datacenter's day on them").
Page sharing scans every guest page once an hour, as ESX's default
Mem.ShareScanTime (60 min); active-memory sampling at ESX's defaults
(100 pages per Mem.SamplePeriod 60 s); ballooning, compression (10% cache)
and swapping (SSD) on; the vSphere 6 free-memory states, as a host of this
size runs. `make bench-scale` runs them; tests/sim/test_scale_examples.c
loads each and checks that running this script again gives the same files.
"""
import os
import sys

GIB_PAGES = 262144  # 4 KiB pages per GiB

# name, host GiB, VMs, duration, stats interval, seed
HOSTS = [
    ("host16g", 16, 8, "10m", "10s", 16),
    ("host128g", 128, 32, "10m", "10s", 128),
    ("host256", 256, 64, "1h", "10s", 256),
    ("datacenter", 1024, 150, "24h", "60s", 1024),
]
OVERCOMMIT = 1.3

# OS images: (guest os, image name, image size MiB)
IMAGES = {
    "debian12": ("linux", "debian-12", 300),
    "rhel9": ("linux", "rhel-9", 350),
    "win2019": ("windows", "win2019", 900),
    "win2022": ("windows", "win2022", 1000),
}

# role: share of the VMs, raw sizes in GiB (scaled to the host later),
# OS images to pick from
ROLES = [
    ("db", 0.15, [24, 32, 48, 64, 96], ["rhel9", "rhel9", "win2022"]),
    ("web", 0.30, [4, 6, 8, 12, 16], ["debian12", "debian12", "win2019"]),
    ("app", 0.13, [8, 12, 16], ["rhel9", "win2019"]),
    ("batch", 0.15, [8, 12, 16, 24, 32], ["rhel9", "debian12"]),
    ("idle", 0.27, [2, 4, 4, 8], ["win2019", "win2022", "debian12"]),
]

# role: the share of its VM's memory the guest fills once during the run
# beyond its working set (workloads(), "files"; the docstring says why)
FILES = {
    "db": 0.30,
    "web": 0.38,
    "app": 0.40,
    "batch": 0.15,
    "idle": 0.55,
    "leak": 0.20,
}


class Rng:
    """xorshift64*: a fixed sequence for a seed, whatever Python runs it."""

    def __init__(self, seed):
        self.s = (seed * 0x9E3779B97F4A7C15 + 1) & (2**64 - 1) or 1

    def next(self):
        s = self.s
        s ^= s >> 12
        s ^= (s << 25) & (2**64 - 1)
        s ^= s >> 27
        self.s = s
        return (s * 0x2545F4914F6CDD1D) & (2**64 - 1)

    def below(self, n):
        return self.next() % n

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def shuffle(self, seq):
        for i in range(len(seq) - 1, 0, -1):
            j = self.below(i + 1)
            seq[i], seq[j] = seq[j], seq[i]


def role_list(n, rng):
    """n roles in the mix's proportions (largest remainder), one or two of
    them leaking application servers, in a shuffled order."""
    leaks = 2 if n >= 100 else 1
    rest = n - leaks
    exact = [share * rest for _, share, _, _ in ROLES]
    counts = [int(x) for x in exact]
    order = sorted(range(len(ROLES)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    roles = ["leak"] * leaks
    for (name, _, _, _), c in zip(ROLES, counts):
        roles += [name] * c
    rng.shuffle(roles)
    return roles


def sizes_for(roles, target, rng):
    """GiB per VM: raw sizes of each role scaled so that they add up to
    target exactly, each 2..64 GiB."""
    table = {name: sizes for name, _, sizes, _ in ROLES}
    table["leak"] = [8, 16]
    raw = [rng.pick(table[r]) for r in roles]
    f = target / sum(raw)
    sizes = [min(64, max(2, round(x * f))) for x in raw]
    i = 0
    while sum(sizes) != target:
        k = i % len(sizes)
        if sum(sizes) < target and sizes[k] < 64:
            sizes[k] += 1
        elif sum(sizes) > target and sizes[k] > 2:
            sizes[k] -= 1
        i += 1
    return sizes


def mib(gib, frac):
    """frac of gib GiB in whole MiB (a whole number of pages), at least 4."""
    return max(4, int(gib * 1024 * frac))


def workloads(role, gib, os_kind, duration_s, rng):
    """The role's workloads as XML lines."""
    win = os_kind == "windows"
    w = []
    if role == "db":
        app = "mssql-2019" if win else "postgresql-15"
        w.append(
            f'<workload name="db" kind="steady" dist="zipf" '
            f'size="{mib(gib, 0.55)}MiB" rate="{30 + rng.below(21)}k" '
            f'write-ratio="{30 + rng.below(11)}%" content="data" '
            f'compressibility="0.{5 + rng.below(3)}"/>'
        )
        w.append(
            f'<workload name="engine" kind="steady" size="{mib(gib, 0.02)}'
            f'MiB" rate="2k" write-ratio="0" content="app" app="{app}"/>'
        )
    elif role == "web":
        app = "iis-static" if win else "nginx-static"
        w.append(
            f'<workload name="static" kind="steady" dist="zipf" '
            f'size="{mib(gib, 0.30)}MiB" rate="{15 + rng.below(16)}k" '
            f'write-ratio="2%" content="app" app="{app}"/>'
        )
        w.append(
            f'<workload name="sessions" kind="steady" '
            f'size="{mib(gib, 0.12)}MiB" rate="{5 + rng.below(6)}k" '
            f'write-ratio="40%" content="data" compressibility="0.6"/>'
        )
    elif role == "app":
        app = "dotnet-runtime" if win else "openjdk-17"
        w.append(
            f'<workload name="heap" kind="steady" size="{mib(gib, 0.40)}'
            f'MiB" rate="{10 + rng.below(11)}k" write-ratio="20%" '
            f'content="data" compressibility="0.5"/>'
        )
        w.append(
            f'<workload name="code" kind="steady" size="{mib(gib, 0.03)}'
            f'MiB" rate="2k" write-ratio="0" content="app" app="{app}"/>'
        )
    elif role == "batch":
        phase = max(60, duration_s // 24)
        w.append(
            f'<workload name="etl" kind="phased" size="{mib(gib, 0.25)}'
            f'MiB" region="{mib(gib, 0.75)}MiB" phase="{phase}s" '
            f'rate="{20 + rng.below(11)}k" write-ratio="50%" '
            f'content="data" compressibility="0.3"/>'
        )
    elif role == "idle":
        if win:
            w.append(
                f'<workload name="services" kind="idle" '
                f'size="{mib(gib, 0.20)}MiB" content="app" '
                f'app="win-services"/>'
            )
        else:
            w.append(
                f'<workload name="daemons" kind="idle" '
                f'size="{mib(gib, 0.15)}MiB" content="data" '
                f'compressibility="0.5"/>'
            )
    elif role == "leak":
        leak_max = mib(gib, 0.45)
        # grows to its cap over three quarters of the run
        leak_kib = max(4, leak_max * 1024 * 4 // (3 * duration_s) // 4 * 4)
        w.append(
            f'<workload name="jvm" kind="leak" size="{mib(gib, 0.15)}MiB" '
            f'rate="10k" write-ratio="20%" leak="{leak_kib}KiB" '
            f'leak-max="{leak_max}MiB" content="data" '
            f'compressibility="0.5"/>'
        )
        w.append(
            f'<workload name="code" kind="steady" size="{mib(gib, 0.03)}'
            f'MiB" rate="2k" write-ratio="0" content="app" app="openjdk-17"/>'
        )
    # What the guest fills during the run and then leaves: files read
    # into its cache (a backup, a log scan, a report) at a disk's pace,
    # 32-128 MiB/s, from a start between 10% and 70% of the run, up to
    # FILES[role] of its memory; the rates are absolute, so a longer run
    # spreads the same bursts thinner. The pages are written once and not
    # touched again: what the idle memory tax and the balloon take first,
    # and, in a burst the balloon cannot follow, compression and swap.
    # memvisor's guest page cache holds the OS image only, so these are
    # the guest's anonymous pages (a `leak` with a cap): under the balloon
    # the guest writes them to its own swap where Linux would drop clean
    # cache.
    cap = mib(gib, FILES[role])
    start = duration_s * (10 + rng.below(61)) // 100
    kib = (32 + rng.below(97)) * 1024
    w.append(
        f'<workload name="files" kind="leak" size="4MiB" rate="50" '
        f'write-ratio="0" leak="{kib}KiB" leak-max="{cap}MiB" '
        f'start="{start}s" content="data" '
        f'compressibility="0.{5 + rng.below(4)}"/>'
    )
    return w


def duration_s(d):
    n, unit = int(d[:-1]), d[-1]
    return n * {"s": 1, "m": 60, "h": 3600}[unit]


def scenario(name, host_gib, nvms, duration, stats, seed):
    rng = Rng(seed)
    target = round(host_gib * OVERCOMMIT)
    roles = role_list(nvms, rng)
    sizes = sizes_for(roles, target, rng)
    table = {r: imgs for r, _, _, imgs in ROLES}
    table["leak"] = ["debian12"]
    guest_pages = target * GIB_PAGES
    # Mem.ShareScanTime 60 min: every guest page once an hour (scan-time
    # counts the pages passed over, as ESX counts a VM's size), in wakeups
    # every 20 ms (50 a second)
    per_wake = -(-guest_pages // (3600 * 50))
    dur = duration_s(duration)
    out = []
    o = out.append
    o('<?xml version="1.0"?>')
    o("<!--")
    o(f"  {name}: a {host_gib} GiB host with {nvms} VMs ({target} GiB "
      f"configured, {OVERCOMMIT}:1),")
    o(f"  {duration} simulated. Generated by scripts/gen-scale.py: do not "
      "edit, rerun it.")
    counts = {r: roles.count(r) for r in sorted(set(roles))}
    o("  Roles: " + ", ".join(f"{c} {r}" for r, c in counts.items()) + ".")
    o(f"  Page sharing: {guest_pages} guest pages in 60 min "
      f"(Mem.ShareScanTime) = {per_wake} pages per 20 ms,")
    o("  untouched, shared and zero pages included.")
    o("  Step 100 ms: the policy acts every second, the sampler every minute;")
    o("  a finer step costs a day-long run time per VM and step, not detail.")
    o("-->")
    o(f'<scenario name="{name}" seed="{seed}" duration="{duration}" '
      f'step="100ms" stats-interval="{stats}" active-window="60s">')
    o(f'  <host name="{name}">')
    o(f'    <memory unit="GiB">{host_gib}</memory>')
    o(f'    <numa nodes="2"/>')
    o('    <memstate model="vsphere6"/>')
    o('    <sharing scan-time="60m" sleep="20ms"/>')
    o('    <sampling pages="100" period="60s"/>')
    o('    <compression enabled="yes" cache="10%"/>')
    o('    <balloon max="65%"/>')
    o('    <swap device="ssd"/>')
    o("  </host>")
    for i, (role, gib) in enumerate(zip(roles, sizes)):
        image = rng.pick(table[role])
        os_kind, image_name, image_mib = IMAGES[image]
        image_mib = min(image_mib, gib * 1024 // 4)
        vm = f"{role}{i + 1:03d}"
        shares = "high" if role == "db" else "normal"
        o("  <vm>")
        o('    <domain type="kvm">')
        o(f"      <name>{vm}</name>")
        o(f'      <memory unit="GiB">{gib}</memory>')
        if role == "db" and gib >= 4:
            o(f'      <memtune><min_guarantee unit="GiB">{gib // 4}'
              "</min_guarantee></memtune>")
        o("      <metadata>")
        o('        <mv:memvisor xmlns:mv="urn:memvisor:domain:1">')
        o(f"          <mv:shares>{shares}</mv:shares>")
        o(f'          <mv:guest os="{os_kind}" image="{image_name}" '
          f'image-size="{image_mib}MiB"/>')
        o("        </mv:memvisor>")
        o("      </metadata>")
        if rng.below(6) == 0:
            # no balloon driver (VMware Tools or virtio-balloon not
            # installed, as in about one VM in six here): the host can
            # only compress and swap it
            o('      <devices><memballoon model="none"/></devices>')
        else:
            o('      <devices><memballoon model="virtio"><stats period="10"/>'
              "</memballoon></devices>")
        o("    </domain>")
        for line in workloads(role, gib, os_kind, dur, rng):
            o("    " + line)
        o("  </vm>")
    o("</scenario>")
    return "\n".join(out) + "\n"


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "examples/scale"
    os.makedirs(outdir, exist_ok=True)
    for h in HOSTS:
        path = os.path.join(outdir, h[0] + ".xml")
        with open(path, "w", encoding="ascii") as f:
            f.write(scenario(*h))
        print(path)


if __name__ == "__main__":
    main()
