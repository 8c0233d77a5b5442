#!/bin/sh
# One real guest (512 MiB, TCG): dommemstat shows the balloon's fields,
# `virsh setmem --live` to half inflates the balloon and the guest's own
# MemFree (printed on its console) drops by as much, and setting it back
# deflates it. Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
kvm_init balloon
MIB=512
HALF=$((MIB / 2))
t_all=$(now)

kvm_start g --memory $MIB --cmdline "mv.work=idle mv.period=1" || { bad "virsh create failed"; exit 1; }
if boot=$(kvm_wait_boot g 90); then
	ok "guest booted in $boot s (dommemstat has every field, console says boot done)"
	note "boot time (virsh create to all dommemstat fields) $boot s; QEMU CPU time by then $(kvm_cpu g) s; guest uptime at its 'boot done' $(grep -a '^mv: boot done' "$(kvm_log g)" | sed 's/.* t=\([0-9]*\) .*/\1/') s"
else
	bad "guest did not boot within 90 s"
	tail -5 "$(kvm_log g)"
	exit 1
fi

fields=$($V dommemstat "$(kvm_dom g)" | awk '{ print $1 }' | tr '\n' ' ')
missing=""
for f in actual unused available usable rss swap_in swap_out major_fault minor_fault disk_caches last_update; do
	echo " $fields" | grep -q " $f " || missing="$missing $f"
done
[ -z "$missing" ] && ok "dommemstat fields: $fields" || bad "dommemstat lacks$missing (has: $fields)"
note "QEMU RSS after boot $(kvm_rss g) KiB (dommemstat rss $(kvm_stat g rss) KiB)"

# wait until actual == want KiB; print seconds
wait_actual() {
	t0=$(now)
	while [ "$(kvm_stat g actual)" != "$1" ]; do
		[ "$(since "$t0" | cut -d. -f1)" -ge 60 ] && return 1
		sleep 0.2
	done
	since "$t0"
	echo
}
# the guest's MemFree printed at least 2 s (guest time) after now
memfree_settled() {
	t=$(kvm_uptime g)
	t0=$(now)
	while [ -z "$(kvm_memfree_after g $((t + 2)))" ]; do
		[ "$(since "$t0" | cut -d. -f1)" -ge 30 ] && return 1
		sleep 0.5
	done
	kvm_memfree_after g $((t + 2))
}

free0=$(memfree_settled)
unused0=$(kvm_stat g unused)
t_set=$(now)
kvm_setmem g $HALF || bad "setmem $HALF MiB failed"
if s=$(wait_actual $((HALF * 1024))); then
	ok "balloon inflated: actual $((HALF * 1024)) KiB after $s s"
else
	bad "actual did not reach $((HALF * 1024)) KiB (is $(kvm_stat g actual))"
fi
free1=$(memfree_settled)
t_inflate=$(since "$t_set")
unused1=$(kvm_stat g unused)
drop=$((free0 - free1))
want=$(((MIB - HALF) * 1024))
# the balloon takes exactly `want` KiB from the guest; allow 5% for the
# guest's own allocations in between
if [ "$drop" -ge $((want * 95 / 100)) ] && [ "$drop" -le $((want * 105 / 100)) ]; then
	ok "guest MemFree dropped by $drop KiB ($free0 -> $free1; balloon $want KiB)"
else
	bad "guest MemFree dropped by $drop KiB ($free0 -> $free1), expected about $want KiB"
fi
note "setmem $MIB -> $HALF MiB: guest MemFree $free0 -> $free1 KiB (drop $drop KiB of $want), dommemstat unused $unused0 -> $unused1 KiB, $t_inflate s to the settled MemFree"

kvm_setmem g $MIB || bad "setmem $MIB MiB failed"
if s=$(wait_actual $((MIB * 1024))); then
	ok "balloon deflated: actual $((MIB * 1024)) KiB after $s s"
else
	bad "actual did not return to $((MIB * 1024)) KiB (is $(kvm_stat g actual))"
fi
free2=$(memfree_settled)
back=$((free2 - free1))
if [ "$back" -ge $((want * 95 / 100)) ]; then
	ok "guest MemFree back up by $back KiB ($free1 -> $free2)"
else
	bad "guest MemFree rose by only $back KiB after deflating ($free1 -> $free2)"
fi
note "setmem $HALF -> $MIB MiB: guest MemFree $free1 -> $free2 KiB"

o=$(kvm_oom g)
[ "$o" -eq 0 ] && ok "no OOM kill in the guest" || bad "$o OOM lines/kills in the guest's console"
note "QEMU RSS at the end $(kvm_rss g) KiB; test took $(since "$t_all") s"
kvm_finish
