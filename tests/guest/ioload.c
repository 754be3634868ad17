// SPDX-License-Identifier: GPL-2.0
/*
 * ioload: verified io_uring load on every disk that shows up, for the
 * hot-plug benchmark (make bench, docs/bench.md).
 *
 * Scans /sys/block every 100 ms for virtio-blk and NVMe disks whose serial
 * starts with PREFIX, opens each new one with O_DIRECT and keeps up to
 * DEPTH transfers in flight on it (TOTAL on all disks together) through
 * one io_uring shared by all disks.  Each disk's span is cut into DEPTH
 * lanes, one transfer in flight per lane, so
 * transfers never overlap and every read can be checked: a write stamps
 * each 512-byte sector with the disk, the sector number and a generation,
 * and fills the rest from those; a read checks every sector written
 * before.  Sizes are drawn from 512 B to 1 MiB, reads and writes half and
 * half, offsets 512-byte aligned.
 *
 * Once the expected number of disks is up and RUN seconds have passed (or
 * the file STOP exists), no new transfer is started; when the last one has
 * completed, every disk is closed and "quiesced=" is printed: the host can
 * take the disks away.  A disk that disappears while it has transfers in
 * flight counts their failures as I/O errors.
 *
 * Output, "key=value" lines on stdout and, with -o, to FILE as well
 * (the samples, with -o, only to FILE, to keep them off a slow console):
 *   up.SERIAL=DEV T              DEV appeared at T seconds (since start)
 *   first.SERIAL=T               its first transfer completed at T
 *   sample=T OPS BYTES ERRORS VFAIL DISKS [SERIAL:OPS ...]
 *                                once a second: transfers completed, bytes,
 *                                I/O errors, verification failures in the
 *                                interval, disks open, and each disk's ops
 *   disk.SERIAL=OPS READS WRITES BYTES ERRORS VFAIL FIRST
 *                                per disk, when it is closed
 *   quiesced=T OPS BYTES ERRORS VFAIL DISKS
 *                                totals, after the last transfer
 *
 * usage: ioload [-p PREFIX] [-n DISKS] [-r RUN] [-q DEPTH] [-T TOTAL] [-b MiB]
 *               [-w WAIT] [-S STOP] [-s SEED] [-o FILE] [-d PATH]...
 *   -p: serial prefix of the disks to drive (default "bn"); -n: disks to
 *   expect (default 1); -r: seconds to run once they are all up (10);
 *   -q: transfers in flight per disk (4, at most 16); -T: in flight on all
 *   disks together (64; each open disk gets TOTAL / disks, at least 1,
 *   at most DEPTH); -b: MiB used per
 *   disk from its start (8); -w: seconds to wait for the disks (600);
 *   -S: stop early once this file exists; -s: random seed; -o: a second
 *   copy of the output (/dev/ttyS1); -d: drive PATH (a device or a file)
 *   as well, its path as its serial.
 * exit status: 0 all data verified and no I/O error, 1 otherwise, 2 bad
 * usage or setup.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define SECTOR		512u
#define MAX_DISKS	128
#define MAX_DEPTH	16
#define MAX_XFER	(1u << 20)
#define MAGIC		0x696f6c6f61643031ull	/* "ioload01" */

static const uint32_t sizes[] = {
	512, 4096, 8192, 16384, 65536, 131072, 262144, 524288, 1048576,
};
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))

struct lane {
	unsigned char *buf;
	uint64_t off;		/* bytes, within the disk */
	uint32_t len;
	int write;
	int busy;
};

struct disk {
	char name[32], serial[64];
	uint64_t id;		/* hash of the serial */
	int fd;			/* -1 once closed */
	int gone;		/* vanished with I/O in flight */
	uint64_t span;		/* bytes used, from offset 0 */
	uint32_t *gen;		/* per sector: generation written, 0 never */
	uint32_t next_gen;
	struct lane lanes[MAX_DEPTH];
	unsigned int inflight;
	uint64_t ops, reads, writes, bytes, errors, vfail;
	uint64_t iv_ops;	/* ops in this sample interval */
	double first;		/* first completion, -1 before */
};

static struct disk disks[MAX_DISKS];
static unsigned int nr_disks, depth = 4, total = 64;
static uint64_t rng_state = 1;
static FILE *out2;
static struct timespec t0;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

static void vsay(int quiet, const char *fmt, va_list ap0)
{
	va_list ap;

	if (!quiet || !out2) {
		va_copy(ap, ap0);
		vprintf(fmt, ap);
		va_end(ap);
		fflush(stdout);
	}
	if (out2) {
		va_copy(ap, ap0);
		vfprintf(out2, fmt, ap);
		va_end(ap);
		fflush(out2);
	}
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(0, fmt, ap);
	va_end(ap);
}

/* Like say(), but with -o only to FILE: the samples stay off the console. */
static void say_quiet(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(1, fmt, ap);
	va_end(ap);
}


/* The contents of sector @sec of disk @d at generation @gen. */
static void fill_sector(const struct disk *d, uint64_t sec, uint32_t gen,
			uint64_t *w)
{
	uint64_t seed = mix(d->id ^ mix(sec) ^ ((uint64_t)gen << 40));
	unsigned int i;

	w[0] = MAGIC;
	w[1] = d->id;
	w[2] = sec;
	w[3] = gen;
	for (i = 4; i < SECTOR / 8; i++)
		w[i] = seed + i * 0x9e3779b97f4a7c15ull;
}

/* Check sector @sec as read into @w; true when it is what was written. */
static int check_sector(struct disk *d, uint64_t sec, const uint64_t *w)
{
	uint64_t want[SECTOR / 8];
	uint32_t gen = d->gen[sec];

	if (!gen)
		return 1;	/* never written: anything goes */
	fill_sector(d, sec, gen, want);
	if (!memcmp(want, w, SECTOR))
		return 1;
	if (d->vfail < 5)
		fprintf(stderr,
			"ioload: %s: sector %llu: want gen %u, got magic %llx id %llx sector %llu gen %llu\n",
			d->serial, (unsigned long long)sec, gen,
			(unsigned long long)w[0], (unsigned long long)w[1],
			(unsigned long long)w[2], (unsigned long long)w[3]);
	return 0;
}

static int read_attr(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return 0;
}

/* Queue the next transfer of lane @l of disk @di. */
static int submit(struct io_uring *ring, unsigned int di, unsigned int l)
{
	struct disk *d = &disks[di];
	struct lane *ln = &d->lanes[l];
	uint64_t lane_len = d->span / depth, lane_base = lane_len * l;
	struct io_uring_sqe *sqe;
	uint32_t len, i;

	len = sizes[rng() % NR_SIZES];
	while (len > lane_len)
		len >>= 1;
	ln->off = lane_base + (rng() % ((lane_len - len) / SECTOR + 1)) * SECTOR;
	ln->len = len;
	ln->write = rng() & 1;
	if (ln->write) {
		uint32_t gen = ++d->next_gen ? d->next_gen : ++d->next_gen;

		for (i = 0; i < len / SECTOR; i++)
			fill_sector(d, ln->off / SECTOR + i, gen,
				    (uint64_t *)(ln->buf + i * SECTOR));
	}
	sqe = io_uring_get_sqe(ring);
	if (!sqe) {
		/* The submission queue is full: hand it to the kernel. */
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			return -EBUSY;
	}
	if (ln->write)
		io_uring_prep_write(sqe, d->fd, ln->buf, len, ln->off);
	else
		io_uring_prep_read(sqe, d->fd, ln->buf, len, ln->off);
	io_uring_sqe_set_data64(sqe, (uint64_t)di << 8 | l);
	ln->busy = 1;
	d->inflight++;
	return 0;
}

static void complete(struct disk *d, struct lane *ln, int res)
{
	uint32_t i, gen;

	ln->busy = 0;
	d->inflight--;
	if (res != (int)ln->len) {
		if (d->errors < 5)
			fprintf(stderr, "ioload: %s: %s of %u at %llu: %s\n",
				d->serial, ln->write ? "write" : "read", ln->len,
				(unsigned long long)ln->off,
				res < 0 ? strerror(-res) : "short");
		d->errors++;
		if (ln->write) {
			/* What is on the disk now is unknown: check nothing. */
			for (i = 0; i < ln->len / SECTOR; i++)
				d->gen[ln->off / SECTOR + i] = 0;
		}
		return;
	}
	if (d->first < 0) {
		d->first = now();
		say("first.%s=%.3f\n", d->serial, d->first);
	}
	d->ops++;
	d->iv_ops++;
	d->bytes += ln->len;
	if (ln->write) {
		d->writes++;
		gen = ((uint64_t *)ln->buf)[3];
		for (i = 0; i < ln->len / SECTOR; i++)
			d->gen[ln->off / SECTOR + i] = gen;
	} else {
		d->reads++;
		for (i = 0; i < ln->len / SECTOR; i++)
			if (!check_sector(d, ln->off / SECTOR + i,
					  (uint64_t *)(ln->buf + i * SECTOR))) {
				d->vfail++;
				break;
			}
	}
}

/* Open disk /dev/@name (serial @serial); false when it cannot be used. */
static int add_disk(const char *name, const char *serial, uint64_t span)
{
	struct disk *d = &disks[nr_disks];
	char path[300];
	struct stat st;
	uint64_t size = 0;
	unsigned int l;

	if (nr_disks == MAX_DISKS)
		return 0;
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->serial, sizeof(d->serial), "%s", serial);
	snprintf(path, sizeof(path), "%s%s", name[0] == '/' ? "" : "/dev/", name);
	d->fd = open(path, O_RDWR | O_DIRECT);
	if (d->fd < 0)
		return 0;	/* its node may not be there yet: next scan */
	if (!fstat(d->fd, &st) && S_ISREG(st.st_mode))
		size = st.st_size;	/* a file: for trying ioload out */
	else if (ioctl(d->fd, BLKGETSIZE64, &size))
		size = 0;
	if (size < SECTOR * depth) {
		close(d->fd);
		return 0;
	}
	d->span = span < size ? span : size;
	d->span -= d->span % (SECTOR * depth);
	d->gen = calloc(d->span / SECTOR, sizeof(*d->gen));
	if (!d->gen) {
		close(d->fd);
		return 0;
	}
	d->id = mix(0x5e7a1ull);
	for (l = 0; serial[l]; l++)
		d->id = mix(d->id ^ (unsigned char)serial[l]);
	for (l = 0; l < depth; l++) {
		if (posix_memalign((void **)&d->lanes[l].buf, 4096, MAX_XFER)) {
			while (l--)
				free(d->lanes[l].buf);
			free(d->gen);
			close(d->fd);
			return 0;
		}
	}
	d->first = -1;
	say("up.%s=%s %.3f\n", serial, name, now());
	nr_disks++;
	return 1;
}

static int known(const char *serial)
{
	unsigned int i;

	for (i = 0; i < nr_disks; i++)
		if (!strcmp(disks[i].serial, serial))
			return 1;
	return 0;
}

/* Look for new disks; returns how many were added. */
static int scan(const char *prefix, uint64_t span)
{
	char path[300], serial[64];
	struct dirent *e;
	int added = 0;
	DIR *dir;

	dir = opendir("/sys/block");
	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		if (strncmp(e->d_name, "vd", 2) && strncmp(e->d_name, "nvme", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/serial", e->d_name);
		if (read_attr(path, serial, sizeof(serial))) {
			snprintf(path, sizeof(path), "/sys/block/%s/device/serial",
				 e->d_name);
			if (read_attr(path, serial, sizeof(serial)))
				continue;
		}
		if (strncmp(serial, prefix, strlen(prefix)) || known(serial))
			continue;
		if (add_disk(e->d_name, serial, span))
			added++;
	}
	closedir(dir);
	return added;
}

/*
 * Start a transfer on every idle lane that may run: each open disk gets
 * TOTAL / (open disks) lanes, at least 1 and at most DEPTH, so that many
 * disks do not swamp the guest (under nested TCG a guest with 200
 * transfers of up to 1 MiB in flight left its hot-plug work unserved for
 * a minute).
 */
static void fill_lanes(struct io_uring *ring, unsigned int open_disks)
{
	unsigned int i, l, lanes = open_disks ? total / open_disks : depth;

	lanes = lanes < 1 ? 1 : lanes > depth ? depth : lanes;
	for (i = 0; i < nr_disks; i++) {
		struct disk *d = &disks[i];

		if (d->fd < 0 || d->gone)
			continue;
		for (l = 0; l < lanes; l++)
			if (!d->lanes[l].busy)
				submit(ring, i, l);
	}
}

static void close_disk(struct disk *d)
{
	unsigned int l;

	say("disk.%s=%llu %llu %llu %llu %llu %llu %.3f\n", d->serial,
	    (unsigned long long)d->ops, (unsigned long long)d->reads,
	    (unsigned long long)d->writes, (unsigned long long)d->bytes,
	    (unsigned long long)d->errors, (unsigned long long)d->vfail,
	    d->first);
	close(d->fd);
	d->fd = -1;
	for (l = 0; l < depth; l++)
		free(d->lanes[l].buf);
	free(d->gen);
	d->gen = NULL;
}

static void sample(double t, int open_disks)
{
	static uint64_t last_bytes, last_errors, last_vfail;
	uint64_t ops = 0, bytes = 0, errors = 0, vfail = 0;
	char line[8192];
	size_t n;
	unsigned int i;

	for (i = 0; i < nr_disks; i++) {
		ops += disks[i].iv_ops;
		bytes += disks[i].bytes;
		errors += disks[i].errors;
		vfail += disks[i].vfail;
	}
	n = snprintf(line, sizeof(line), "sample=%.3f %llu %llu %llu %llu %d",
		     t, (unsigned long long)ops,
		     (unsigned long long)(bytes - last_bytes),
		     (unsigned long long)(errors - last_errors),
		     (unsigned long long)(vfail - last_vfail), open_disks);
	for (i = 0; i < nr_disks && n < sizeof(line) - 80; i++) {
		if (disks[i].fd >= 0)
			n += snprintf(line + n, sizeof(line) - n, " %s:%llu",
				      disks[i].serial,
				      (unsigned long long)disks[i].iv_ops);
		disks[i].iv_ops = 0;
	}
	last_bytes = bytes;
	last_errors = errors;
	last_vfail = vfail;
	say_quiet("%s\n", line);
}

int main(int argc, char **argv)
{
	const char *prefix = "bn", *stop = NULL;
	unsigned int want = 1, run = 10, wait_s = 600, nr_paths = 0, i;
	const char *paths[MAX_DISKS];
	uint64_t span = 8ull << 20, ops = 0, bytes = 0, errors = 0, vfail = 0;
	double all_up = -1, next_scan = 0, next_sample = 1, t;
	struct io_uring ring;
	int opt, stopping = 0, open_disks, ret;

	while ((opt = getopt(argc, argv, "p:n:r:q:T:b:w:S:s:o:d:")) != -1) {
		switch (opt) {
		case 'p':
			prefix = optarg;
			break;
		case 'n':
			want = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			run = strtoul(optarg, NULL, 0);
			break;
		case 'q':
			depth = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			total = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			span = strtoull(optarg, NULL, 0) << 20;
			break;
		case 'w':
			wait_s = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			stop = optarg;
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'd':
			if (nr_paths == MAX_DISKS)
				goto usage;
			paths[nr_paths++] = optarg;
			break;
		case 'o':
			out2 = fopen(optarg, "w");
			if (!out2) {
				perror(optarg);
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || !want || want > MAX_DISKS || !depth || !total ||
	    depth > MAX_DEPTH || span < (uint64_t)SECTOR * depth)
		goto usage;

	ret = io_uring_queue_init(1024, &ring, 0);
	if (ret) {
		fprintf(stderr, "ioload: io_uring_queue_init: %s\n", strerror(-ret));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nr_paths; i++) {
		if (!add_disk(paths[i], paths[i], span)) {
			fprintf(stderr, "ioload: %s: cannot use it\n", paths[i]);
			return 2;
		}
	}

	for (;;) {
		struct __kernel_timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		t = now();
		if (!stopping && t >= next_scan) {
			scan(prefix, span);
			next_scan = t + 0.1;
			if (all_up < 0 && nr_disks >= want)
				all_up = t;
		}
		if (!stopping &&
		    ((all_up >= 0 && t >= all_up + run) ||
		     (all_up < 0 && t >= wait_s) ||
		     (stop && !access(stop, F_OK))))
			stopping = 1;
		open_disks = 0;
		for (i = 0; i < nr_disks; i++)
			open_disks += disks[i].fd >= 0;
		if (t >= next_sample) {
			sample(t, open_disks);
			next_sample += 1;
		}
		if (!stopping)
			fill_lanes(&ring, open_disks);
		io_uring_submit(&ring);
		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (ret && ret != -ETIME && ret != -EINTR) {
			fprintf(stderr, "ioload: wait: %s\n", strerror(-ret));
			return 2;
		}
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			struct disk *d = &disks[ud >> 8];
			struct lane *ln = &d->lanes[ud & 0xff];

			complete(d, ln, cqe->res);
			if (cqe->res == -ENODEV || cqe->res == -ENXIO)
				d->gone = 1;
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
		if (seen && !stopping)
			fill_lanes(&ring, open_disks);

		/* Close what has nothing in flight and will get nothing more. */
		for (i = 0; i < nr_disks; i++) {
			struct disk *d = &disks[i];

			if (d->fd >= 0 && !d->inflight && (stopping || d->gone))
				close_disk(d);
		}
		if (stopping) {
			for (i = 0; i < nr_disks && disks[i].fd < 0; i++)
				;
			if (i == nr_disks)
				break;
		}
	}
	sample(now(), 0);
	for (i = 0; i < nr_disks; i++) {
		ops += disks[i].ops;
		bytes += disks[i].bytes;
		errors += disks[i].errors;
		vfail += disks[i].vfail;
	}
	say("quiesced=%.3f %llu %llu %llu %llu %u\n", now(),
	    (unsigned long long)ops, (unsigned long long)bytes,
	    (unsigned long long)errors, (unsigned long long)vfail, nr_disks);
	io_uring_queue_exit(&ring);
	if (nr_disks < want)
		fprintf(stderr, "ioload: %u of %u disks showed up\n", nr_disks, want);
	return errors || vfail || nr_disks < want ? 1 : 0;
usage:
	fprintf(stderr,
		"usage: ioload [-p PREFIX] [-n DISKS] [-r RUN] [-q DEPTH] [-T TOTAL] [-b MiB] [-w WAIT] [-S STOP] [-s SEED] [-o FILE] [-d PATH]...\n");
	return 2;
}
