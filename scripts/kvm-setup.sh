#!/bin/sh
# Make qemu:///system answer on a Debian 12 machine without systemd, so the
# real-guest tests (tests/kvm/, `make check-kvm`) can run QEMU guests through
# libvirt. Idempotent: run it as often as you like.
#
#   scripts/kvm-setup.sh           install, configure, start what is not running
#   scripts/kvm-setup.sh --stop    stop exactly the daemons that the runs
#                                  which wrote $MV_KVM_PIDFILE started
#
# Steps (docs/agent.md, "Real guests for the tests"):
#  1. apt-get install --no-install-recommends the packages below if missing;
#  2. the directories libvirt expects (systemd-tmpfiles would make them),
#     the libvirt-qemu user and group (libvirt-daemon-system would make
#     them; we do not install it, it pulls in systemd units and AppArmor
#     profiles), and /etc/libvirt/qemu.conf if there is none;
#  3. `virtlogd -d` and `libvirtd -d`, each only if no such daemon runs;
#     the PIDs of the daemons THIS run started are appended to
#     $MV_KVM_PIDFILE (default /run/memvisor-kvm/daemons.pids), one
#     "NAME PID" a line, so a test stops those and nothing else;
#  4. wait (up to $MV_KVM_WAIT s, default 30) until
#     `virsh -c qemu:///system version` answers.
# Fails with exit 1 and one line "kvm-setup: ..." saying what is missing.
set -u
PKGS="qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev linux-image-cloud-amd64 busybox-static"
URI=qemu:///system
PIDFILE=${MV_KVM_PIDFILE:-/run/memvisor-kvm/daemons.pids}
WAIT=${MV_KVM_WAIT:-30}

die() {
	echo "kvm-setup: $*" >&2
	exit 1
}

# kill the daemons listed in $PIDFILE, if each is still the program named
stop_daemons() {
	[ -f "$PIDFILE" ] || exit 0
	while read -r name pid; do
		[ -n "$pid" ] || continue
		if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ]; then
			kill "$pid"
			i=0
			while [ -d /proc/"$pid" ] && [ $i -lt 50 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			[ -d /proc/"$pid" ] && kill -9 "$pid"
			echo "kvm-setup: stopped $name (PID $pid)"
		fi
	done <"$PIDFILE"
	rm -f "$PIDFILE"
	exit 0
}

case "${1:-}" in
--stop) stop_daemons ;;
"") ;;
*) echo "kvm-setup: unknown argument '$1' (usage: kvm-setup.sh [--stop])" >&2; exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || die "must run as root (starts libvirtd for qemu:///system)"

# 1. packages
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "kvm-setup: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
		tail -5 "$log" >&2
		rm -f "$log"
		die "apt-get install$missing failed"
	fi
	rm -f "$log"
fi
command -v libvirtd >/dev/null || die "libvirtd not found after installing libvirt-daemon"
command -v virtlogd >/dev/null || die "virtlogd not found after installing libvirt-daemon"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"

# 2. what libvirt-daemon-system and systemd would have made
mkdir -p /var/log/libvirt/qemu /var/run/libvirt /var/lib/libvirt/qemu /var/cache/libvirt/qemu \
	"$(dirname "$PIDFILE")" || die "cannot create libvirt's directories"
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu || die "groupadd libvirt-qemu failed"
if ! getent passwd libvirt-qemu >/dev/null; then
	# in group kvm so that type='kvm' guests can open /dev/kvm
	extra=""
	getent group kvm >/dev/null && extra="-G kvm"
	useradd -r -g libvirt-qemu $extra -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu ||
		die "useradd libvirt-qemu failed"
fi
if [ ! -f /etc/libvirt/qemu.conf ]; then
	mkdir -p /etc/libvirt
	cat >/etc/libvirt/qemu.conf <<'EOF'
# Written by memvisor's scripts/kvm-setup.sh (libvirt-daemon-system, which
# ships the commented default, is not installed). QEMU runs unprivileged as
# libvirt-qemu; libvirt chowns a guest's kernel and initrd to it while the
# guest runs and opens the console log itself.
# No AppArmor/SELinux profiles are installed, so no MAC driver.
user = "libvirt-qemu"
group = "libvirt-qemu"
security_driver = "none"
EOF
fi

# 3. daemons: start each only if none runs, record the ones we start; one
# set-up at a time (two tests starting together would both start libvirtd)
mkdir -p /run/memvisor-kvm
exec 8>/run/memvisor-kvm/setup.lock
flock -w 120 8 || die "another kvm-setup.sh held /run/memvisor-kvm/setup.lock for 120 s"
# is a process named $1 running? (/proc, not pgrep: procps may be absent)
running() {
	for c in /proc/[0-9]*/comm; do
		[ "$(cat "$c" 2>/dev/null)" = "$1" ] && return 0
	done
	return 1
}
start() { # NAME PIDFILE-THE-DAEMON-WRITES
	running "$1" && return 0
	rm -f "$2"
	"$1" -d 8>&- || die "'$1 -d' failed (see /var/log/libvirt or run '$1' in the foreground)"
	i=0
	while [ ! -s "$2" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	pid=$(cat "$2" 2>/dev/null)
	[ -n "$pid" ] && [ -d /proc/"$pid" ] || die "'$1 -d' did not stay up (no live PID in $2)"
	echo "$1 $pid" >>"$PIDFILE"
	echo "kvm-setup: started $1 (PID $pid; recorded in $PIDFILE)" >&2
}
start virtlogd /var/run/virtlogd.pid
start libvirtd /var/run/libvirtd.pid

exec 8>&-

# 4. wait for the connection
i=0
while ! out=$(virsh -c "$URI" version 2>&1); do
	i=$((i + 1))
	[ $i -ge "$WAIT" ] && die "virsh -c $URI version does not answer after ${WAIT} s: $(echo "$out" | grep . | tail -1)"
	sleep 1
done
echo "$out" | grep -q "hypervisor" || die "libvirtd answers but has no QEMU driver: $(echo "$out" | tr '\n' ' ')"
exit 0
