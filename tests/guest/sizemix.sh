#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the L2 guest (swiotlb=force): the sizes of the bounce buffers that
# real I/O asks swiotlb for, from the swiotlb_bounced tracepoint, on every
# virtio-blk and NVMe disk, for three workloads:
#
#   bdev    dd through the block device's page cache: 4 MiB written and
#           read back in blocks of 512 B to 1 MiB (writeback and readahead
#           decide the request sizes)
#   direct  blkverify: O_DIRECT writes and reads of every size from 512 B
#           to 1 MiB at shifting buffer alignments, 8 MiB, one pass
#   fs      an ext2 file system: mke2fs, files of 1 KiB to 8 MiB written,
#           synced, the cache dropped, everything read back
#
# A mapping needs a slot of at least its size plus the bits of the device's
# min_align_mask in its address (docs/cc-swiotlb.md); the histogram counts
# mappings by that need.  Results go to the data channel as
#   mix.DISK.WORKLOAD.BUCKET=MAPPINGS BYTES
#   mix.DISK.WORKLOAD.lost=EVENTS     (events the trace buffer dropped)
# with BUCKET the smallest of 64 512 2K 4K 16K 64K 128K 256K 512K 1M that
# holds the need, or "more".
#
# usage: sizemix.sh
. /test/lib.sh
t=/sys/kernel/tracing
fail=0

report_start
grep -q " $t " /proc/mounts || mount -t tracefs tracefs $t || {
	report "error=no tracefs (CONFIG_FTRACE)"
	report "result=fail"
	exit 1
}
ev=$t/events/swiotlb/swiotlb_bounced
[ -d $ev ] || { report "error=no swiotlb_bounced event"; report "result=fail"; exit 1; }
echo 16384 >$t/buffer_size_kb

# The sum of the per-CPU overrun counts.
lost() {
	cat $t/per_cpu/cpu*/stats | awk '/^overrun:/ { n += $2 } END { print n + 0 }'
}

# start: an empty buffer, the event on.
start() {
	echo 0 >$ev/enable
	: >$t/trace
	echo 1 >$ev/enable
}

# histogram DISK WORKLOAD MASK: report the mappings traced since start().
histogram() {
	echo 0 >$ev/enable
	report "mix.$1.$2.lost=$(lost)"
	awk -v key="mix.$1.$2" -v mask="$3" '
	function hexlow(s,   v, i, c) {
		# The value of the last three hex digits of s.
		v = 0
		s = substr(s, length(s) - 2)
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			v = v * 16 + c
		}
		return v
	}
	/swiotlb_bounced:/ {
		size = addr = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^size=/) size = substr($i, 6) + 0
			if ($i ~ /^dev_addr=/) addr = substr($i, 10)
		}
		if (size == "")
			next
		need = size + (mask ? and(hexlow(addr), mask) : 0)
		b = "more"
		for (j = 1; j <= nb; j++)
			if (need <= lim[j]) { b = name[j]; break }
		cnt[b]++
		bytes[b] += size
		total++
	}
	BEGIN {
		nb = split("64 512 2K 4K 16K 64K 128K 256K 512K 1M", name, " ")
		split("64 512 2048 4096 16384 65536 131072 262144 524288 1048576", lim, " ")
	}
	END {
		for (j = 1; j <= nb; j++)
			if (cnt[name[j]])
				print key "." name[j] "=" cnt[name[j]] " " bytes[name[j]]
		if (cnt["more"])
			print key ".more=" cnt["more"] " " bytes["more"]
		print key ".total=" total + 0
	}' $t/trace >/tmp/mix.out
	while read -r line; do
		report "$line"
	done </tmp/mix.out
}

# An NVMe controller scans its namespaces after probe: wait for them.
for c in /sys/class/nvme/nvme*; do
	[ -e "$c" ] || continue
	wait_for 20 'ls -d "/sys/block/${c##*/}n"* >/dev/null 2>&1'
done

disks=0
mkdir -p /mnt/fs
for b in /sys/block/vd* /sys/block/nvme*n*; do
	[ -e "$b" ] || continue
	n=${b##*/}
	d=/dev/$n
	disks=$((disks + 1))
	# NVMe keeps the low 12 bits of every address (NVME_CTRL_PAGE_SIZE).
	mask=0
	case $n in nvme*) mask=4095 ;; esac

	start
	for bs in 512 4096 16384 65536 262144 1048576; do
		count=$((4194304 / bs))
		dd if=/dev/zero of=$d bs=$bs count=$count 2>/dev/null || fail=1
		echo 3 >/proc/sys/vm/drop_caches
		dd if=$d of=/dev/null bs=$bs count=$count 2>/dev/null || fail=1
	done
	histogram "$n" bdev $mask

	start
	/test/blkverify -b 8 -p 1 $d >/dev/null 2>&1 || fail=1
	histogram "$n" direct $mask

	start
	if mke2fs -q -F $d >/dev/null 2>&1 && mount -t ext2 $d /mnt/fs; then
		i=0
		for kb in 1 3 4 7 16 60 64 130 256 600 1024 8192; do
			dd if=/dev/urandom of=/mnt/fs/f$i bs=1024 count=$kb 2>/dev/null
			i=$((i + 1))
		done
		mkdir /mnt/fs/small
		for i in $(seq 1 100); do
			echo "$i" >/mnt/fs/small/$i
		done
		cp /bin/busybox /mnt/fs/busybox
		sync
		umount /mnt/fs
		echo 3 >/proc/sys/vm/drop_caches
		mount -t ext2 $d /mnt/fs
		cat /mnt/fs/f* /mnt/fs/busybox /mnt/fs/small/* >/dev/null
		umount /mnt/fs
	else
		report "error=$n: mke2fs or mount failed"
		fail=1
	fi
	histogram "$n" fs $mask
done
report "mix.disks=$disks"
[ $disks -gt 0 ] || fail=1
report "result=$([ $fail = 0 ] && echo pass || echo fail)"
exit $fail
