#!/bin/sh
# memvisor agent against two busy real guests (512 MiB each, TCG, a 200 MiB
# working set each, rewritten every second) with different shares in their
# metadata (5 and 20 per MiB), on a --host-memory budget of their QEMUs' RSS
# so that the host is under pressure from the first interval
# (docs/agent.md, "Real guests for the tests"):
#   1. --dry-run: changes proposed, none applied, balloon sizes (dommemstat
#      actual) before and after equal, KSM untouched;
#   2. the agent for real, KSM tuned (holding /run/memvisor-ksm.lock as
#      test_ksm.sh does): the guest with fewer shares gives more; libvirtd
#      (the one kvm-setup.sh recorded) is killed mid-run and started again:
#      the agent logs the loss, reconnects and decides again; on exit every
#      KSM knob is back to its value before the run.
# Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
kvm_init agent_shares
MV=${MV_BUILD:-$KVM_ROOT/build}/memvisor
[ -x "$MV" ] || skip "no $MV (make all)"
kvm_foreign_guests
DUR=${MV_AGENT_DURATION:-60}
KSM=/sys/kernel/mm/ksm

kvm_start low --cmdline "mv.work=busy mv.ws=200M" --shares 2560 || { bad "virsh create low failed"; exit 1; }
kvm_start high --cmdline "mv.work=busy mv.ws=200M" --shares 10240 || { bad "virsh create high failed"; exit 1; }
for g in low high; do
	s=$(kvm_wait_boot $g 150) || { bad "guest $g did not boot within 150 s"; exit 1; }
	note "guest $g booted in $s s"
	kvm_wait_console $g '^mv: busy pass 1 done' 120 || { bad "$g never finished a pass"; exit 1; }
done
rl=$(kvm_rss low)
rh=$(kvm_rss high)
BUDGET=$(((rl + rh) / 1024 + 8))
note "QEMU RSS low $rl, high $rh KiB; budget ${BUDGET} MiB"

# 1. the dry run
al=$(kvm_stat low actual)
ah=$(kvm_stat high actual)
"$MV" agent --connect $KVM_URI --host-memory ${BUDGET}M --interval 1s --duration 6s --dry-run \
	--json-log "$KVM_DIR/dry.jsonl" >"$KVM_DIR/dry.out" 2>&1 || bad "dry run exited $?: $(tail -2 "$KVM_DIR/dry.out")"
kvm_agentlog dryrun "$KVM_DIR/dry.jsonl"
sleep 2
al2=$(kvm_stat low actual)
ah2=$(kvm_stat high actual)
[ "$al" = "$al2" ] && [ "$ah" = "$ah2" ] && ok "dry run: balloon actual before and after equal (low $al, high $ah KiB)" ||
	bad "dry run changed a balloon: low $al -> $al2, high $ah -> $ah2 KiB"
grep '^ *balloon changes' "$KVM_DIR/dry.out" | sed 's/^ */note: dry run: /'

# 2. for real, with KSM; libvirtd killed and restarted mid-run
exec 9>/run/memvisor-ksm.lock
flock -w 300 9 || skip "another KSM test held /run/memvisor-ksm.lock for 300 s"
k0="$(cat $KSM/run) $(cat $KSM/pages_to_scan) $(cat $KSM/sleep_millisecs)"
kvm_on_exit() {
	# the agent restores KSM itself; should it have died, put back what we saw
	if [ -n "${k0:-}" ]; then
		set -- $k0
		[ "$(cat $KSM/run)" = "$1" ] || echo "$1" >$KSM/run
		[ "$(cat $KSM/pages_to_scan)" = "$2" ] || echo "$2" >$KSM/pages_to_scan
		[ "$(cat $KSM/sleep_millisecs)" = "$3" ] || echo "$3" >$KSM/sleep_millisecs
	fi
}
# the libvirtd kvm-setup.sh recorded (make check-kvm's or this test's)
lpid=""
for f in "${MV_KVM_PIDFILE:-}" "$KVM_DIR/daemons.pids"; do
	[ -n "$f" ] && [ -f "$f" ] || continue
	p=$(awk '$1 == "libvirtd" { p = $2 } END { print p }' "$f")
	if [ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = libvirtd ]; then
		lpid=$p
		lfile=$f
	fi
done
LOG=$KVM_DIR/agent.jsonl
"$MV" agent --connect $KVM_URI --host-memory ${BUDGET}M --interval 1s --sample-period 5s --duration ${DUR}s \
	--json-log "$LOG" >"$KVM_DIR/agent.out" 2>&1 &
apid=$!
echo "$apid" >"$KVM_DIR/agent.pid"
t_kill=""
if [ -n "$lpid" ]; then
	# kill it once the agent has made its first changes
	t0=$(now)
	until grep -q '"applied":true' "$LOG" 2>/dev/null; do
		[ "$(since "$t0" | cut -d. -f1)" -ge 30 ] && break
		sleep 0.5
	done
	sleep 5
	t_kill=$(now)
	kill "$lpid"
	t0=$(now)
	while [ -d /proc/"$lpid" ]; do
		[ "$(since "$t0" | cut -d. -f1)" -ge 30 ] && { bad "libvirtd $lpid did not exit in 30 s"; break; }
		sleep 0.2
	done
	note "killed libvirtd $lpid (recorded in $lfile)"
	sleep 3
	if out=$(MV_KVM_PIDFILE=$lfile "$KVM_ROOT/scripts/kvm-setup.sh" 2>&1); then
		note "$(echo "$out" | grep 'started libvirtd')"
	else
		bad "libvirtd did not start again: $out"
	fi
else
	note "no libvirtd of make check-kvm's or this test's own runs: the restart is not tested"
fi
wait $apid
arc=$?
rm -f "$KVM_DIR/agent.pid"
[ $arc -eq 0 ] && ok "agent exited 0" || bad "agent exited $arc: $(tail -3 "$KVM_DIR/agent.out")"
kvm_agentlog shares "$LOG" "$(kvm_dom low)" "$(kvm_dom high)"
[ -n "$t_kill" ] && kvm_agentlog reconnect "$LOG" "$t_kill"
kvm_agentlog restore "$LOG"
k1="$(cat $KSM/run) $(cat $KSM/pages_to_scan) $(cat $KSM/sleep_millisecs)"
[ "$k0" = "$k1" ] && ok "KSM run, pages_to_scan, sleep_millisecs back to $k0" || bad "KSM was '$k0', is '$k1' after the agent"
note "agent: $(grep 'KSM:' "$KVM_DIR/agent.out" | sed 's/^ *//')"
k0=""
flock -u 9
for g in low high; do
	o=$(kvm_oom $g)
	[ "$o" -eq 0 ] && ok "no OOM in $g" || bad "$g: $o OOM kills on its console"
done
note "agent $(grep '^memvisor agent:' "$KVM_DIR/agent.out"); $(grep 'balloon changes' "$KVM_DIR/agent.out" | sed 's/^ *//'); $(grep 'faults:' "$KVM_DIR/agent.out" | sed 's/^ *//')"
kvm_finish
