#!/bin/sh
# Two real idle guests (512 MiB each, TCG, same kernel and initramfs): with
# KSM on (pages_to_scan 1000, sleep_millisecs 10) the host's pages_sharing
# reaches thousands within a minute, and the two QEMU processes' own
# /proc/PID/ksm_merging_pages say the merged pages are theirs. Every KSM
# setting the test changes is saved first and put back on any way out.
# KSM is system-wide: the test holds /run/memvisor-ksm.lock (flock) from
# saving the settings to restoring them, as tests/image/test_process.c's KSM
# check does, so that no two of our KSM-changing tests interleave.
# Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
KSM=/sys/kernel/mm/ksm
WANT=${MV_KSM_WANT:-2000}
LIMIT=${MV_KSM_LIMIT:-60}
OBSERVE=${MV_KSM_OBSERVE:-30}
KNOBS="run pages_to_scan sleep_millisecs"
saved=""

kvm_on_exit() {
	[ -n "$saved" ] || return 0
	for kv in $saved; do
		echo "${kv#*=}" >"$KSM/${kv%%=*}"
	done
	echo "note: KSM restored ($saved)"
}

kvm_init ksm
[ -w $KSM/run ] || skip "no writable $KSM/run (kernel without KSM, or not root)"
exec 9>/run/memvisor-ksm.lock
flock -w 300 9 || skip "another KSM test held /run/memvisor-ksm.lock for 300 s"
t_all=$(now)

kvm_start a --cmdline "mv.work=idle" || { bad "virsh create a failed"; exit 1; }
kvm_start b --cmdline "mv.work=idle" || { bad "virsh create b failed"; exit 1; }
for g in a b; do
	if s=$(kvm_wait_boot $g 120); then
		note "guest $g booted in $s s"
	else
		bad "guest $g did not boot within 120 s"
		exit 1
	fi
done
note "QEMU RSS before KSM: a $(kvm_rss a) KiB, b $(kvm_rss b) KiB"

for k in $KNOBS; do
	saved="$saved $k=$(cat $KSM/$k)"
done
base=$(cat $KSM/pages_sharing)
note "KSM before: $saved pages_sharing $base"
echo 1000 >$KSM/pages_to_scan
echo 10 >$KSM/sleep_millisecs
echo 1 >$KSM/run
t0=$(now)
met=""
pa=$(kvm_pid a)
pb=$(kvm_pid b)
# until each guest's QEMU has WANT/2 merged pages (the kernel's count per
# process); then on to OBSERVE s for the figure. pages_sharing is only noted:
# it still counts the merged pages of processes that exited while ksmd was
# stopped (run 0), until ksmd's next scan removes them, e.g. after an earlier
# test's guests, so its rise from a baseline can be negative
while :; do
	sharing=$(cat $KSM/pages_sharing)
	ma=$(cat /proc/"$pa"/ksm_merging_pages 2>/dev/null || echo 0)
	mb=$(cat /proc/"$pb"/ksm_merging_pages 2>/dev/null || echo 0)
	el=$(since "$t0")
	if [ -z "$met" ] && [ "$ma" -ge $((WANT / 2)) ] && [ "$mb" -ge $((WANT / 2)) ]; then
		met=$el
		note "after $el s: pages_sharing $sharing, guests' ksm_merging_pages a $ma b $mb"
	fi
	[ -n "$met" ] && [ "${el%.*}" -ge "$OBSERVE" ] && break
	[ "${el%.*}" -ge "$LIMIT" ] && break
	sleep 1
done
if [ -n "$met" ]; then
	ok "a and b each $((WANT / 2)) or more merged pages in $met s (pages_sharing $base -> $sharing)"
else
	bad "after $el s guests' merged pages a $ma b $mb (want $((WANT / 2)) each); pages_sharing $base -> $sharing"
fi
note "KSM after $el s: pages_sharing $sharing, pages_shared $(cat $KSM/pages_shared), full_scans $(cat $KSM/full_scans); guests' merging pages a $ma b $mb"
note "QEMU RSS with KSM: a $(kvm_rss a) KiB, b $(kvm_rss b) KiB"
for g in a b; do
	o=$(kvm_oom $g)
	[ "$o" -eq 0 ] || bad "$o OOM lines/kills in guest $g"
done
note "test took $(since "$t_all") s"
kvm_finish
