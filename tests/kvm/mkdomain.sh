#!/bin/sh
# Print the libvirt domain XML of one test guest (tests/kvm/mkguest.sh's
# kernel and initramfs, booted directly) on stdout.
#
#   mkdomain.sh --name NAME --guest DIR --log FILE [options]
#     --memory MIB        <memory>, the most the balloon can give (512)
#     --current MIB       <currentMemory> at start (= --memory)
#     --cmdline "ARGS"    added to "console=ttyS0 ...": mv.work=, mv.ws=, ...
#     --vcpus N           (1)
#     --type qemu|kvm     (qemu: TCG; kvm where /dev/kvm works)
#     --soft-limit MIB, --hard-limit MIB, --min-guarantee MIB
#                         <memtune>; QEMU refuses min_guarantee (docs/agent.md)
#     --shares N          memvisor's shares, in <metadata>:
#         <mv:memvisor xmlns:mv="NS"><mv:shares>N</mv:shares></mv:memvisor>
#                         NS is $MV_SHARES_NS, default
#                         urn:memvisor:domain:1 (virsh metadata
#                         DOMAIN NS prints <memvisor><shares>N</shares>...)
#     --stats-period S    <memballoon><stats period=S> (2)
# The serial console (ttyS0) goes to FILE; the guest has no disk, network,
# USB or graphics. Bad arguments: one line, exit 2.
set -u
name="" guest="" log="" mem=512 cur="" cmdline="" vcpus=1 type=qemu
soft="" hard="" ming="" shares="" period=2
ns=${MV_SHARES_NS:-urn:memvisor:domain:1}
usage() {
	echo "mkdomain: $1 (usage: mkdomain.sh --name NAME --guest DIR --log FILE [--memory MIB] ...)" >&2
	exit 2
}
num() { case "$2" in '' | *[!0-9]*) usage "$1 needs a whole number, got '$2'" ;; esac; }
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage "$1 needs a value"
	case "$1" in
	--name) name=$2 ;;
	--guest) guest=$2 ;;
	--log) log=$2 ;;
	--memory) num "$1" "$2"; mem=$2 ;;
	--current) num "$1" "$2"; cur=$2 ;;
	--cmdline) cmdline=$2 ;;
	--vcpus) num "$1" "$2"; vcpus=$2 ;;
	--type) case "$2" in qemu | kvm) type=$2 ;; *) usage "--type is qemu or kvm, got '$2'" ;; esac ;;
	--soft-limit) num "$1" "$2"; soft=$2 ;;
	--hard-limit) num "$1" "$2"; hard=$2 ;;
	--min-guarantee) num "$1" "$2"; ming=$2 ;;
	--shares) num "$1" "$2"; shares=$2 ;;
	--stats-period) num "$1" "$2"; period=$2 ;;
	*) usage "unknown option '$1'" ;;
	esac
	shift 2
done
[ -n "$name" ] || usage "--name is required"
[ -n "$guest" ] || usage "--guest is required"
[ -n "$log" ] || usage "--log is required"
[ -f "$guest/vmlinuz" ] && [ -f "$guest/initrd.gz" ] || usage "--guest $guest has no vmlinuz/initrd.gz (run mkguest.sh)"
[ -n "$cur" ] || cur=$mem
[ "$cur" -le "$mem" ] || usage "--current $cur is above --memory $mem"
guest=$(cd "$guest" && pwd)
case "$log" in /*) ;; *) log=$PWD/$log ;; esac

echo "<domain type='$type'>"
echo "  <name>$name</name>"
if [ -n "$shares" ]; then
	echo "  <metadata>"
	echo "    <mv:memvisor xmlns:mv=\"$ns\"><mv:shares>$shares</mv:shares></mv:memvisor>"
	echo "  </metadata>"
fi
echo "  <memory unit='MiB'>$mem</memory>"
echo "  <currentMemory unit='MiB'>$cur</currentMemory>"
if [ -n "$soft$hard$ming" ]; then
	echo "  <memtune>"
	[ -n "$hard" ] && echo "    <hard_limit unit='MiB'>$hard</hard_limit>"
	[ -n "$soft" ] && echo "    <soft_limit unit='MiB'>$soft</soft_limit>"
	[ -n "$ming" ] && echo "    <min_guarantee unit='MiB'>$ming</min_guarantee>"
	echo "  </memtune>"
fi
cat <<EOF
  <vcpu>$vcpus</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.gz</initrd>
    <cmdline>console=ttyS0 loglevel=5 panic=-1 no_timer_check $cmdline</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$log'/>
      <target port='0'/>
    </serial>
    <memballoon model='virtio'>
      <stats period='$period'/>
    </memballoon>
  </devices>
</domain>
EOF
