#!/bin/sh
# Three real guests at once (512 MiB each, TCG), the set the agent's tests
# use: one idle, one busy (mv.work=busy, a 200 MiB tmpfs working set that it
# stops and frees after mv.stop s), one with a reservation (<memtune>
# soft_limit) and memvisor shares in <metadata>. Checks that they all boot
# and run together on this host, that libvirt reports the soft_limit and the
# shares as written, that the busy guest's MemFree is lower by its working
# set while busy and comes back when it stops, and that no OOM killer fires.
# Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
kvm_init guests
WS=200
STOP=${MV_GUESTS_STOP:-50}
NS=${MV_SHARES_NS:-urn:memvisor:domain:1}
t_all=$(now)

# libvirt sets the QEMU's RLIMIT_MEMLOCK to a hard_limit: where that cannot
# be raised (no CAP_SYS_RESOURCE, as in some containers) QEMU would not start
hard=""
if kvm_can_memlock; then
	hard="--hard-limit 1024"
else
	note "no <hard_limit> here: RLIMIT_MEMLOCK cannot be raised above $(ulimit -Hl) KiB (no CAP_SYS_RESOURCE) and libvirt sets it to hard_limit"
fi
kvm_start idle --cmdline "mv.work=idle" || { bad "virsh create idle failed"; exit 1; }
kvm_start busy --cmdline "mv.work=busy mv.ws=${WS}M mv.stop=$STOP" || { bad "virsh create busy failed"; exit 1; }
kvm_start resv --cmdline "mv.work=idle" --soft-limit 256 $hard --shares 10240 || { bad "virsh create resv failed"; exit 1; }
for g in idle busy resv; do
	if s=$(kvm_wait_boot $g 120); then
		note "guest $g booted in $s s (three started together)"
	else
		bad "guest $g did not boot within 120 s"
		exit 1
	fi
done
# CPU time of the three QEMUs from here on (utime + stime, clock ticks)
cpu() { awk '{ print $14 + $15 }' /proc/"$(kvm_pid "$1")"/stat; }
c0=$(($(cpu idle) + $(cpu busy) + $(cpu resv)))
tc0=$(now)

mt=$($V memtune "$(kvm_dom resv)" | awk '$1 == "soft_limit" { print $3 }')
[ "$mt" = 262144 ] && ok "memtune soft_limit of resv: $mt KiB" || bad "memtune soft_limit of resv is '$mt', want 262144"
sh=$($V metadata "$(kvm_dom resv)" "$NS" 2>/dev/null | tr -d ' \n')
[ "$sh" = "<memvisor><shares>10240</shares></memvisor>" ] && ok "metadata of resv: $sh" ||
	bad "metadata of resv is '$sh'"

# busy: wait for its working set, then compare with the idle guest
t0=$(now)
until grep -aq '^mv: busy pass 1 done' "$(kvm_log busy)"; do
	[ "$(since "$t0" | cut -d. -f1)" -ge 120 ] && break
	sleep 1
done
if grep -aq '^mv: busy pass 1 done' "$(kvm_log busy)"; then
	ok "busy guest: $(grep -a '^mv: busy ws' "$(kvm_log busy)")"
	sleep 3
	fi_=$(kvm_memfree idle)
	fb=$(kvm_memfree busy)
	d=$((fi_ - fb))
	if [ $d -ge $((WS * 1024 * 95 / 100)) ] && [ $d -le $((WS * 1024 * 110 / 100)) ]; then
		ok "busy guest's MemFree $fb KiB is $d KiB below the idle guest's $fi_ KiB (working set $((WS * 1024)) KiB)"
	else
		bad "busy guest's MemFree $fb KiB is $d KiB below the idle guest's $fi_ KiB, want about $((WS * 1024))"
	fi
	note "busy: MemFree $fb KiB, idle: MemFree $fi_ KiB; QEMU RSS idle $(kvm_rss idle), busy $(kvm_rss busy), resv $(kvm_rss resv) KiB"
else
	bad "busy guest never finished a pass over its working set in 120 s"
fi

t0=$(now)
until grep -aq '^mv: busy stopped' "$(kvm_log busy)"; do
	[ "$(since "$t0" | cut -d. -f1)" -ge $((STOP + 30)) ] && break
	sleep 1
done
c1=$(($(cpu idle) + $(cpu busy) + $(cpu resv)))
hz=$(getconf CLK_TCK)
note "three QEMUs used $(awk -v c=$((c1 - c0)) -v h="$hz" -v t="$(since "$tc0")" 'BEGIN { printf "%.2f", c / h / t }') CPUs over $(since "$tc0") s (busy working); host loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
if grep -aq '^mv: busy stopped' "$(kvm_log busy)"; then
	sleep 3
	fb=$(kvm_memfree busy)
	fi_=$(kvm_memfree idle)
	d=$((fi_ - fb))
	[ $d -lt $((WS * 1024 / 10)) ] && [ $d -gt $((-WS * 1024 / 10)) ] &&
		ok "busy guest stopped and freed its working set: MemFree $fb KiB (idle $fi_)" ||
		bad "after stopping, busy guest's MemFree $fb KiB is $d KiB below idle's $fi_"
	note "after the stop: QEMU RSS idle $(kvm_rss idle), busy $(kvm_rss busy), resv $(kvm_rss resv) KiB (freed guest pages stay in the host's RSS until ballooned)"
else
	bad "busy guest did not stop within $((STOP + 30)) s"
fi
for g in idle busy resv; do
	o=$(kvm_oom $g)
	[ "$o" -eq 0 ] || bad "$o OOM lines/kills in guest $g"
done
note "test took $(since "$t_all") s"
kvm_finish
