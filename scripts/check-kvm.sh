#!/bin/sh
# `make check-kvm`: the end-to-end tests with real QEMU guests through
# libvirt (tests/kvm/test_*.sh; docs/agent.md, "Real guests for the tests").
# Sets up libvirt (scripts/kvm-setup.sh), checks that QEMU runs, builds the
# guest once, runs each test (one at a time: the KSM test changes a
# system-wide setting), then stops the daemons it started, by PID.
# Prints "check-kvm: SKIPPED: <reason>" and exits 0 only where libvirtd
# cannot start or QEMU cannot run; otherwise one line per test and
# "check-kvm: N passed, N failed, N skipped"; exits 1 if any failed.
# usage: check-kvm.sh [TEST...]   (default: every tests/kvm/test_*.sh)
# MV_KVM_LOGS=DIR keeps a copy of each test's whole output (its ok: lines
# too) in DIR.
set -u
cd "$(dirname "$0")/.."
root=$PWD
LIMIT=${MV_KVM_TEST_LIMIT:-300} # s per test
state=$(mktemp -d /tmp/mv-check-kvm.XXXXXX)
chmod 755 "$state"
export MV_KVM_PIDFILE="$state/daemons.pids"
finish() {
	rc=$?
	trap - EXIT INT TERM
	"$root/scripts/kvm-setup.sh" --stop | sed 's/^/check-kvm: /'
	if [ "$rc" -eq 0 ]; then
		rm -rf "$state"
	else
		echo "check-kvm: each test's output kept in $state"
	fi
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM
skipped() {
	echo "check-kvm: SKIPPED: $*"
	exit 0
}

t_all=$(date +%s)
[ "$(id -u)" -eq 0 ] || skipped "needs root to start libvirtd for qemu:///system"
if ! err=$(scripts/kvm-setup.sh 2>&1); then
	skipped "$(echo "$err" | grep '^kvm-setup:' | tail -1)"
fi
echo "$err" | grep . | sed 's/^/check-kvm: /'
# QEMU itself: can it start a machine here (TCG needs no /dev/kvm)?
if ! out=$(echo quit | timeout 30 qemu-system-x86_64 -machine none -accel tcg -nodefaults -display none \
	-monitor stdio 2>&1); then
	skipped "qemu-system-x86_64 cannot run: $(echo "$out" | grep . | tail -1)"
fi
if ! out=$(tests/kvm/mkguest.sh "$state/guest" 2>&1); then
	echo "check-kvm: FAIL: $out"
	echo "check-kvm: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
export MV_KVM_GUEST="$state/guest"

tests=${*:-$(ls tests/kvm/test_*.sh)}
pass=0 fail=0 skip=0
for t in $tests; do
	name=$(basename "$t" .sh)
	log="$state/$name.log"
	t0=$(date +%s)
	timeout -s TERM -k 30 "$LIMIT" "$t" >"$log" 2>&1
	rc=$?
	dt=$(($(date +%s) - t0))
	[ -n "${MV_KVM_LOGS:-}" ] && mkdir -p "$MV_KVM_LOGS" && cp "$log" "$MV_KVM_LOGS/"
	case $rc in
	0)
		pass=$((pass + 1))
		echo "PASS $name (${dt} s)"
		grep '^note: ' "$log" | sed 's/^/    /'
		;;
	77)
		skip=$((skip + 1))
		echo "SKIP $name: $(grep '^SKIP: ' "$log" | tail -1 | sed 's/^SKIP: //')"
		;;
	*)
		fail=$((fail + 1))
		[ $rc -eq 124 ] && echo "FAIL $name (timed out after $LIMIT s)" || echo "FAIL $name (exit $rc, ${dt} s)"
		tail -40 "$log" | sed 's/^/    /'
		;;
	esac
done
echo "check-kvm: $pass passed, $fail failed, $skip skipped ($(($(date +%s) - t_all)) s)"
[ $fail -eq 0 ]
