// SPDX-License-Identifier: GPL-2.0
/*
 * blkverify: write known data to a block device with O_DIRECT, read it back
 * and compare, over a mix of transfer sizes and buffer alignments, so that
 * every byte crosses the device's DMA path (and, in a confidential-VM
 * guest, the bounce buffers) in both directions.
 *
 * Each block written carries its own offset, the pass number and a
 * pseudo-random body, so a misplaced, stale or torn transfer is told apart
 * from a correct one.  After the mixed pass, everything is read back once
 * more in a different order.
 *
 * usage: blkverify [-b MiB] [-p passes] [-o ops] [-s seed] DEVICE
 *   -b: the span written and checked (default 64 MiB, at most the device)
 *   -p: mixed passes (default 2); -o: transfers per pass, each a write and
 *   an overlapping read (default 768, 64 of each size)
 * exit status: 0 all data verified, 1 mismatch or I/O error, 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#define SECTOR		512u
#define MAX_XFER	(1024u * 1024u)
/* Misalign the buffer within a page to exercise min_align_mask handling. */
#define BUF_SLACK	4096u

static const uint32_t sizes[] = {
	512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
	131072, 262144, 524288, 1048576,
};
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: cheap, and enough to make every block distinct. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Fill one sector-sized block so that its contents name its origin. */
static void fill_block(unsigned char *p, uint64_t off, uint32_t pass,
		       uint64_t seed)
{
	uint64_t x = seed ^ (off * 0x9e3779b97f4a7c15ull) ^ pass;
	unsigned int i;

	memset(p, 0, 16);
	memcpy(p, &off, sizeof(off));
	memcpy(p + 8, &pass, sizeof(pass));
	for (i = 16; i < SECTOR; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
}

struct stats {
	uint64_t writes, reads, bytes, mismatches, errors;
};

static int do_io(int fd, int write, unsigned char *buf, uint32_t len,
		 uint64_t off, struct stats *st)
{
	ssize_t n;

	n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	if (n != (ssize_t)len) {
		fprintf(stderr, "blkverify: %s of %u bytes at %" PRIu64 " failed: %s\n",
			write ? "write" : "read", len, off,
			n < 0 ? strerror(errno) : "short transfer");
		st->errors++;
		return -1;
	}
	if (write)
		st->writes++;
	else
		st->reads++;
	st->bytes += len;
	return 0;
}

static int check(const unsigned char *got, uint32_t len, uint64_t off,
		 const uint32_t *passmap, uint64_t seed, struct stats *st)
{
	unsigned char want[SECTOR];
	uint32_t i;

	for (i = 0; i < len; i += SECTOR) {
		uint64_t blk = (off + i) / SECTOR;

		fill_block(want, off + i, passmap[blk], seed);
		if (memcmp(want, got + i, SECTOR)) {
			uint64_t got_off;

			memcpy(&got_off, got + i, sizeof(got_off));
			fprintf(stderr,
				"blkverify: mismatch at %" PRIu64 " (pass %u); block claims offset %" PRIu64 "\n",
				off + i, passmap[blk], got_off);
			st->mismatches++;
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t span = 64ull << 20, seed = 1, devsize = 0, off;
	unsigned int passes = 2, ops = 64 * NR_SIZES, pass, i;
	unsigned char *wbuf, *rbuf, *wb, *rb;
	struct stats st = { 0 };
	struct stat sb;
	uint32_t *passmap;
	uint64_t nblocks;
	int fd, opt;

	while ((opt = getopt(argc, argv, "b:p:o:s:")) != -1) {
		switch (opt) {
		case 'b':
			span = strtoull(optarg, NULL, 0) << 20;
			break;
		case 'p':
			passes = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			ops = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || !span || !passes || !ops)
		goto usage;

	fd = open(argv[optind], O_RDWR | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "blkverify: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	/* A regular file works too, for testing blkverify itself. */
	if (!fstat(fd, &sb) && S_ISREG(sb.st_mode))
		devsize = sb.st_size;
	else if (ioctl(fd, BLKGETSIZE64, &devsize))
		devsize = 0;
	if (devsize < 2 * MAX_XFER) {
		fprintf(stderr, "blkverify: %s: need a block device or file of at least 2 MiB\n",
			argv[optind]);
		return 1;
	}
	if (span > devsize)
		span = devsize;
	span &= ~(uint64_t)(MAX_XFER - 1);
	nblocks = span / SECTOR;

	passmap = calloc(nblocks, sizeof(*passmap));
	if (posix_memalign((void **)&wbuf, 4096, MAX_XFER + BUF_SLACK) ||
	    posix_memalign((void **)&rbuf, 4096, MAX_XFER + BUF_SLACK) || !passmap) {
		fprintf(stderr, "blkverify: out of memory\n");
		return 1;
	}
	rng_state = seed | 1;

	/* Lay down a known image first, so every later read has a reference. */
	for (off = 0; off < span; off += MAX_XFER) {
		for (i = 0; i < MAX_XFER; i += SECTOR)
			fill_block(wbuf + i, off + i, 0, seed);
		if (do_io(fd, 1, wbuf, MAX_XFER, off, &st))
			goto out;
	}

	for (pass = 1; pass <= passes; pass++) {
		unsigned int k;

		for (k = 0; k < ops; k++) {
			uint32_t len = sizes[rng() % NR_SIZES];
			uint32_t shift = (rng() % (BUF_SLACK / SECTOR)) * SECTOR;

			off = (rng() % (span - len + 1)) & ~(uint64_t)(SECTOR - 1);
			wb = wbuf + shift;
			rb = rbuf + ((shift + SECTOR) % BUF_SLACK);
			for (i = 0; i < len; i += SECTOR) {
				passmap[(off + i) / SECTOR] = pass;
				fill_block(wb + i, off + i, pass, seed);
			}
			if (do_io(fd, 1, wb, len, off, &st))
				goto out;
			/* Read back a different, overlapping extent. */
			len = sizes[rng() % NR_SIZES];
			off = (rng() % (span - len + 1)) & ~(uint64_t)(SECTOR - 1);
			if (do_io(fd, 0, rb, len, off, &st) ||
			    check(rb, len, off, passmap, seed, &st))
				goto out;
		}
	}

	/* Read everything back, from the end, in 256 KiB transfers. */
	for (off = span; off > 0; ) {
		uint32_t len = 256u * 1024u;

		off -= len;
		if (do_io(fd, 0, rbuf, len, off, &st) ||
		    check(rbuf, len, off, passmap, seed, &st))
			goto out;
	}
out:
	printf("blkverify: %s: %" PRIu64 " writes, %" PRIu64 " reads, %" PRIu64
	       " bytes, %" PRIu64 " mismatches, %" PRIu64 " errors\n",
	       argv[optind], st.writes, st.reads, st.bytes, st.mismatches,
	       st.errors);
	close(fd);
	return st.mismatches || st.errors ? 1 : 0;
usage:
	fprintf(stderr, "usage: blkverify [-b MiB] [-p passes] [-o ops] [-s seed] DEVICE\n");
	return 2;
}
