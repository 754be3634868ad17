#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch.sh linux|qemu|firmware
#
# Fetch a pinned upstream source from Debian's archive (pins.mk) and import
# it into a git tree under build/src/<name> whose first commit, tagged
# "base", is the pristine source.  scripts/apply.sh then adds our files and
# patches on top as commits.  Firmware is unpacked, not imported.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

what=${1:?usage: fetch.sh linux|qemu|firmware}
DL=$BUILD/dl
mkdir -p "$DL" "$BUILD/src"

# import_tree SRC NAME VERSION: move SRC to build/src/NAME as a git tree.
import_tree() {
	local src=$1 name=$2 version=$3 dst=$BUILD/src/$2
	rm -rf "$dst"
	mv "$src" "$dst"
	msg "$name: importing $version into git (pristine base)"
	git -C "$dst" init -q
	git -C "$dst" config core.autocrlf false
	git -C "$dst" config gc.auto 0
	# The upstream .gitignore files would hide generated-but-shipped files.
	find "$dst" -name .gitignore -delete
	# Files the builds write into the source tree are not edits.
	printf '%s\n' .git-submodule-status >>"$dst/.git/info/exclude"
	git_commit_all "$dst" "$name: pristine $version"
	git -C "$dst" tag base
	printf '%s\n' "$version" >"$dst.pin"
}

# Is build/src/NAME already the pristine VERSION?
up_to_date() {
	[ -d "$BUILD/src/$1/.git" ] && [ "$(cat "$BUILD/src/$1.pin" 2>/dev/null)" = "$2" ]
}

fetch_linux() {
	local pkg ver deb tmp
	pkg=$(pin KERNEL_PKG); ver=$(pin KERNEL_VERSION)
	up_to_date linux "$pkg $ver" && return 0
	apt_private_update
	deb=$DL/${pkg}_${ver//:/%3a}_all.deb
	if [ ! -f "$deb" ]; then
		msg "linux: downloading $pkg=$ver"
		(cd "$DL" && apt-get "${APT_OPTS[@]}" -q download "$pkg=$ver") ||
			die "cannot download $pkg=$ver; the archive now has: $(apt-cache "${APT_OPTS[@]}" madison "$pkg" 2>/dev/null | cut -d'|' -f2 | tr -d ' ' | sort -uV | tr '\n' ' ')
       (move the pin in pins.mk)"
	fi
	tmp=$BUILD/src/linux.tmp
	rm -rf "$tmp"; mkdir -p "$tmp"
	msg "linux: unpacking"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" |
		tar -xJ --strip-components=1 -C "$tmp"
	[ -f "$tmp/Makefile" ] || die "$deb: unexpected layout"
	import_tree "$tmp" linux "$pkg $ver"
}

fetch_qemu() {
	local pkg ver dsc tmp
	pkg=$(pin QEMU_SRC_PKG); ver=$(pin QEMU_VERSION)
	up_to_date qemu "$pkg $ver" && return 0
	apt_private_update
	# A .dsc file name carries no epoch.
	dsc=$DL/${pkg}_${ver#*:}.dsc
	if [ ! -f "$dsc" ]; then
		msg "qemu: downloading source $pkg=$ver"
		(cd "$DL" && apt-get "${APT_OPTS[@]}" -q source --download-only "$pkg=$ver") ||
			die "cannot download source $pkg=$ver; the archive now has: $(apt-cache "${APT_OPTS[@]}" showsrc "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | tr '\n' ' ')
       (bookworm keeps only its current point release: move the pin in pins.mk)"
	fi
	tmp=$BUILD/src/qemu.tmp
	rm -rf "$tmp"
	msg "qemu: unpacking with Debian's patches applied"
	dpkg-source -q --no-check -x "$dsc" "$tmp" >/dev/null
	rm -rf "$tmp/.pc" "$BUILD"/src/*.orig.tar.* "$BUILD"/src/*.debian.tar.*
	import_tree "$tmp" qemu "$pkg $ver"
}

fetch_firmware() {
	local p v dst=$BUILD/firmware want
	want=$(pin FIRMWARE_PKGS)
	[ "$(cat "$dst/.pin" 2>/dev/null)" = "$want" ] && return 0
	apt_private_update
	rm -rf "$dst"; mkdir -p "$dst/root"
	for p in $want; do
		msg "firmware: $p"
		(cd "$DL" && apt-get "${APT_OPTS[@]}" -q download "$p") ||
			die "cannot download $p"
		v=${p#*=}
		dpkg-deb -x "$DL/${p%%=*}_${v//:/%3a}_all.deb" "$dst/root"
	done
	printf '%s\n' "$want" >"$dst/.pin"
}

case $what in
linux)    fetch_linux ;;
qemu)     fetch_qemu ;;
firmware) fetch_firmware ;;
*)        die "unknown source '$what'" ;;
esac
