#!/bin/sh
# Build the test guest: the host's Debian cloud kernel and a busybox
# initramfs (docs/agent.md, "Real guests for the tests").
#
#   tests/kvm/mkguest.sh OUTDIR      writes OUTDIR/vmlinuz, OUTDIR/initrd.gz
#
# The initramfs holds busybox-static, the six virtio modules the balloon
# needs (virtio_ring, virtio, virtio_pci_legacy_dev, virtio_pci_modern_dev,
# virtio_pci, virtio_balloon: the cloud kernel builds them as modules; they
# are decompressed here if the kernel ships them as .ko.xz/.ko.zst/.ko.gz,
# since busybox's insmod takes plain ELF) and an /init that runs the
# workload the kernel command line asks for:
#   mv.work=idle        nothing (default)
#   mv.work=busy        keep rewriting a tmpfs file of mv.ws bytes (default
#                       64M; K, M or G suffix) filled once from /dev/urandom
#                       (so KSM finds nothing to merge in it), sleeping
#                       mv.pause s (default 1) between passes
#   mv.stop=N           busy only: N s after the workload began (the fill
#                       included) stop and delete the file, so the memory
#                       is free for the host to take back
#   mv.period=N         print the meminfo line every N s (default 2)
# On ttyS0 it prints "mv: ..." lines: what it does, then every mv.period s
#   mv: t=SECONDS MemFree=KB MemAvailable=KB oom_kill=N
# (oom_kill from /proc/vmstat, so an OOM kill is seen even when the
# kernel's own console message is filtered by the log level).
set -eu
[ $# -eq 1 ] || { echo "usage: mkguest.sh OUTDIR" >&2; exit 2; }
out=$1
kver=${MV_GUEST_KERNEL:-$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V | tail -1)}
[ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ] ||
	{ echo "mkguest: no /boot/vmlinuz-*-cloud-amd64 (install linux-image-cloud-amd64)" >&2; exit 1; }
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx insmod ||
	{ echo "mkguest: /bin/busybox missing or without insmod (install busybox-static)" >&2; exit 1; }
file /bin/busybox 2>/dev/null | grep -q dynamic &&
	{ echo "mkguest: /bin/busybox is dynamically linked (install busybox-static)" >&2; exit 1; }

mkdir -p "$out"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/lib/mv" "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

mods="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_balloon"
for m in $mods; do
	ko=$(modinfo -k "$kver" -n "$m" 2>/dev/null) || ko=""
	case "$ko" in
	"") echo "mkguest: module $m not found for kernel $kver" >&2; exit 1 ;;
	\(builtin\)) continue ;; # nothing to load
	*.ko) cp "$ko" "$root/lib/mv/$m.ko" ;;
	*.ko.xz) xz -dc "$ko" >"$root/lib/mv/$m.ko" ;;
	*.ko.gz) gzip -dc "$ko" >"$root/lib/mv/$m.ko" ;;
	*.ko.zst) command -v zstd >/dev/null || { echo "mkguest: $ko needs zstd to unpack" >&2; exit 1; }
		zstd -qdc "$ko" >"$root/lib/mv/$m.ko" ;;
	*) echo "mkguest: unknown module format $ko" >&2; exit 1 ;;
	esac
done

cat >"$root/init" <<'EOF'
#!/bin/sh
# memvisor test guest (tests/kvm/mkguest.sh): load the balloon, run mv.work
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=100% tmpfs /run
work=idle ws=64M stop=0 pause=1 period=2
for a in $(cat /proc/cmdline); do
	case "$a" in
	mv.work=*) work=${a#*=} ;;
	mv.ws=*) ws=${a#*=} ;;
	mv.stop=*) stop=${a#*=} ;;
	mv.pause=*) pause=${a#*=} ;;
	mv.period=*) period=${a#*=} ;;
	esac
done
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_balloon; do
	[ -f /lib/mv/$m.ko ] || continue
	insmod /lib/mv/$m.ko || echo "mv: insmod $m failed"
done
up() { cut -d. -f1 /proc/uptime; }
kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
echo "mv: boot done t=$(up) balloon=$([ -d /sys/bus/virtio/drivers/virtio_balloon ] && echo loaded || echo missing) work=$work ws=$ws stop=$stop"
# the meminfo printer: never the OOM killer's victim
(
	echo -1000 >/proc/self/oom_score_adj
	while :; do
		echo "mv: t=$(up) MemFree=$(kb MemFree) MemAvailable=$(kb MemAvailable) oom_kill=$(awk '$1 == "oom_kill" { print $2 }' /proc/vmstat)"
		sleep "$period"
	done
) &
if [ "$work" = busy ]; then
	case "$ws" in
	*K) mb=$((${ws%K} / 1024)) ;;
	*M) mb=${ws%M} ;;
	*G) mb=$((${ws%G} * 1024)) ;;
	*) mb=$((ws / 1048576)) ;;
	esac
	t0=$(up)
	dd if=/dev/urandom of=/run/ws bs=1M count="$mb" 2>/dev/null
	echo "mv: busy ws=${mb}M written t=$(up) ($(($(up) - t0)) s)"
	passes=0
	while [ "$stop" -eq 0 ] || [ $(($(up) - t0)) -lt "$stop" ]; do
		dd if=/run/ws of=/run/ws bs=1M count="$mb" conv=notrunc 2>/dev/null
		passes=$((passes + 1))
		[ $passes -eq 1 ] && echo "mv: busy pass 1 done t=$(up)"
		sleep "$pause"
	done
	rm -f /run/ws
	echo "mv: busy stopped t=$(up) after $passes passes; ws freed"
elif [ "$work" != idle ]; then
	echo "mv: unknown mv.work=$work, idling"
fi
while :; do sleep 3600; done
EOF
chmod +x "$root/init"

cp "/boot/vmlinuz-$kver" "$out/vmlinuz"
(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) | gzip -9 >"$out/initrd.gz"
echo "mkguest: $out/vmlinuz ($kver), $out/initrd.gz ($(du -k "$out/initrd.gz" | cut -f1) KiB)"
