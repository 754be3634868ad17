#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# apply.sh linux|qemu
#
# Put our work on top of the pristine tree from fetch.sh, as git commits, one
# series per component:
#
#   linux: guest     guest/files/      + guest/patches/*.patch
#          host      host/kvm/files/   + host/kvm/patches/*.patch
#          selftests selftests/        + selftests/patches/*.patch
#                    (files mirrored under tools/testing/selftests/kvm/)
#   qemu:  qemu      qemu-patches/files/ + qemu-patches/patches/*.patch
#
# Patches are git-format-patch mails applied with `git am`.  Whole new files
# are copied to the same path in the tree; a file that already exists
# upstream is an error (changes to upstream files must be patches).  Each
# whole file is brought in by the patch that names it, relative to the
# component's files directory, in a "Project-Files:" line of its commit
# message (the line is dropped from the commit), so the emitted series
# reads as it would on a mailing list; a patch may have no diff at all,
# only such lines.  Each series ends in a tag named after its component, so
# `make patches` can emit base..guest, guest..host, host..selftests and
# base..qemu.
#
# The tree is rebuilt from "base" only when an input changed.  If someone
# committed to or edited the tree by hand since the last apply, nothing is
# thrown away: the script stops and says so (FORCE=1 overrides).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=${1:?usage: apply.sh linux|qemu}
T=$BUILD/src/$tree
[ -d "$T/.git" ] || die "$T is missing: run scripts/fetch.sh $tree first"

case $tree in
linux) comps=("guest:guest/files:guest/patches:."
	      "host:host/kvm/files:host/kvm/patches:."
	      "selftests:selftests:selftests/patches:tools/testing/selftests/kvm") ;;
qemu)  comps=("qemu:qemu-patches/files:qemu-patches/patches:.") ;;
*)     die "unknown tree '$tree'" ;;
esac

inputs=("$TOP/pins.mk" "$0")
for c in "${comps[@]}"; do
	IFS=: read -r _ f p _ <<<"$c"
	inputs+=("$TOP/$f" "$TOP/$p")
done
want=$(tree_hash "${inputs[@]}")
stamp=$T.applied
if [ -f "$stamp" ]; then
	read -r have_hash have_head <"$stamp"
	head=$(git -C "$T" rev-parse HEAD)
	dirty=$(git -C "$T" status --porcelain)
	if [ "$have_hash" = "$want" ] && [ "$head" = "$have_head" ] && [ -z "$dirty" ]; then
		exit 0
	fi
	if [ "${FORCE:-0}" != 1 ] && { [ "$head" != "$have_head" ] || [ -n "$dirty" ]; }; then
		die "$T was changed by hand since the last apply (commits or edits);
       export them (make patches), or rerun with FORCE=1 to discard them"
	fi
else
	# Never applied: the tree must still be the pristine base.
	[ "$(git -C "$T" rev-parse HEAD)" = "$(git -C "$T" rev-parse base)" ] ||
		[ "${FORCE:-0}" = 1 ] || die "$T is not at its base and has no apply stamp (FORCE=1 to reset)"
fi

am() {
	git -C "$T" am -q --keep-cr "$@"
}

# add_file FILESDIR DEST FILE: copy one whole file into the tree and stage it.
add_file() {
	local src=$TOP/$1/$3 dst=$T/$2/$3
	if git -C "$T" cat-file -e "base:$(realpath -m --relative-to="$T" "$dst")" 2>/dev/null; then
		die "$1/$3 exists upstream: change it with a patch instead"
	fi
	install -D -m "$(stat -c %a "$src")" "$src" "$dst"
	git -C "$T" add "$dst"
}

msg "$tree: applying our files and patches"
git -C "$T" reset -q --hard base
git -C "$T" clean -qfdx
for c in "${comps[@]}"; do
	IFS=: read -r name files patches dest <<<"$c"
	git -C "$T" tag -d "$name" >/dev/null 2>&1 || true
	shopt -s nullglob
	series=("$TOP/$patches"/*.patch)
	shopt -u nullglob
	# Whole files (the files directory minus its patches/ and docs).
	all=$(cd "$TOP/$files" 2>/dev/null &&
		find . -type f ! -path './patches/*' ! -name '*.md' ! -name '.gitkeep' |
		sed 's|^\./||' | LC_ALL=C sort) || true
	claimed=$(cat /dev/null "${series[@]}" | sed -n 's/^Project-Files:[[:space:]]*//p' | tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort -u)
	for f in $claimed; do
		grep -qxF "$f" <<<"$all" || die "a patch in $patches/ names $f, which $files/ does not have"
	done
	unclaimed=$(LC_ALL=C comm -23 <(echo "$all") <(echo "$claimed") | sed '/^$/d')
	[ -z "$unclaimed" ] ||
		die "no patch in $patches/ names these files in a Project-Files: line:" $unclaimed
	for p in "${series[@]}"; do
		mine=$(sed -n 's/^Project-Files:[[:space:]]*//p' "$p")
		if am "$p" >"$BUILD/apply-am.log" 2>&1; then
			for f in $mine; do add_file "$files" "$dest" "$f"; done
		elif [ -n "$mine" ] && ! grep -q '^diff --git' "$p"; then
			# A patch that only brings whole files: git am stops at
			# the empty diff; hand it the files and let it commit.
			for f in $mine; do add_file "$files" "$dest" "$f"; done
			am --continue >"$BUILD/apply-am.log" 2>&1 ||
				{ cat "$BUILD/apply-am.log" >&2; die "$p: cannot commit its files"; }
		else
			cat "$BUILD/apply-am.log" >&2
			git -C "$T" am --abort 2>/dev/null || true
			die "$p does not apply"
		fi
		# Take the staged files into the commit and drop the
		# Project-Files: lines from its message.
		[ -z "$mine" ] || git -C "$T" log -1 --format=%B | sed '/^Project-Files:/d' |
			git -C "$T" commit -q --amend --no-verify -F -
	done
	git -C "$T" tag "$name"
done
printf '%s %s\n' "$want" "$(git -C "$T" rev-parse HEAD)" >"$stamp"
