#!/usr/bin/env python3
"""Large-page figures for docs/largepages.md.

Usage: examples/largepages.sh [OUTDIR]   (env MEMVISOR, default build/memvisor)

1. examples/largepages-kvm.xml with THP never (as written) and always:
   consumed and shared-saved memory, AnonHugePages, translation time
   (all VMs' vCPUs), splits and collapses, and when sharing peaks (its
   steady state: the workloads' writes erode it after that).
2. examples/largepages-esx.xml (ESX large pages): shared-saved memory
   against the free-memory state, every 2 s.
3. examples/largepages-hugetlb.xml (static huge pages under overcommit):
   the database on the hugetlbfs pool (as written), on THP always with no
   pool, and with a pool too small for it (it does not start): memory,
   sharing, swapping, ballooning, huge pages and translation time.
Prints three markdown tables; runs go to OUTDIR (default: a temporary
one).
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
mv = os.environ.get("MEMVISOR", "build/memvisor")
out = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="largepages.")
os.makedirs(out, exist_ok=True)


def run(xml, name):
    csvdir = os.path.join(out, "csv-" + name)
    with open(os.path.join(out, name + ".json"), "w") as f:
        subprocess.run([mv, "run", "--json", "--csv", csvdir, xml],
                       stdout=f, check=True)
    with open(os.path.join(out, name + ".json")) as f:
        d = json.load(f)
    with open(os.path.join(csvdir, "host.csv")) as f:
        rows = list(csv.DictReader(f))
    return d, rows


def peak(rows):
    best = max(rows, key=lambda r: float(r["SHRDSVD"]))
    return float(best["time_s"])


src = open(os.path.join(here, "largepages-kvm.xml")).read()
print("| THP | consumed (MiB) | shared saved (MiB) | AnonHugePages (MiB) "
      "| translation (ms) | thp_split_page | thp_collapse_alloc "
      "| sharing peaks at (s) |")
print("|---|---|---|---|---|---|---|---|")
for mode in ("never", "always"):
    xml = os.path.join(out, "kvm-%s.xml" % mode)
    with open(xml, "w") as f:
        f.write(src.replace('enabled="never"', 'enabled="%s"' % mode))
    d, rows = run(xml, "kvm-" + mode)
    t = d["totals"]
    thp = t.get("thp", {})
    print("| %s | %.1f | %.1f | %.1f | %.1f | %d | %d | %.0f |" % (
        mode, t["consumed_bytes"] / 2**20, t["shared_saved_bytes"] / 2**20,
        thp.get("anon_huge_bytes", 0) / 2**20, t["xlat_ns"] / 1e6,
        thp.get("thp_split_page", 0), thp.get("thp_collapse_alloc", 0),
        peak(rows)))

print()
d, rows = run(os.path.join(here, "largepages-esx.xml"), "esx")
print("| time (s) | state | free (% of host) | shared saved (MiB) |")
print("|---|---|---|---|")
for r in rows:
    if float(r["time_s"]) % 2 == 0:
        print("| %.0f | %s | %.1f | %.1f |" % (
            float(r["time_s"]), r["state"], float(r["free_pct"]),
            float(r["SHRDSVD"])))
lp = d["totals"]["large_pages"]
print()
print("Large pages allocated %d, broken %d, still large at the end %d." % (
    lp["allocated"], lp["broken"], lp["large_pages"]))

print()
src = open(os.path.join(here, "largepages-hugetlb.xml")).read()
pool = '<hugepages size="2M" count="128"/>'
backing = "<memoryBacking><hugepages/></memoryBacking>"
variants = [
    ("hugetlbfs (pool of 128)", src),
    ("THP always, no pool", src.replace(pool, "").replace(backing, "")
     .replace('enabled="never"', 'enabled="always"')),
    ("hugetlbfs (pool of 100)", src.replace('count="128"', 'count="100"')),
]
print("| database backing | database | consumed (MiB) | shared saved (MiB) "
      "| swapped out (MiB) | ballooned (MiB) | database in 2 MiB pages "
      "(MiB) | HugePages_Free | database translation (ms) |")
print("|---|---|---|---|---|---|---|---|---|")
for k, (name, text) in enumerate(variants):
    xml = os.path.join(out, "hugetlb-%d.xml" % k)
    with open(xml, "w") as f:
        f.write(text)
    d, rows = run(xml, "hugetlb-%d" % k)
    t = d["totals"]
    db = [v for v in d["vms"] if v["name"] == "db"][0]
    pool_js = d["host"].get("hugetlb")
    if db["config"].get("start_error"):
        state = "did not start"
    else:
        state = "running"
    if pool_js:
        huge = (pool_js["HugePages_Total"] - pool_js["HugePages_Free"]) * 2
        free = str(pool_js["HugePages_Free"])
    else:
        huge = db["final"].get("thp", {}).get("anon_huge_bytes", 0) / 2**20
        free = "-"
    print("| %s | %s | %.1f | %.1f | %.1f | %.1f | %.0f | %s | %.1f |" % (
        name, state, t["consumed_bytes"] / 2**20,
        t["shared_saved_bytes"] / 2**20,
        t["swap"]["writes"] * 4096 / 2**20,
        t["state_bytes"]["ballooned"] / 2**20, huge, free,
        db["final"]["xlat_ns"] / 1e6))
