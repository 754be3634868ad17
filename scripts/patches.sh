#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# patches.sh [--check]: emit our work as git format-patch series, one per
# component, into build/patches/<component>/:
#
#   guest      base..guest       (linux tree)
#   host       guest..host       (linux tree)
#   selftests  host..selftests   (linux tree)
#   qemu       base..qemu        (qemu tree)
#
# With --check, also run the tree's own checkpatch.pl on each series
# (--strict for the kernel) and fail if it reports errors or warnings.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

check=0
[ "${1:-}" = --check ] && check=1
P=$BUILD/patches
rm -rf "$P"
bad=0
series() {
	local tree=$1 name=$2 range=$3 n
	local T=$BUILD/src/$tree
	mkdir -p "$P/$name"
	git -C "$T" format-patch -q --zero-commit -o "$P/$name" "$range"
	n=$(find "$P/$name" -name '*.patch' | wc -l)
	msg "$name: $n patches in $P/$name"
	[ "$check" = 1 ] && [ "$n" -gt 0 ] || return 0
	local cp=("$T/scripts/checkpatch.pl" --no-tree --quiet)
	[ "$tree" = linux ] && cp+=(--strict --ignore FILE_PATH_CHANGES)
	for f in "$P/$name"/*.patch; do
		if ! "${cp[@]}" "$f"; then
			warn "checkpatch: $(basename "$f")"
			bad=1
		fi
	done
}
series linux guest base..guest
series linux host guest..host
series linux selftests host..selftests
series qemu qemu base..qemu
[ "$bad" = 0 ] || die "checkpatch found problems"
