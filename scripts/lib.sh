# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the build scripts.  Sourced, never executed.

# shellcheck disable=SC2034
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
JOBS=${JOBS:-$(( $(nproc) + 1 ))}

msg()  { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# pin NAME: the value of NAME in pins.mk.
pin() {
	local v
	# Values may continue on the next lines with a trailing backslash.
	v=$(sed -n -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' \
		-e "s/^$1[[:space:]]*:=[[:space:]]*//p" "$TOP/pins.mk")
	[ -n "$v" ] || die "pins.mk has no $1"
	printf '%s\n' "$v"
}

# Options that point apt at a private state directory and at the project's
# own source list, so fetching never changes the system's apt configuration.
apt_private_opts() {
	local d=$BUILD/apt
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	APT_OPTS=(-o "Dir::Etc::SourceList=$TOP/scripts/debian.list"
		  -o "Dir::Etc::SourceParts=$d/sources.list.d"
		  -o "Dir::State::Lists=$d/lists"
		  -o "Dir::Cache=$d/cache"
		  -o "APT::Sandbox::User=root")
	mkdir -p "$d/sources.list.d"
}

apt_private_update() {
	apt_private_opts
	local stamp=$BUILD/apt/updated
	# Refresh at most once a day.
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		msg "apt: refreshing the private package lists"
		apt-get "${APT_OPTS[@]}" -q update >"$BUILD/apt/update.log" 2>&1 ||
			{ cat "$BUILD/apt/update.log" >&2; die "apt-get update failed"; }
		touch "$stamp"
	fi
}

# tree_hash DIR...: a hash of the contents of the given files/directories,
# used to decide whether a derived tree is stale.
tree_hash() {
	local p
	for p in "$@"; do
		p=$(realpath -m --relative-to="$TOP" "$p")
		[ -e "$TOP/$p" ] || { echo "absent $p"; continue; }
		(cd "$TOP" && find "$p" -type f ! -name '*~' -print0 | LC_ALL=C sort -z |
			xargs -0r sha256sum)
	done | sha256sum | cut -d' ' -f1
}

# git_commit_all DIR MESSAGE: commit everything in DIR with a fixed
# identity, so that pristine bases get the same commit id on every machine.
git_commit_all() {
	local dir=$1 msg=$2
	git -C "$dir" add -A
	GIT_AUTHOR_NAME=$GIT_COMMITTER_NAME GIT_AUTHOR_EMAIL=$GIT_COMMITTER_EMAIL \
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git -C "$dir" commit -q --no-verify -m "$msg"
}

# Whoever runs the build commits into build/src as this identity (patches
# keep their own authors).
export GIT_COMMITTER_NAME="cc-swiotlb build" GIT_COMMITTER_EMAIL="build@localhost"

# The compiler, under ccache when there is one.
CC_WRAP=gcc
command -v ccache >/dev/null && CC_WRAP="ccache gcc"

# The kernels in use: build/obj/{host,guest}, or the -debug variants with
# DEBUG=1 (KASAN; see kconfig/debug.config).
KSUFFIX=
[ "${DEBUG:-0}" = 1 ] && KSUFFIX=-debug
HOST_OBJ=$BUILD/obj/host$KSUFFIX
GUEST_OBJ=$BUILD/obj/guest$KSUFFIX
HOST_KERNEL=$HOST_OBJ/arch/x86/boot/bzImage
GUEST_KERNEL=$GUEST_OBJ/arch/x86/boot/bzImage
# The guest without the dynamic swiotlb, for the fixed-swiotlb variant of
# the hot-plug benchmark (kconfig/fixed.config); FIXED_KERNEL may name
# another build of it.
FIXED_DEFAULT=$BUILD/obj/guest$KSUFFIX-fixed/arch/x86/boot/bzImage
FIXED_KERNEL=${FIXED_KERNEL:-$FIXED_DEFAULT}
GUEST_INITRD=$BUILD/guest-initramfs.cpio

# The host kernel's command line in L1.  TCG's emulation of SVM's virtual
# GIF loses wake-ups of a halted L2 vCPU (L2 froze for minutes with both
# vCPUs in HLT: 2 of 12 I/O rounds in 10 minutes with vGIF, 12 of 12 in 2
# minutes without), so KVM must not use it.  L1 also loses a timer
# interrupt now and then; in one-shot mode nothing re-arms the timer after
# a lost one, and the CPU sleeps with the hrtimers of L2's timers on it
# expired (L2 then stalls with both vCPUs halted).  A periodic local APIC
# timer (no TSC deadline, no high resolution, no NOHZ) fires again at the
# next tick whatever happened to the last: L2 losses with KUnit at boot
# fell from 5 in 6 runs to 0 in 4 (docs/testbed.md).
L1_APPEND="kvm_amd.vgif=0 nohz=off highres=off lapic=notscdeadline ${L1_APPEND:-}"
L1_MEM=${L1_MEM:-4G}
L1_CPUS=${L1_CPUS:-2}

# L0: our TCG build of QEMU (scripts/build-qemu.sh), with its fixes to the
# SVM emulation; L0_QEMU=qemu-system-x86_64 runs Debian's instead.
L0_QEMU=${L0_QEMU:-$BUILD/qemu-l0/qemu-system-x86_64}

# l1_vmrun VMRUN-ARGS...: boot the host kernel in L1 under TCG.
l1_vmrun() {
	MEM=$L1_MEM CPUS=$L1_CPUS ACCEL=tcg QEMU=$L0_QEMU \
		QEMU_FIRMWARE=$BUILD/qemu-firmware \
		"$TOP/scripts/vmrun" -k "$HOST_KERNEL" -a "$L1_APPEND" "$@"
}

# The L1 command that boots this build's guest kernel in L2
# (tests/host/nested.sh); append OUTDIR and optionally a command.
NESTED=(env BUILD="$BUILD" L2_KERNEL="$GUEST_KERNEL" L2_INITRD="$GUEST_INITRD"
	GUEST_APPEND="${GUEST_APPEND:-}" "$TOP/tests/host/nested.sh")
