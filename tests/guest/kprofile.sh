#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kprofile.sh N [PROFILE [KALLSYMS]]: the N kernel functions with the most
# profiling ticks in the kernel's tick profile (CONFIG_PROFILING and
# "profile=SHIFT" on the command line: PROFILE, by default /proc/profile,
# holds the step, 2^SHIFT, as its first 32-bit word and then one 32-bit
# count per step bytes of kernel text from _stext to _etext; a write to
# /proc/profile sets the counts to zero).  Each tick of a CPU that was in the kernel counts
# once, where it was, so a function's ticks are its share of the
# kernel's time, time waiting for the host included.
#
# Prints "TICKS FUNCTION" lines, most first, then "TICKS (all)", the
# ticks of every function.  Functions come from KALLSYMS (by default
# /proc/kallsyms; text symbols, in address order).  Exit status 1 when
# PROFILE cannot be read, has no ticks, or does not span _stext to _etext
# (then with a message on standard error).
#
# Runs in the guest under busybox: od(1) prints runs of equal lines of
# PROFILE (mostly zeros) once, so awk sees only the counted stretches.
n=${1:?usage: kprofile.sh N [PROFILE [KALLSYMS]]}
prof=${2:-/proc/profile}
syms=${3:-/proc/kallsyms}
[ -r "$prof" ] && [ -r "$syms" ] || exit 1
# A copy, so that od reads one snapshot.
tmp=/tmp/kprofile.$$
cp "$prof" $tmp || exit 1
od -Ad -t u4 -w16 $tmp | awk -v syms="$syms" -v allf=$tmp.all '
	# hex S: the number of the hex digits S (at most 8 of them: the low
	# 32 bits of a kernel address keep full precision).
	function hex(s,  i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(tolower(s), i, 1)) - 1
		return v
	}
	# count OFF V...: the 32-bit words of one od line at byte offset OFF.
	function count(off, vals, nv,  i, w) {
		for (i = 1; i <= nv; i++) {
			w = off / 4 + i - 1
			if (w == 0)
				step = vals[i]
			else if (vals[i] > 0)
				hits[w - 1] += vals[i]
		}
	}
	BEGIN {
		ns = 0
		while ((getline l < syms) > 0) {
			split(l, f, " ")
			if (f[2] != "t" && f[2] != "T")
				continue
			a = hex(substr(f[1], length(f[1]) - 7))
			if (f[3] == "_stext")
				stext = a
			if (f[3] == "_etext")
				etext = a
			addr[ns] = a
			name[ns] = f[3]
			ns++
		}
		if (stext == "" || !ns) {
			bad = 1
			exit 2
		}
	}
	$1 == "*" { rep = 1; next }
	# The last line: the size of PROFILE.
	NF == 1 {
		size = $1
		sub(/^0+/, "", size)
		size += 0
		next
	}
	{
		# A decimal offset, whose leading zeros busybox awk would read
		# as octal.
		off = $1
		sub(/^0+/, "", off)
		off += 0
		# "*": the line before repeats up to this offset.
		if (rep && nz)
			for (o = prevoff + 16; o < off; o += 16)
				count(o, prev, pn)
		rep = 0
		pn = NF - 1
		nz = 0
		for (i = 1; i <= pn; i++) {
			prev[i] = $(i + 1) + 0
			if (prev[i] > 0 && off + 4 * (i - 1) > 0)
				nz = 1
		}
		prevoff = off
		count(off, prev, pn)
	}
	END {
		if (bad)
			exit 2
		# One count per step bytes from _stext to _etext.
		text = (size / 4 - 1) * step
		if (!step || (etext && (text > etext - stext ||
					text + step <= etext - stext))) {
			printf "kprofile: %d counts of %d bytes do not span " \
			       "_stext to _etext (%d bytes)\n", size / 4 - 1,
			       step, etext - stext >"/dev/stderr"
			exit 3
		}
		for (b in hits) {
			a = stext + b * step
			# The last symbol at or below a.
			lo = 0
			hi = ns - 1
			while (lo < hi) {
				mid = int((lo + hi + 1) / 2)
				if (addr[mid] <= a)
					lo = mid
				else
					hi = mid - 1
			}
			fn[name[lo]] += hits[b]
			all += hits[b]
		}
		for (f in fn)
			print fn[f], f
		print all + 0, "(all)" >allf
	}' >$tmp.fn
all=$(cat $tmp.all 2>/dev/null)
case $all in
'' | "0 "*) st=1 ;;
*) sort -rn $tmp.fn | head -n "$n"; echo "$all"; st=0 ;;
esac
rm -f $tmp $tmp.fn $tmp.all
exit $st
