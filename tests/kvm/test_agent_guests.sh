#!/bin/sh
# memvisor agent against three real guests (512 MiB each, TCG) on a 1.2 GiB (1258291 KiB)
# --host-memory budget (docs/agent.md, "Real guests for the tests"):
#   idle  filled 300 MiB once and freed it at once: it uses nothing, but its
#         QEMU holds the pages until a balloon takes them
#   busy  a 250 MiB working set rewritten every second, stopped and freed
#         after mv.stop s
#   resv  as idle, with a reservation (<memtune> soft_limit 480 MiB; QEMU
#         refuses min_guarantee), default shares
# The agent runs with --interval 1s (--no-ksm: KSM is test_agent_shares.sh's)
# while `memvisor record` records the same run. Checks, from the JSON log
# and dommemstat: the idle guest is ballooned first and gives more than the
# busy one; the reserved guest never goes below its reservation; a balloon
# is deflated (memory given back) after the busy guest stops; no guest's OOM
# killer fired. Notes the reaction times, the agent's cost, and the record
# replayed by `memvisor run` against the measurement
# (scripts/agent-compare.py). Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
kvm_init agent_guests
MV=${MV_BUILD:-$KVM_ROOT/build}/memvisor
[ -x "$MV" ] || skip "no $MV (make all)"
kvm_foreign_guests
RESV=480
DUR=${MV_AGENT_DURATION:-80}
STOP=${MV_AGENT_STOP:-65}

kvm_start idle --cmdline "mv.work=busy mv.ws=300M mv.stop=1" || { bad "virsh create idle failed"; exit 1; }
kvm_start busy --cmdline "mv.work=busy mv.ws=250M mv.stop=$STOP" || { bad "virsh create busy failed"; exit 1; }
kvm_start resv --cmdline "mv.work=busy mv.ws=300M mv.stop=1" --soft-limit $RESV ||
	{ bad "virsh create resv failed"; exit 1; }
for g in idle busy resv; do
	s=$(kvm_wait_boot $g 150) || { bad "guest $g did not boot within 150 s"; exit 1; }
	note "guest $g booted in $s s"
done
kvm_wait_console idle '^mv: busy stopped' 120 || { bad "idle guest never freed its 300 MiB"; exit 1; }
kvm_wait_console resv '^mv: busy stopped' 120 || { bad "resv guest never freed its 300 MiB"; exit 1; }
kvm_wait_console busy '^mv: busy pass 1 done' 120 || { bad "busy guest never finished a pass"; exit 1; }
note "QEMU RSS before the agent: idle $(kvm_rss idle), busy $(kvm_rss busy), resv $(kvm_rss resv) KiB"
grep -aq '^mv: busy stopped' "$(kvm_log busy)" && { bad "busy guest stopped before the agent started (raise MV_AGENT_STOP)"; exit 1; }

LOG=$KVM_DIR/agent.jsonl
mkdir -p "$KVM_DIR/rec"
"$MV" agent --connect $KVM_URI --host-memory 1.2G --interval 1s --sample-period 5s --no-ksm \
	--duration ${DUR}s --json-log "$LOG" >"$KVM_DIR/agent.out" 2>&1 &
apid=$!
echo "$apid" >"$KVM_DIR/agent.pid"
"$MV" record --connect $KVM_URI --host-memory 1.2G --interval 1s --sample-period 5s --duration $((DUR - 5))s --agent-log "$LOG" \
	-o "$KVM_DIR/rec/host.xml" >"$KVM_DIR/record.out" 2>&1 &
rpid=$!
echo "$rpid" >"$KVM_DIR/record.pid"
t_stop=""
rmin=$((RESV * 1024 + 1))
while kill -0 $apid 2>/dev/null; do
	if [ -z "$t_stop" ] && grep -aq '^mv: busy stopped' "$(kvm_log busy)"; then
		t_stop=$(now)
	fi
	a=$(kvm_stat resv actual)
	[ -n "$a" ] && [ "$a" -lt "$rmin" ] && rmin=$a
	sleep 1
done
wait $apid
arc=$?
wait $rpid
rrc=$?
rm -f "$KVM_DIR/agent.pid" "$KVM_DIR/record.pid"
[ $arc -eq 0 ] && ok "agent exited 0" || { bad "agent exited $arc: $(tail -3 "$KVM_DIR/agent.out")"; }
[ -n "$t_stop" ] || { bad "busy guest never stopped during the agent's run"; t_stop=$(now); }
[ "$rmin" -ge $((RESV * 1024)) ] && ok "dommemstat: resv's actual never below $RESV MiB (lowest seen $rmin KiB)" ||
	bad "dommemstat: resv's actual $rmin KiB, below its reservation $((RESV * 1024)) KiB"
kvm_agentlog guests "$LOG" "$(kvm_dom idle)" "$(kvm_dom busy)" "$(kvm_dom resv)" $((RESV * 1024)) "$t_stop"
for g in idle busy resv; do
	o=$(kvm_oom $g)
	[ "$o" -eq 0 ] && ok "no OOM in $g (MemFree $(kvm_memfree $g) KiB at the end)" || bad "$g: $o OOM kills on its console"
done
grep '^  cost:' "$KVM_DIR/agent.out" | sed 's/^ *cost: /note: agent cost with 3 real guests: /'
note "agent $(grep '^memvisor agent:' "$KVM_DIR/agent.out"); $(grep 'balloon changes' "$KVM_DIR/agent.out" | sed 's/^ *//')"

# the recording, replayed by the simulator
if [ $rrc -eq 0 ] && [ -f "$KVM_DIR/rec/host.xml" ]; then
	ok "memvisor record wrote $(ls "$KVM_DIR/rec" | wc -l) files"
	if MEMVISOR=$MV python3 "$KVM_ROOT/scripts/agent-compare.py" "$KVM_DIR/rec/host.xml" "$KVM_DIR/rec/sim" \
		>"$KVM_DIR/compare.md" 2>"$KVM_DIR/compare.err"; then
		ok "replayed by memvisor run and compared"
		sed 's/^/note: compare: /' "$KVM_DIR/compare.md"
	else
		bad "agent-compare.py failed: $(tail -2 "$KVM_DIR/compare.err")"
	fi
	[ -n "${MV_AGENT_KEEP:-}" ] && cp -r "$KVM_DIR/rec" "$KVM_DIR/agent.jsonl" "$MV_AGENT_KEEP/"
else
	bad "memvisor record exited $rrc: $(tail -2 "$KVM_DIR/record.out")"
fi
kvm_finish
