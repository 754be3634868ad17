#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""One run of the hot-plug benchmark: disks hot-plugged under I/O.

usage: hotbench.py [options] SOCKET DATAFILE OUTDIR

Drives the QEMU at SOCKET whose guest runs tests/guest/hotbench.sh (ioload
on every disk with a serial "bn..."; its lines go to DATAFILE, vmrun
--data), and which booted with one such disk, bn0:

  1. wait for the guest's "ready=";
  2. hot-plug bn1 ... bn(N-1), of --kind, one every --every seconds, each
     into its own port (PORTS0, PORTS1, ...) on a sparse raw file of
     --size MiB in --dir, while ioload drives every disk already up;
  3. wait for ioload's "quiesced=" (it stops --run seconds after the last
     disk came up, docs/bench.md), then device_del every hot-plugged disk,
     wait for each DEVICE_DELETED, blockdev-del its node, delete its file;
  4. keep sampling until the guest says "done=" (it samples for a while
     after the last disk went, so that the shared footprint can settle).

From step 1 on, once a second: x-query-dma-guard (shared pages,
violations), x-query-shared-pool (held and pooled bytes, exits), and KVM's
exits, hypercalls, some of the exits' reasons, the interrupts injected,
its nested page faults and emulated instructions (query-stats,
Sampler.STATS; some per vCPU as well); where L1's CPU time went (class
CPU: L2 running, QEMU's vCPU threads in user space and in the kernel,
QEMU's other threads, the rest of L1, idle; and per vCPU thread); and how
long QEMU took to answer the first two queries (qmp_ms) and query-stats
(stats_ms).
Every line the guest sends is kept with the time it arrived here, so that
the guest's samples and the host's share one clock: seconds since
"ready=".

OUTDIR gets host.csv (the host's samples, each written as it is taken, so
that a run that is lost or stopped keeps them), guest.csv (the guest's "gs="
samples, each row whole, though a gs= line carries only the values that
changed), io.csv (ioload's per-second totals), iops.csv (per disk and
second), disks.csv (per disk: when it was plugged, device_add to its first
completed I/O on this clock, ioload opening it to its first completed I/O
on the guest's, how long QEMU took to answer its device_add, its totals),
profile.csv (the guest kernel's tick profile under load, its top
functions, when the kernel has one: profile= on its command line),
l1-profile.csv (L1's own kernel tick profile every
--l1-profile seconds, when L1 has one: class L1Profile; each row written
as it is read) and summary.json (with quiesced_t, when quiesced= came,
prof_ticks, the guest profile's ticks in all, or prof_error, and
l1_profile_reads and l1_profile_ticks, L1's reads and their ticks in all,
or l1_profile_error when L1's profile could not be read).

The guest sends a sample every second.  When nothing at all has come from
it for --silent seconds after "ready=", the run is lost: its sampler sleeps
for good, the test bed's lost timer wake-up (docs/testbed.md, known
limits).  hotbench.py then writes OUTDIR/l2-silent, stops QEMU and exits 4,
rather than wait out every timeout.

Exit status: 0 when every disk was plugged, did verified I/O and was
removed, 1 otherwise, 2 for bad usage, 3 when QEMU cannot be reached, 4
when the guest went silent.
"""

import argparse
import bisect
import csv
import json
import os
import struct
import sys
import time
from array import array

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hotplug import Disk, Guest, plug, unplug_all  # noqa: E402
from qmp import QMP, QMPError  # noqa: E402


class Silent(Exception):
    """The guest has sent nothing for too long."""


# Columns kept per vCPU, for the first MAX_VCPUS: "vcpuN_NAME", N the
# vCPU's cpu-index.
MAX_VCPUS = 4


def vcpu_columns(names):
    return tuple("vcpu%d_%s" % (i, n) for i in range(MAX_VCPUS)
                 for n in names)


class Sampler:
    """The host's view, once a second."""

    # KVM's vCPU statistics kept, summed over the vCPUs, as "kvm_NAME".
    # "exits" is every exit; the others are some of its reasons (halt_exits:
    # the guest idled; irq_exits: an interrupt for the host), and
    # irq_injections counts interrupts delivered into the guest;
    # signal_exits are exits to QEMU for a signal, among them the kick
    # with which query-stats itself takes every vCPU out of the guest.
    # The pf_ counters are KVM's nested page faults that went through its
    # fault handler (a fault on an MMIO address KVM already knows goes
    # straight to emulation and counts in neither): taken, fixed (mapped),
    # handed to the emulator, and spurious (nothing to fix);
    # insn_emulation counts instructions KVM emulated, port I/O and MMIO
    # among them.
    STATS = ("exits", "hypercalls", "halt_exits", "irq_exits", "io_exits",
             "mmio_exits", "signal_exits", "irq_injections", "pf_taken",
             "pf_fixed", "pf_emulate", "pf_spurious", "insn_emulation",
             "insn_emulation_fail")
    # Per vCPU (vcpu_columns()): these of KVM's statistics, the exits by
    # kind, to tell which of a vCPU's exits grow dearer (exits less the
    # kinds listed are the others: nested page faults, MSRs, CPUID...).
    VCPU_STATS = ("exits", "halt_exits", "irq_exits", "io_exits",
                  "mmio_exits", "signal_exits", "irq_injections",
                  "hypercalls")
    # KVM's VM statistics kept, as "kvm_NAME": how much of L2's memory
    # KVM has mapped in the nested page tables, by page size, at the
    # moment of the sample. Bounce buffers in memory mapped with 4 KiB
    # pages cost more TLB misses than in memory mapped with 2 MiB ones.
    VM_STATS = ("pages_4k", "pages_2m", "pages_1g")
    FIELDS = (("t", "guard_shared_bytes", "guard_violations",
               "pool_held_bytes", "pool_pooled_bytes", "pool_exits",
               "pool_mapped_chunks", "pool_unmapped_chunks") +
              tuple("kvm_" + n for n in STATS) +
              ("shared_bytes", "qmp_ms", "stats_ms") +
              vcpu_columns(VCPU_STATS) +
              tuple("kvm_" + n for n in VM_STATS))

    def __init__(self, q, t0, path):
        self.q = q
        self.t0 = t0
        self.errors = {}
        self.gone = False
        self.cpu = None
        # query-stats names a vCPU by its QOM path.
        self.cpu_index_by_path = {}
        # Each row goes to PATH as it is taken: a run that is lost or
        # stopped by hand keeps what was sampled.
        self.file = open(path, "w", newline="")
        self.csv = csv.DictWriter(self.file, extrasaction="ignore",
                                  fieldnames=(self.FIELDS + CPU.FIELDS +
                                              CPU.VCPU_FIELDS))
        self.csv.writeheader()
        self.file.flush()

    def close(self):
        if not self.file.closed:
            self.file.close()

    def query(self, name, cmd, args=None):
        if self.gone:
            return None
        try:
            return self.q.execute(cmd, args, timeout=30)
        except QMPError as e:
            # Kept once: a QEMU without the guard or the pool says so.
            self.errors.setdefault(name, str(e))
        except (OSError, ValueError) as e:
            # QEMU exited (the guest is done, or died).
            self.errors.setdefault("qmp", str(e))
            self.gone = True
        return None

    def sample(self):
        if self.gone:
            return None
        # The vCPU threads, once (outside the timed queries below).
        if self.cpu is None:
            cpus = self.query("cpus", "query-cpus-fast")
            if cpus:
                self.cpu_index_by_path = {c["qom-path"]: c["cpu-index"]
                                          for c in cpus if "qom-path" in c}
                try:
                    self.cpu = CPU([(c["cpu-index"], c["thread-id"])
                                    for c in cpus])
                except (OSError, ValueError, StopIteration) as e:
                    self.errors.setdefault("cpu", str(e))
            if self.gone:
                return None
        start = time.monotonic()
        row = {"t": round(start - self.t0, 3)}
        g = self.query("guard", "x-query-dma-guard")
        if g:
            row["guard_shared_bytes"] = g.get("shared-pages", 0) * 4096
            row["guard_violations"] = sum(d.get("violations", 0)
                                          for d in g.get("devices", []))
        p = self.query("pool", "x-query-shared-pool")
        if p:
            row["pool_held_bytes"] = p["held-bytes"]
            row["pool_pooled_bytes"] = p["pooled-bytes"]
            row["pool_exits"] = p["exits"]
            # One memslot each: a chunk unmapped is a memslot deleted,
            # and KVM drops that memslot's mappings (all of the VM's
            # where "zap-all" is true); unmapped-chunks counts them.
            row["pool_mapped_chunks"] = p.get("mapped-chunks", "")
            row["pool_unmapped_chunks"] = p.get("unmapped-chunks", "")
        # How long QEMU took to answer those two: QMP commands run in its
        # main loop, under the lock its vCPU threads take for the port I/O
        # and MMIO that QEMU emulates, so a slow answer is a busy main
        # loop.
        row["qmp_ms"] = round((time.monotonic() - start) * 1000)
        # query-stats, timed on its own: besides the main loop, it waits
        # for every vCPU thread to come out of the guest (a kick, counted
        # in signal_exits) and run a call, so a slow answer can also be a
        # vCPU thread that does not get back to QEMU.
        start = time.monotonic()
        st = self.query("stats", "query-stats", {
            "target": "vcpu", "providers": [{"provider": "kvm"}]})
        row["stats_ms"] = round((time.monotonic() - start) * 1000)
        if st is not None:
            for entry in st:
                i = self.cpu_index_by_path.get(entry.get("qom-path"))
                for s in entry["stats"]:
                    if s["name"] in self.STATS:
                        k = "kvm_" + s["name"]
                        row[k] = row.get(k, 0) + s["value"]
                    if (s["name"] in self.VCPU_STATS and i is not None and
                            i < MAX_VCPUS):
                        row["vcpu%d_%s" % (i, s["name"])] = s["value"]
        # The VM's statistics, after the timed query above (it does not
        # wait for the vCPUs).
        st = self.query("vm-stats", "query-stats", {
            "target": "vm", "providers": [{"provider": "kvm"}]})
        for entry in st or ():
            for s in entry["stats"]:
                if s["name"] in self.VM_STATS:
                    row["kvm_" + s["name"]] = s["value"]
        # Shared with the host: pages converted to shared (the guard's
        # count) plus grants held.
        row["shared_bytes"] = (row.get("guard_shared_bytes", 0) +
                               row.get("pool_held_bytes", 0))
        if self.cpu is not None:
            try:
                row.update(self.cpu.read())
            except (OSError, ValueError, IndexError) as e:
                self.errors.setdefault("cpu", str(e))
        if self.gone:
            # QEMU went during the sample: it is partial (a shared_bytes
            # without the guard's or the pool's part), so not kept.
            return None
        self.csv.writerow(row)
        self.file.flush()
        return row


class CPU:
    """L1's CPU time, split by who spent it, from /proc (USER_HZ ticks, so
    10 ms steps; the differences over a run are what count).

    l1_guest_ms        L2 running (the "guest" column of /proc/stat)
    qemu_vcpu_user_ms  QEMU's vCPU threads in user space, L2 not running:
                       the devices emulated there (port I/O, MMIO)
    qemu_vcpu_sys_ms   QEMU's vCPU threads in L1's kernel: KVM's exit
                       handling, and their system calls
    qemu_io_ms         QEMU's other threads (main loop, block I/O workers),
                       user and system, threads that ended included
    l1_other_ms        L1's busy time outside QEMU (this sampler, kernel
                       threads, interrupts)
    l1_idle_ms         L1 idle (idle and iowait)

    qemu_main_ms       QEMU's main thread (its thread id is QEMU's pid),
                       user and system: the main loop, which holds QEMU's
                       big lock while it works, included in qemu_io_ms
    qemu_main_wait_ms  the main thread runnable but waiting for one of
                       L1's CPUs (the scheduler's run_delay)
    qemu_vcpu_wait_ms  the same for the vCPU threads, summed

    and for each vCPU thread of cpu-index N below MAX_VCPUS,
    vcpuN_guest_ms (running L2), vcpuN_user_ms (in user space, L2 not
    running), vcpuN_sys_ms (in L1's kernel), vcpuN_wait_ms (runnable,
    waiting for a CPU), vcpuN_vcsw (the times it slept: L2 halted, or it
    waited for a lock such as QEMU's big lock, or for I/O) and vcpuN_nvcsw
    (the times it was preempted), and vcpuN_state, where the thread was
    at the sample: "R" running or runnable, else its state letter and the
    kernel function it sleeps in (/proc/.../wchan), as "S kvm_vcpu_block"
    (L2 halted) or "S futex_wait_queue" (a lock of QEMU's, such as its big
    lock); one look a second, so a share over a run, not a count.

    The wait columns come from /proc/.../schedstat (CONFIG_SCHED_INFO);
    without it they are left empty.

    The kernel scales a thread's user time (utime) to its run time but
    not its guest time, so a user column, user minus guest, can step
    back a tick now and then.
    """

    # host.csv's columns, the keys of read().
    FIELDS = ("l1_guest_ms", "qemu_vcpu_user_ms", "qemu_vcpu_sys_ms",
              "qemu_io_ms", "l1_other_ms", "l1_idle_ms", "qemu_main_ms",
              "qemu_main_wait_ms", "qemu_vcpu_wait_ms")
    VCPU_FIELDS = vcpu_columns(("guest_ms", "user_ms", "sys_ms", "wait_ms",
                                "vcsw", "nvcsw", "state"))

    def __init__(self, vcpus):
        """VCPUS: (cpu-index, thread id) of each vCPU thread."""
        self.vcpus = vcpus
        with open("/proc/%d/status" % vcpus[0][1]) as f:
            self.pid = int(next(ln.split()[1] for ln in f
                                if ln.startswith("Tgid:")))
        self.ms = 1000.0 / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def task(path):
        """utime, stime, guest_time and the state letter of a
        /proc/.../stat."""
        with open(path) as f:
            # The command name is in parentheses and may hold spaces.
            f = f.read().rpartition(")")[2].split()
        return int(f[11]), int(f[12]), int(f[40]), f[0]

    @staticmethod
    def wait_ms(path):
        """The ms a task waited runnable for a CPU, from its schedstat,
        or "" when the kernel keeps no such count."""
        try:
            with open(path) as f:
                return round(int(f.read().split()[1]) / 1e6)
        except (OSError, IndexError, ValueError):
            return ""

    @staticmethod
    def state(task, st):
        """Where the task in directory TASK, in state ST, is: "R", or its
        state and the function it sleeps in ("?" when the kernel does not
        say)."""
        if st == "R":
            return st
        try:
            with open(task + "wchan") as f:
                where = f.read().strip()
        except OSError:
            where = ""
        return "%s %s" % (st, where if where not in ("", "0") else "?")

    @staticmethod
    def switches(path):
        """A task's voluntary and involuntary context switches, from its
        status."""
        out = {}
        with open(path) as f:
            for ln in f:
                k, _, v = ln.partition(":")
                if k in ("voluntary_ctxt_switches",
                         "nonvoluntary_ctxt_switches"):
                    out[k] = int(v)
        return (out["voluntary_ctxt_switches"],
                out["nonvoluntary_ctxt_switches"])

    def read(self):
        with open("/proc/stat") as f:
            c = [int(x) for x in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal guest guest_nice;
        # user and nice include guest and guest_nice.
        busy = sum(c[:3]) + sum(c[5:8])
        idle = c[3] + c[4]
        guest = c[8] + c[9]
        pu, ps, pg, _ = self.task("/proc/%d/stat" % self.pid)
        main = "/proc/%d/task/%d/" % (self.pid, self.pid)
        mu, ms, _, _ = self.task(main + "stat")
        vu = vs = vg = 0
        vw = 0
        out = {}
        for i, tid in self.vcpus:
            task = "/proc/%d/task/%d/" % (self.pid, tid)
            u, s, g, st = self.task(task + "stat")
            w = self.wait_ms(task + "schedstat")
            vu, vs, vg = vu + u, vs + s, vg + g
            vw = "" if "" in (vw, w) else vw + w
            if i < MAX_VCPUS:
                vcsw, nvcsw = self.switches(task + "status")
                out["vcpu%d_guest_ms" % i] = round(g * self.ms)
                out["vcpu%d_user_ms" % i] = round((u - g) * self.ms)
                out["vcpu%d_sys_ms" % i] = round(s * self.ms)
                out["vcpu%d_wait_ms" % i] = w
                out["vcpu%d_vcsw" % i] = vcsw
                out["vcpu%d_nvcsw" % i] = nvcsw
                out["vcpu%d_state" % i] = self.state(task, st)
        out.update({"l1_guest_ms": round(guest * self.ms),
                    "qemu_vcpu_user_ms": round((vu - vg) * self.ms),
                    "qemu_vcpu_sys_ms": round(vs * self.ms),
                    "qemu_io_ms": round((pu + ps - vu - vs) * self.ms),
                    "l1_other_ms": round((busy - pu - ps) * self.ms),
                    "l1_idle_ms": round(idle * self.ms),
                    "qemu_main_ms": round((mu + ms) * self.ms),
                    "qemu_main_wait_ms": self.wait_ms(main + "schedstat"),
                    "qemu_vcpu_wait_ms": vw})
        return out


class L1Profile:
    """L1's own kernel tick profile, read every --l1-profile seconds when L1
    has one (CONFIG_PROFILING and profile= on its command line): the ticks
    each kernel function took since the last read, from PROFILE
    (/proc/profile: the step, 2^shift bytes, as the first 32-bit word, then
    one 32-bit count per step bytes of text from _stext) against SYMS
    (/proc/kallsyms).  PROFILE is only read, never reset: two reads are
    compared.

    Each read writes, to PATH as it is taken, a row (t, secs, function,
    ticks) for the TOP functions with the most ticks and one for "(all)":
    t is the read's time on the run's clock, secs the time since the read
    before.  A tick is one timer tick (1/HZ s) of one of L1's CPUs spent in
    L1's kernel, where the CPU was when it ticked: idle included, user
    space not, and time in L2 shows in KVM's function that re-enables
    interrupts after the guest exits.

    Raises OSError when PROFILE or SYMS cannot be read, ValueError when
    they do not fit each other.
    """

    TOP = 15
    # Bytes of PROFILE compared at once: most of it does not change.
    CHUNK = 4096

    def __init__(self, path, t0, prof="/proc/profile",
                 syms="/proc/kallsyms"):
        self.t0 = t0
        self.prof = prof
        self.addrs, self.names = [], []
        stext = etext = None
        with open(syms) as f:
            for ln in f:
                w = ln.split()
                if len(w) < 3 or w[1] not in "tT":
                    continue
                a = int(w[0], 16)
                if w[2] == "_stext":
                    stext = a
                elif w[2] == "_etext":
                    etext = a
                self.addrs.append(a)
                self.names.append(w[2])
        if stext is None or etext is None or not any(self.addrs):
            raise ValueError("%s: no _stext and _etext, or no addresses"
                             % syms)
        syms = sorted(zip(self.addrs, self.names))
        self.addrs = [a for a, _ in syms]
        self.names = [n for _, n in syms]
        self.stext = stext
        # Reads taken, and their ticks in all.
        self.reads = self.ticks = 0
        self.prev = self.read()
        self.step = struct.unpack_from("<I", self.prev)[0]
        buckets = len(self.prev) // 4 - 1
        if self.step < 1 or stext + buckets * self.step < etext:
            raise ValueError("%s: %d buckets of %d bytes do not span the "
                             "text (%d bytes)" % (prof, buckets, self.step,
                                                  etext - stext))
        self.prev_at = time.monotonic()
        self.file = open(path, "w", newline="")
        self.csv = csv.writer(self.file)
        self.csv.writerow(("t", "secs", "function", "ticks"))
        self.file.flush()

    def read(self):
        with open(self.prof, "rb") as f:
            data = f.read()
        if len(data) < 8 or len(data) % 4:
            raise ValueError("%s: %d bytes" % (self.prof, len(data)))
        return data

    def function(self, word):
        """The function of bucket WORD (0 is the first after the step)."""
        i = bisect.bisect_right(self.addrs, self.stext + word * self.step)
        return self.names[i - 1] if i else "(before _stext)"

    def sample(self):
        """Read PROFILE and write the ticks since the last read; returns
        them by function."""
        cur = self.read()
        now = time.monotonic()
        if len(cur) != len(self.prev):
            raise ValueError("%s: %d bytes now, %d at the last read" %
                             (self.prof, len(cur), len(self.prev)))
        ticks = {}
        for off in range(4, len(cur), self.CHUNK):
            a, b = cur[off:off + self.CHUNK], self.prev[off:off + self.CHUNK]
            if a == b:
                continue
            new, old = array("I"), array("I")
            new.frombytes(a)
            old.frombytes(b)
            for i, (n, o) in enumerate(zip(new, old)):
                if n != o:
                    fn = self.function((off - 4) // 4 + i)
                    # Counters are 32 bits and wrap.
                    ticks[fn] = ticks.get(fn, 0) + ((n - o) & 0xffffffff)
        t = round(now - self.t0, 3)
        secs = round(now - self.prev_at, 3)
        for fn, n in sorted(ticks.items(), key=lambda x: (-x[1], x[0])
                            )[:self.TOP]:
            self.csv.writerow((t, secs, fn, n))
        self.csv.writerow((t, secs, "(all)", sum(ticks.values())))
        self.file.flush()
        self.prev, self.prev_at = cur, now
        self.reads += 1
        self.ticks += sum(ticks.values())
        return ticks

    def close(self):
        if not self.file.closed:
            self.file.close()


def parse_kv(text):
    out = {}
    for w in text.split():
        k, sep, v = w.partition("=")
        if sep:
            out[k] = v
    return out


def per_class(sample):
    """SAMPLE (a gs= line's values, carried forward) with its per-class
    fields written out: classes=512,4K with used=5,7 becomes 512.used=5
    and 4K.used=7, and the same for chunks and fails.  A field with
    fewer values than classes gives "" for the others."""
    row = dict(sample)
    names = row.pop("classes", "")
    names = names.split(",") if names else []
    for kind in ("chunks", "used", "fails"):
        vals = row.pop(kind, None)
        if vals is None or not names:
            continue
        vals = vals.split(",")
        for i, c in enumerate(names):
            row["%s.%s" % (c, kind)] = vals[i] if i < len(vals) else ""
    return row


def up_to_first(keys, serial):
    """Seconds from ioload opening SERIAL's disk (up.SERIAL=DEV T) to its
    first completed transfer (first.SERIAL=T), on the guest's clock; ""
    when either line is missing or malformed."""
    up = keys.get("up." + serial, "").split()
    first = keys.get("first." + serial, "")
    try:
        return round(float(first) - float(up[1]), 3)
    except (IndexError, ValueError):
        return ""


def median_max(rows, col):
    """"median M s, max X s" of column COL over ROWS that have it."""
    v = sorted(r[col] for r in rows if r.get(col) not in (None, ""))
    return ("median %.2f s, max %.2f s" % (v[len(v) // 2], v[-1])
            if v else "none")


def write_csv(path, fields, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def write_summary(out, summary):
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")


def run(opts, q, guest, disks, tick, t0, summary):
    """Steps 2 to 4: plug under load, wait for quiesced=, unplug, wait for
    done=.  Results go to SUMMARY and the disks; raises Silent."""
    # Hot-plug under load.
    for d in disks:
        tick(time.monotonic())
        plug(q, d, opts.size << 20)
        tick(time.monotonic() + opts.every)
    summary["plugged_after_secs"] = round(time.monotonic() - t0, 2)

    deadline = time.monotonic() + opts.timeout
    tick(lambda: "quiesced" in guest.keys or time.monotonic() >= deadline)
    summary["quiesced"] = guest.keys.get("quiesced")
    if "quiesced" in guest.seen_at:
        summary["quiesced_t"] = round(guest.seen_at["quiesced"] - t0, 2)

    # Take the hot-plugged disks out again, still sampling.
    t2 = time.monotonic()
    err = unplug_all(q, disks, opts.timeout,
                     idle=lambda: tick(time.monotonic()))
    if err:
        summary["error"] = err
    summary["unplug_all_secs"] = round(time.monotonic() - t2, 2)

    # Until the guest is done: it samples on for a while after the last
    # disk went.
    summary["removed_t"] = round(time.monotonic() - t0, 2)
    deadline = time.monotonic() + opts.timeout
    tick(lambda: "done" in guest.keys or time.monotonic() >= deadline)
    guest.poll()
    summary["removed"] = guest.keys.get("removed")
    summary["done"] = guest.keys.get("done")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", choices=("virtio-blk", "nvme"),
                    default="virtio-blk")
    ap.add_argument("--disks", type=int, default=8,
                    help="disks in all, bn0 (at boot) included (default 8)")
    ap.add_argument("--every", type=float, default=2.0,
                    help="seconds between two hot-plugs (default 2)")
    ap.add_argument("--ports", default="hp",
                    help="hot-plug port id prefix (default hp)")
    ap.add_argument("--size", type=int, default=16,
                    help="MiB per disk file (default 16)")
    ap.add_argument("--dir", default="/tmp",
                    help="where the disk files go (default /tmp)")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds for each wait on the guest (default 900)")
    ap.add_argument("--silent", type=float, default=90,
                    help="seconds without a line from the guest after "
                    "ready= that count as a lost guest (default 90)")
    ap.add_argument("--l1-profile", type=float, default=10,
                    help="seconds between two reads of L1's own tick "
                    "profile, when it has one (default 10; 0: never)")
    ap.add_argument("socket")
    ap.add_argument("data")
    ap.add_argument("out")
    opts = ap.parse_args()
    if opts.disks < 1 or opts.disks > 100 or opts.size < 1 or opts.every < 0 \
            or opts.silent < 10 or not (opts.l1_profile == 0 or
                                        opts.l1_profile >= 1):
        ap.error("need 1 to 100 disks, a size of 1 MiB or more, --every >= 0,"
                 " --silent >= 10, --l1-profile 0 or >= 1")
    os.makedirs(opts.out, exist_ok=True)

    disks = [Disk(opts.kind, i, "%s%d" % (opts.ports, i - 1), opts,
                  serial="bn%d" % i) for i in range(1, opts.disks)]
    guest = Guest(opts.data, keep_lines=True)
    summary = {"kind": opts.kind, "disks": opts.disks, "every": opts.every}
    try:
        q = QMP(opts.socket, 60)
    except (OSError, ValueError, QMPError) as e:
        print("hotbench.py: %s: %s" % (opts.socket, e), file=sys.stderr)
        return 3

    if guest.wait("ready", opts.timeout) is None:
        summary["error"] = "the guest never said ready="
        print("hotbench: %s" % summary["error"])
        write_summary(opts.out, summary)
        return 1
    t0 = guest.seen_at["ready"]
    sampler = Sampler(q, t0, os.path.join(opts.out, "host.csv"))
    next_sample = time.monotonic()
    l1prof = None
    if opts.l1_profile:
        try:
            l1prof = L1Profile(os.path.join(opts.out, "l1-profile.csv"), t0)
        except (OSError, ValueError) as e:
            summary["l1_profile_error"] = "L1 has no tick profile: %s" % e
    next_prof = time.monotonic() + opts.l1_profile

    def l1_profile():
        """Read L1's profile; on an error, say so once and stop."""
        nonlocal l1prof
        try:
            l1prof.sample()
            summary["l1_profile_reads"] = l1prof.reads
            summary["l1_profile_ticks"] = l1prof.ticks
        except (OSError, ValueError) as e:
            summary["l1_profile_error"] = str(e)
            l1prof.close()
            l1prof = None

    def tick(until):
        """Sample once a second and read the guest until UNTIL, or until
        until() holds when it is a function."""
        nonlocal next_sample, next_prof
        while True:
            guest.poll()
            now = time.monotonic()
            if now >= next_sample:
                sampler.sample()
                next_sample += 1
                if next_sample < now:
                    next_sample = now + 1
            if l1prof is not None and now >= next_prof:
                l1_profile()
                next_prof = now + opts.l1_profile
            if sampler.gone:
                return False
            if now - guest.last_at > opts.silent:
                raise Silent()
            if callable(until):
                if until():
                    return True
            elif now >= until:
                return True
            time.sleep(0.1)

    try:
        run(opts, q, guest, disks, tick, t0, summary)
        # The last stretch of L1's profile.
        if l1prof is not None:
            l1_profile()
    except Silent:
        summary["error"] = ("nothing from the guest for %d s: the test bed "
                            "lost it (its sampler sleeps for good)" %
                            opts.silent)
        summary["qmp_errors"] = sampler.errors
        print("hotbench: %s; stopping QEMU" % summary["error"])
        with open(os.path.join(opts.out, "l2-silent"), "w") as f:
            f.write("%.1f\n" % (time.monotonic() - t0))
        write_summary(opts.out, summary)
        try:
            q.execute("quit", timeout=30)
        except (QMPError, OSError, ValueError):
            pass
        return 4
    finally:
        # Every row is flushed as written: this only lets go of the files,
        # on every way out, exceptions included.
        sampler.close()
        if l1prof is not None:
            l1prof.close()
    summary["qmp_errors"] = sampler.errors

    # The guest's lines on the host's clock.
    gs, io, iops = [], [], []
    last = {}
    for at, line in guest.lines:
        t = round(at - t0, 3)
        key, _, value = line.partition("=")
        if key == "gs":
            # A gs= line has only the values that changed: carry the
            # others forward.
            last.update(parse_kv("guest_t=" + value))
            row = per_class(last)
            row["t"] = t
            gs.append(row)
        elif key == "sample":
            f = value.split()
            if len(f) < 6:
                continue
            io.append({"t": t, "guest_t": f[0], "ops": f[1], "bytes": f[2],
                       "errors": f[3], "vfail": f[4], "disks": f[5]})
            for w in f[6:]:
                serial, _, ops = w.rpartition(":")
                iops.append({"t": t, "serial": serial, "ops": ops})
    gfields = ["t", "guest_t"]
    for r in gs:
        for k in r:
            if k not in gfields:
                gfields.append(k)
    write_csv(os.path.join(opts.out, "guest.csv"), gfields, gs)
    write_csv(os.path.join(opts.out, "io.csv"),
              ("t", "guest_t", "ops", "bytes", "errors", "vfail", "disks"), io)
    write_csv(os.path.join(opts.out, "iops.csv"), ("t", "serial", "ops"), iops)
    # The guest kernel's tick profile under load, when it had one.
    prof = sorted(((k[len("prof."):], int(v)) for k, v in guest.keys.items()
                   if k.startswith("prof.") and k != "prof.ticks" and
                   v.isdigit()), key=lambda x: -x[1])
    if prof:
        write_csv(os.path.join(opts.out, "profile.csv"),
                  ("function", "ticks"),
                  [{"function": f, "ticks": t} for f, t in prof])
    if guest.keys.get("prof.ticks", "").isdigit():
        summary["prof_ticks"] = int(guest.keys["prof.ticks"])
    if "prof.error" in guest.keys:
        summary["prof_error"] = guest.keys["prof.error"]

    # Per disk: device_add to the first completed I/O, seen from here.
    rows = []
    allserials = ["bn0"] + [d.serial for d in disks]
    bydisk = {d.serial: d for d in disks}
    for s in allserials:
        d = bydisk.get(s)
        tot = guest.keys.get("disk." + s, "").split()
        r = {"serial": s, "kind": opts.kind, "hotplugged": d is not None}
        if d is not None:
            r["added_t"] = (round(d.added_at - t0, 3)
                            if d.added_at is not None else "")
            first = guest.seen_at.get("first." + s)
            r["add_to_first_io"] = (round(first - d.added_at, 3)
                                    if first is not None and
                                    d.added_at is not None else "")
            r["up_to_first_io"] = up_to_first(guest.keys, s)
            # QEMU's answer to device_add itself (the main loop).
            r["device_add_secs"] = (d.add_secs if d.add_secs is not None
                                    else "")
            r["error"] = d.error or ""
            r["removed"] = d.deleted
        if len(tot) == 7:
            for k, v in zip(("ops", "reads", "writes", "bytes", "errors",
                             "vfail"), tot):
                r[k] = v
        rows.append(r)
    write_csv(os.path.join(opts.out, "disks.csv"),
              ("serial", "kind", "hotplugged", "added_t", "add_to_first_io",
               "up_to_first_io", "device_add_secs", "ops", "reads", "writes",
               "bytes", "errors", "vfail", "error", "removed"), rows)
    summary["disks_ok"] = sum(1 for r in rows if r.get("ops") not in
                              (None, "", "0") and r.get("errors") == "0" and
                              r.get("vfail") == "0" and
                              r.get("removed", True))
    write_summary(opts.out, summary)
    print("hotbench: %s: %d/%d disks ok; device_add to first I/O: %s; "
          "disk opened to first I/O: %s; device_add answered: %s" % (
              opts.kind, summary["disks_ok"], opts.disks,
              median_max(rows, "add_to_first_io"),
              median_max(rows, "up_to_first_io"),
              median_max(rows, "device_add_secs")))
    return 0 if summary["disks_ok"] == opts.disks else 1


if __name__ == "__main__":
    sys.exit(main())
