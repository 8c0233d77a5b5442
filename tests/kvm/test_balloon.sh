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

# docs/views.md's dommemstat semantics, on one `virsh dommemstat` of the
# real guest (a report newer than AFTER, epoch s): minor_fault counts
# every fault (never below major_fault), last_update is epoch seconds,
# unused (MemFree), usable (MemAvailable) and disk_caches within available
# (MemTotal), usable at most free plus caches, actual = the balloon's size
# (WANT KiB) and available = actual less what the kernel keeps outside
# MemTotal (the same at every balloon size), swap counters present and 0
# (the guest has no swap). Sets dms_outside (actual - available, KiB).
dms_check() {
	label=$1 want=$2 after=$3
	t0=$(now)
	while :; do
		s=$($V dommemstat "$(kvm_dom g)")
		lu=$(echo "$s" | awk '$1 == "last_update" { print $2 }')
		[ "${lu:-0}" -gt "$after" ] && break
		[ "$(since "$t0" | cut -d. -f1)" -ge 30 ] && break
		sleep 0.5
	done
	epoch=$(date +%s)
	dms() { echo "$s" | awk -v f="$1" '$1 == f { print $2 }'; }
	act=$(dms actual) un=$(dms unused) av=$(dms available) us=$(dms usable)
	dc=$(dms disk_caches) mj=$(dms major_fault) mn=$(dms minor_fault)
	si=$(dms swap_in) so=$(dms swap_out)
	why=""
	[ "${lu:-0}" -gt "$after" ] || why="$why no report after $after (last_update ${lu:-none});"
	age=$((epoch - ${lu:-0}))
	# stats period 2 s: a report is at most one period (and a second of
	# rounding) old when read, never from the future
	[ "$age" -ge 0 ] && [ "$age" -le 4 ] || why="$why last_update $lu is $age s from date +%s $epoch;"
	[ "$mn" -ge "$mj" ] || why="$why minor_fault $mn < major_fault $mj;"
	[ "$act" -eq "$want" ] || why="$why actual $act != balloon size $want;"
	[ "$un" -le "$av" ] || why="$why unused $un > available $av;"
	[ "$us" -le "$av" ] || why="$why usable $us > available $av;"
	[ "$dc" -le "$av" ] || why="$why disk_caches $dc > available $av;"
	[ "$us" -le $((un + dc)) ] || why="$why usable $us > unused + disk_caches $((un + dc));"
	[ "$av" -lt "$act" ] || why="$why available $av not below actual $act;"
	[ -n "$si" ] && [ -n "$so" ] || why="$why swap_in/swap_out absent;"
	[ "${si:-1}" -eq 0 ] && [ "${so:-1}" -eq 0 ] || why="$why swap_in $si / swap_out $so with no swap in the guest;"
	dms_outside=$((act - av))
	if [ -z "$why" ]; then
		ok "dommemstat semantics ($label): as docs/views.md says"
	else
		bad "dommemstat semantics ($label):$why"
	fi
	note "dommemstat $label: actual $act available $av (actual - available $dms_outside) unused $un usable $us disk_caches $dc KiB; major_fault $mj minor_fault $mn; swap_in $si swap_out $so; last_update $lu, date +%s $epoch"
}
dms_check "balloon empty" $((MIB * 1024)) 0
outside0=$dms_outside

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
dms_check "balloon at half" $((HALF * 1024)) "$(date +%s)"
if [ "$dms_outside" -eq "$outside0" ]; then
	ok "available follows the balloon: actual - available $dms_outside KiB at $MIB and at $HALF MiB"
else
	bad "actual - available $outside0 KiB at $MIB MiB, $dms_outside at $HALF MiB: available does not follow the balloon"
fi

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
