#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh VARIANT...
#
# Build kernels from the one patched tree (build/src/linux) into
# build/obj/VARIANT, where VARIANT is host, guest, host-debug, guest-debug,
# host-bench, guest-bench, guest-fixed or guest-bench-fixed.  The config is
# `make tinyconfig` plus kconfig/common.config, the variant's fragment, and
# one more fragment per suffix, in order: kconfig/debug.config for -debug,
# kconfig/bench.config for -bench, kconfig/fixed.config for -fixed (upstream
# swiotlb without CONFIG_SWIOTLB_DYNAMIC, for make bench), or, where it
# exists, the base's own fragment for the suffix (kconfig/host-bench.config:
# the host for make bench, without lock debugging).  Every
# option the fragments ask for must survive olddefconfig, or the build stops
# and names it.  The compiler runs under ccache.  CONFIG_ONLY=1 stops after
# configuring.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=$BUILD/src/linux
[ -f "$SRC/Makefile" ] || die "no kernel tree: run scripts/fetch.sh linux"
[ $# -gt 0 ] || die "usage: build-kernel.sh host|guest|host-debug|guest-debug|host-bench|guest-bench|guest-fixed|guest-bench-fixed..."

KMAKE=(make -C "$SRC" -s "CC=$CC_WRAP" "HOSTCC=$CC_WRAP" LOCALVERSION=
       KBUILD_BUILD_USER=cc-swiotlb KBUILD_BUILD_HOST=build)

# check_config CONFIG FRAGMENT...: every assignment in the fragments holds.
check_config() {
	local cfg=$1 bad=0 line sym val have
	shift
	# Later fragments override earlier ones, as in merge_config.sh.
	declare -A want
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) sym=${line%%=*}; want[$sym]=${line#*=} ;;
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want[$sym]=n ;;
		esac
	done < <(cat "$@")
	for sym in "${!want[@]}"; do
		val=${want[$sym]}
		have=$(grep -E "^$sym=" "$cfg" | cut -d= -f2- || true)
		[ -n "$have" ] || have=n
		if [ "$have" != "$val" ]; then
			printf '  %s: asked for %s, got %s\n' "$sym" "$val" "$have" >&2
			bad=1
		fi
	done
	return $bad
}

build_one() {
	local v=$1 base=${1%%-*} O=$BUILD/obj/$1 frags stamp want suffix
	frags=("$TOP/kconfig/common.config" "$TOP/kconfig/$base.config")
	for suffix in ${v//-/ }; do
		[ "$suffix" = "$base" ] && continue
		# A base can have its own fragment for a suffix: host-bench.config.
		if [ -f "$TOP/kconfig/$base-$suffix.config" ]; then
			frags+=("$TOP/kconfig/$base-$suffix.config")
		else
			frags+=("$TOP/kconfig/$suffix.config")
		fi
	done
	for f in "${frags[@]}"; do [ -f "$f" ] || die "$v: no $f"; done
	mkdir -p "$O"
	stamp=$O/.config-fragments
	want=$(tree_hash "${frags[@]}")
	if [ ! -f "$O/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
		msg "$v: configuring (tinyconfig + ${frags[*]##*/})"
		"${KMAKE[@]}" O="$O" tinyconfig >/dev/null
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$O" "$O/.config" \
			"${frags[@]}" >"$O/merge_config.log" 2>&1 ||
			{ cat "$O/merge_config.log" >&2; die "$v: merge_config failed"; }
		echo "$want" >"$stamp"
	fi
	# Also in an existing build: our patches may have changed the tree's
	# Kconfig since, so settle new symbols at their defaults instead of
	# prompting, and check that the fragments still hold.
	"${KMAKE[@]}" O="$O" olddefconfig >/dev/null
	check_config "$O/.config" "${frags[@]}" ||
		die "$v: the options above did not stick (missing dependency, typo, or a Kconfig change?)"
	if [ "${CONFIG_ONLY:-0}" = 1 ]; then
		msg "$v: configured ($O/.config); CONFIG_ONLY=1, not building"
		return
	fi
	msg "$v: building ($(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"/\1/p' "$O/.config"))"
	local t0=$SECONDS
	"${KMAKE[@]}" O="$O" -j"$JOBS" bzImage ||
		die "$v: kernel build failed"
	# gen_init_cpio builds the guest's initramfs (scripts/mkinitramfs.sh).
	"${KMAKE[@]}" O="$O" usr/gen_init_cpio >/dev/null 2>&1 || true
	msg "$v: $(cat "$O/include/config/kernel.release") built in $((SECONDS - t0))s"
}

for v in "$@"; do
	case $v in
	host|guest|host-debug|guest-debug|host-bench|guest-bench|guest-fixed|guest-bench-fixed)
		build_one "$v" ;;
	*) die "unknown variant '$v'" ;;
	esac
done
