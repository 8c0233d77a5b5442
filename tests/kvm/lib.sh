# Sourced by tests/kvm/test_*.sh: real QEMU guests through libvirt for the
# end-to-end tests (docs/agent.md, "Real guests for the tests").
#
#   kvm_init NAME             set up libvirt (scripts/kvm-setup.sh), build or
#                             reuse the guest, install the EXIT trap; exits 77
#                             ("SKIP: reason") where libvirt or QEMU cannot run
#   kvm_start NAME [mkdomain.sh options]
#                             start a transient guest (virsh create); its
#                             libvirt name is $KVM_PREFIX-NAME
#   kvm_wait_boot NAME [S]    until dommemstat shows every balloon field and
#                             the console says "mv: boot done"; prints the
#                             seconds since its virsh create
#   kvm_stat NAME FIELD       one dommemstat field (KiB), empty if absent
#   kvm_setmem NAME MIB       virsh setmem --live
#   kvm_memfree NAME          the guest's last MemFree (KiB) from its console
#   kvm_memfree_after NAME T  the first MemFree the guest printed at its t >= T
#   kvm_uptime NAME           the guest's last printed t (s since its boot)
#   kvm_oom NAME              OOM kills seen in the console (kernel lines and
#                             the guest's oom_kill counter); 0 when none
#   kvm_pid NAME              the QEMU process's PID
#   kvm_rss NAME              the QEMU process's RSS (KiB, /proc/PID/status)
#   kvm_cpu NAME              the QEMU process's CPU seconds (user + system)
#   kvm_can_memlock           true where <hard_limit> can work (libvirt sets
#                             the QEMU's RLIMIT_MEMLOCK to it)
#   ok MSG / bad MSG / note MSG   results; kvm_finish exits 0 or 1
# The EXIT trap destroys every guest this test started (and kills, by PID, a
# QEMU of ours that libvirt could not destroy), runs the test's own
# kvm_on_exit if defined (e.g. to restore KSM), and stops only the daemons
# kvm-setup.sh started for this test (by PID, from its pid file).
# Guests' console logs are in $KVM_DIR, kept when a check failed.
# MV_KVM_TYPE=kvm runs the guests with KVM instead of TCG (default qemu).

KVM_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KVM_URI=qemu:///system
KVM_FAILS=0
V="virsh -q -c $KVM_URI"

ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	KVM_FAILS=$((KVM_FAILS + 1))
}
note() { echo "note: $*"; }
skip() {
	echo "SKIP: $*"
	exit 77
}
now() { date +%s.%N; }
# seconds since T0 with one decimal
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

kvm_cleanup() {
	rc=$?
	trap - EXIT INT TERM
	# a memvisor agent or record of this test still running: by its PID
	for f in "$KVM_DIR"/agent.pid "$KVM_DIR"/record.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null && wait "$(cat "$f")" 2>/dev/null
	done
	if [ -f "$KVM_DIR/guests" ]; then
		while read -r g; do
			$V domstate "$g" >/dev/null 2>&1 && $V destroy "$g" >/dev/null 2>&1
		done <"$KVM_DIR/guests"
	fi
	# a QEMU that libvirt could not destroy (libvirtd down): by its PID
	for f in "$KVM_DIR"/*.qemupid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		n=$(basename "$f" .qemupid)
		# still that guest's QEMU (its command line names the domain)?
		if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "guest=$(kvm_dom "$n"),"; then
			kill "$p"
			echo "note: killed QEMU $p ($n): libvirt did not destroy it"
		fi
	done
	command -v kvm_on_exit >/dev/null 2>&1 && kvm_on_exit
	MV_KVM_PIDFILE=$KVM_DIR/daemons.pids "$KVM_ROOT/scripts/kvm-setup.sh" --stop
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
		rm -rf "$KVM_DIR"
	else
		echo "note: logs kept in $KVM_DIR"
	fi
	exit "$rc"
}

kvm_init() {
	KVM_NAME=$1
	KVM_PREFIX=mvtest-$1-$$
	KVM_DIR=$(mktemp -d "/tmp/mv-kvm-$1.XXXXXX")
	chmod 755 "$KVM_DIR"
	trap kvm_cleanup EXIT
	trap 'exit 130' INT TERM
	[ "$(id -u)" -eq 0 ] || skip "needs root (libvirtd for $KVM_URI)"
	if ! err=$(MV_KVM_PIDFILE=$KVM_DIR/daemons.pids "$KVM_ROOT/scripts/kvm-setup.sh" 2>&1 >/dev/null); then
		skip "$(echo "$err" | grep '^kvm-setup:' | tail -1)"
	fi
	if [ -n "${MV_KVM_GUEST:-}" ] && [ -f "$MV_KVM_GUEST/initrd.gz" ]; then
		KVM_GUEST=$MV_KVM_GUEST
	else
		KVM_GUEST=$KVM_DIR/guest
		"$KVM_ROOT/tests/kvm/mkguest.sh" "$KVM_GUEST" >/dev/null || skip "could not build the guest (tests/kvm/mkguest.sh)"
	fi
	: >"$KVM_DIR/guests"
}

kvm_dom() { echo "$KVM_PREFIX-$1"; }
kvm_log() { echo "$KVM_DIR/$1.console"; }

kvm_start() {
	n=$1
	shift
	d=$(kvm_dom "$n")
	"$KVM_ROOT/tests/kvm/mkdomain.sh" --name "$d" --type "${MV_KVM_TYPE:-qemu}" --guest "$KVM_GUEST" --log "$(kvm_log "$n")" "$@" \
		>"$KVM_DIR/$n.xml" || return 1
	echo "$d" >>"$KVM_DIR/guests"
	now >"$KVM_DIR/$n.t0"
	$V create "$KVM_DIR/$n.xml" >/dev/null || return 1
	kvm_pid "$n" >"$KVM_DIR/$n.qemupid"
}

kvm_stat() {
	$V dommemstat "$(kvm_dom "$1")" 2>/dev/null | awk -v f="$2" '$1 == f { print $2 }'
}

kvm_wait_boot() {
	t0=$(cat "$KVM_DIR/$1.t0")
	lim=${2:-90}
	while :; do
		s=$($V dommemstat "$(kvm_dom "$1")" 2>/dev/null)
		all=1
		for f in actual unused available usable rss; do
			echo "$s" | grep -q "^$f " || all=0
		done
		if [ $all -eq 1 ] && grep -q '^mv: boot done' "$(kvm_log "$1")" 2>/dev/null; then
			since "$t0"
			echo
			return 0
		fi
		[ "$(since "$t0" | cut -d. -f1)" -ge "$lim" ] && return 1
		sleep 0.5
	done
}

kvm_setmem() { $V setmem "$(kvm_dom "$1")" "$2M" --live >/dev/null; }

kvm_memfree() {
	grep -a '^mv: t=' "$(kvm_log "$1")" | tail -1 | sed 's/.*MemFree=\([0-9]*\).*/\1/'
}
kvm_uptime() {
	grep -a '^mv: t=' "$(kvm_log "$1")" | tail -1 | sed 's/^mv: t=\([0-9]*\).*/\1/'
}
kvm_memfree_after() {
	grep -a '^mv: t=' "$(kvm_log "$1")" |
		awk -v t="$2" '{ split($2, a, "="); if (a[2] + 0 >= t) { split($3, m, "="); print m[2]; exit } }'
}

kvm_oom() {
	l=$(kvm_log "$1")
	k=$(grep -a -c -E 'invoked oom-killer|Out of memory|oom-kill:' "$l")
	c=$(grep -a '^mv: t=' "$l" | tail -1 | sed -n 's/.*oom_kill=\([0-9]*\).*/\1/p')
	echo $((k + ${c:-0}))
}

kvm_pid() { cat "/run/libvirt/qemu/$(kvm_dom "$1").pid" 2>/dev/null; }
kvm_rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$(kvm_pid "$1")/status"; }
# CPU seconds (user + system) the QEMU process has used
kvm_cpu() {
	awk -v h="$(getconf CLK_TCK)" '{ printf "%.1f\n", ($14 + $15) / h }' "/proc/$(kvm_pid "$1")/stat"
}

# can this host raise RLIMIT_MEMLOCK (libvirt does so for <hard_limit>)?
kvm_can_memlock() { sh -c 'ulimit -l unlimited' 2>/dev/null; }

# until the guest's console has a line matching the regular expression (S s)
kvm_wait_console() {
	t0=$(now)
	until grep -aq "$2" "$(kvm_log "$1")" 2>/dev/null; do
		[ "$(since "$t0" | cut -d. -f1)" -ge "${3:-60}" ] && return 1
		sleep 0.5
	done
}

# skip where guests other than this test's run on qemu:///system: the agent
# manages every running guest, and must not balloon someone else's
kvm_foreign_guests() {
	o=$($V list --name 2>/dev/null | grep -v "^$KVM_PREFIX-" | grep .)
	[ -z "$o" ] || skip "other guests run on $KVM_URI ($(echo $o)); the agent would manage them too"
}

# tests/kvm/agentlog.py CHECK LOG ARGS: its ok/FAIL/note lines through
# ok/bad/note
kvm_agentlog() {
	python3 "$KVM_ROOT/tests/kvm/agentlog.py" "$@" >"$KVM_DIR/agentlog.out" 2>&1 ||
		echo "FAIL: agentlog.py $1: $(tail -1 "$KVM_DIR/agentlog.out")" >>"$KVM_DIR/agentlog.out"
	while IFS= read -r l; do
		case $l in
		"ok: "*) ok "${l#ok: }" ;;
		"note: "*) note "${l#note: }" ;;
		"FAIL: "*) bad "${l#FAIL: }" ;;
		*) echo "$l" ;;
		esac
	done <"$KVM_DIR/agentlog.out"
}

kvm_finish() {
	if [ "$KVM_FAILS" -eq 0 ]; then
		exit 0
	fi
	exit 1
}
