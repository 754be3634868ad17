#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Write the hot-plug benchmark's report from its runs.

usage: bench-report.py [--command CMD] [--versions FILE] RUNDIR OUTMD

RUNDIR is what tests/host/hotbench.sh wrote: RUNDIR/KIND-VARIANT/ per run
(host.csv, guest.csv, io.csv, iops.csv, disks.csv, summary.json, l2-data,
l2-console.log), RUNDIR/KIND-VARIANT-rN/ for round N after the first, and
RUNDIR/rounds, the order each round ran in.  OUTMD gets the report
(docs/results.md for make bench): the first round in full, and when there
were more, a table of every round's IOPS and their ratios, and every
round's errors and latencies summed; beside it, in OUTMD's directory under
results/: bench.png (shared memory and IOPS over time, every variant of
the first round, one panel per disk kind, by gnuplot), and the raw samples
of every round as CSV (host.csv, guest.csv, io.csv, iops.csv, disks.csv,
each with the kind, variant and round in front).  --versions names a
file of "name: version" lines for the report's head.  Exit status: 0 when
the report was written, 1 when a run is missing or unreadable, 2 for bad
usage.
"""

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

VARIANTS = (("fixed", "1. swiotlb, fixed"),
            ("dynamic", "2. swiotlb, dynamic"),
            ("cc-conv", "3. cc-swiotlb, conversions"),
            ("cc-grants", "4. cc-swiotlb, host grants"))
KINDS = ("virtio-blk", "nvme")
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# swiotlb's slab (IO_TLB_SIZE): its debugfs counts in these.
SLAB = 2048
# hotbench.sh takes ROUNDS up to this.
MAX_ROUNDS = 10
# Per 1000 verified transfers under load: (column, stats() key, scale).
# "host.COLUMN" is host.csv's COLUMN (tests/host/hotbench.py) over the
# load; "irq.NAME" the guest's.  The guest's CPU time is in USER_HZ ticks
# (100 a second): ms is 10 each.
PER_K = (("VM exits", "host.kvm_exits", 1),
         ("halt exits", "host.kvm_halt_exits", 1),
         ("exits for host interrupts", "host.kvm_irq_exits", 1),
         ("port I/O exits", "host.kvm_io_exits", 1),
         ("MMIO exits", "host.kvm_mmio_exits", 1),
         ("hypercalls", "host.kvm_hypercalls", 1),
         ("interrupts injected", "host.kvm_irq_injections", 1),
         ("guest timer (LOC)", "irq.LOC", 1), ("guest device", "irq.dev", 1),
         ("reschedule IPIs (RES)", "irq.RES", 1),
         ("function-call IPIs (CAL)", "irq.CAL", 1),
         ("irq_work IPIs (IWI)", "irq.IWI", 1),
         ("softirqs: BLOCK", "irq.sirq.BLOCK", 1),
         ("TIMER", "irq.sirq.TIMER", 1), ("RCU", "irq.sirq.RCU", 1),
         ("SCHED", "irq.sirq.SCHED", 1),
         ("guest CPU ms: user", "irq.cpu.user", 10),
         ("system", "irq.cpu.system", 10), ("softirq", "irq.cpu.softirq", 10),
         ("idle", "irq.cpu.idle", 10), ("steal", "irq.cpu.steal", 10))
# L1's CPU time per 1000 verified transfers under load, in ms (hotbench.py's
# class CPU).
L1_CPU = (("L2 running", "host.l1_guest_ms", 1),
          ("QEMU vCPU threads, user", "host.qemu_vcpu_user_ms", 1),
          ("QEMU vCPU threads, kernel (KVM)", "host.qemu_vcpu_sys_ms", 1),
          ("QEMU's other threads", "host.qemu_io_ms", 1),
          ("rest of L1", "host.l1_other_ms", 1),
          ("L1 idle", "host.l1_idle_ms", 1),
          ("of the other threads, QEMU's main thread", "host.qemu_main_ms", 1),
          ("main thread waiting for a CPU", "host.qemu_main_wait_ms", 1),
          ("vCPU threads waiting for a CPU", "host.qemu_vcpu_wait_ms", 1))
SPLATS = re.compile(r"\[ *[0-9]+\.[0-9]+\] .*(BUG:|WARNING:|Oops|Kernel panic|"
                    r"general protection fault|INFO: task .* blocked for more "
                    r"than|hard LOCKUP|detected stalls on CPUs|self-detected "
                    r"stall on CPU)")


def read_csv(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def num(v, default=None):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def class_bytes(name):
    """A cc-swiotlb size class's slot in bytes, from its name ("512",
    "2K", "256K")."""
    return int(name[:-1]) * 1024 if name.endswith("K") else int(name)


def column(rows, key):
    """The numbers in column KEY of ROWS, skipping rows without one."""
    return [v for v in (num(r.get(key)) for r in rows) if v is not None]


def put_median_max(s, prefix, values):
    """PREFIX_median and PREFIX_max of VALUES into S; nothing if there
    are none."""
    if values:
        s[prefix + "_median"] = statistics.median(values)
        s[prefix + "_max"] = max(values)


def data_keys(path):
    keys = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                k, sep, v = line.strip("\r\n").partition("=")
                if sep:
                    keys[k] = v
    except OSError:
        pass
    return keys


def console(path):
    """(lockups and hung tasks, other kernel problems, 'buffer is full')."""
    lock = other = full = 0
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if "swiotlb buffer is full" in line:
                    full += 1
                if not SPLATS.search(line):
                    continue
                if re.search(r"soft lockup|hard LOCKUP|blocked for more than|"
                             r"stall", line):
                    lock += 1
                else:
                    other += 1
    except OSError:
        return None
    return lock, other, full


class Run:
    def __init__(self, d, kind, variant, rnd=1):
        self.kind, self.variant, self.dir = kind, variant, d
        self.round = rnd
        self.host = read_csv(os.path.join(d, "host.csv"))
        self.guest = read_csv(os.path.join(d, "guest.csv"))
        self.io = read_csv(os.path.join(d, "io.csv"))
        self.iops = read_csv(os.path.join(d, "iops.csv"))
        self.disks = read_csv(os.path.join(d, "disks.csv"))
        self.profile = read_csv(os.path.join(d, "profile.csv"))
        self.l1profile = read_csv(os.path.join(d, "l1-profile.csv"))
        self.keys = data_keys(os.path.join(d, "l2-data"))
        try:
            with open(os.path.join(d, "summary.json")) as f:
                self.summary = json.load(f)
        except (OSError, ValueError):
            self.summary = {}
        self.console = console(os.path.join(d, "l2-console.log"))

    def ok(self):
        return bool(self.host and self.io and "quiesced" in self.keys)

    def pools(self):
        """The bounce pools at the samples (guest.csv): upstream swiotlb's
        size and peak use, in bytes (slabs of 2 KiB); cc-swiotlb's pool,
        its peak out of the depot summed over the size classes, and each
        class's map failures over the run (its counter's rise), when the
        run sampled them."""
        s = {}
        # The most in use: io_tlb_used_hiwater where the run sampled it
        # (every mapping counts, between samples too), else io_tlb_used.
        used = (column(self.guest, "swiotlb_used") +
                column(self.guest, "swiotlb_hiwater"))
        # The size: the pools (dynamic swiotlb adds some) and the transient
        # ones, whose slabs io_tlb_used counts but io_tlb_nslabs does not.
        size = [num(r.get("swiotlb_slabs")) + num(r.get("swiotlb_transient"), 0)
                for r in self.guest if num(r.get("swiotlb_slabs")) is not None]
        if used and size:
            s["swiotlb_peak"] = max(used) * SLAB
            s["swiotlb_size"] = max(size) * SLAB
        classes = sorted({k[:-len(".used")] for r in self.guest[:1]
                          for k in r if k.endswith(".used")},
                         key=class_bytes)
        if not classes:
            return s
        inuse = [sum(num(r.get(c + ".used"), 0) * class_bytes(c)
                     for c in classes) for r in self.guest]
        s["cc_peak"] = max(inuse)
        cc = column(self.guest, "cc_bytes")
        if cc:
            s["cc_size"] = max(cc)
        fails = {}
        for c in classes:
            f = column(self.guest, c + ".fails")
            if f:
                fails[c] = f[-1] - f[0]
        if fails:
            s["class_fails"] = fails
            s["map_fails"] = sum(fails.values())
        return s

    def stats(self):
        s = {}
        q = self.keys.get("quiesced", "").split()
        if len(q) == 6:
            secs, ops, nbytes, errs, vfail, _ = q
            s["errors"], s["vfail"] = int(errs), int(vfail)
            s["ops"], s["bytes"] = int(ops), int(nbytes)
            s["iops"] = int(ops) / float(secs) if float(secs) else 0
        s["violations"] = int(max([num(r.get("guard_violations"), 0)
                                   for r in self.host] or [0]))
        if self.console:
            s["lockups"], s["problems"], s["full"] = self.console
        lat = column(self.disks, "add_to_first_io")
        put_median_max(s, "lat", lat)
        s["lat_n"] = len(lat)
        plugged = [r for r in self.disks if r.get("hotplugged") == "True"]
        # Of that, from ioload opening the disk, and QEMU's answer to each
        # device_add, in ms (runs before these columns were there have
        # none).
        put_median_max(s, "opened", column(plugged, "up_to_first_io"))
        put_median_max(s, "add", [x * 1000 for x in
                                  column(plugged, "device_add_secs")])
        # QEMU's answer times (host.csv's qmp_ms and stats_ms).
        for col in ("qmp", "stats"):
            put_median_max(s, col, column(self.host, col + "_ms"))
        s["hotplugged"] = len(plugged)
        s["ok"] = self.summary.get("disks_ok")
        shared = [num(r.get("shared_bytes"), 0) for r in self.host]
        if shared:
            s["peak"], s["settled"] = max(shared), shared[-1]
            s["start"] = shared[0]
        ex = column(self.host, "kvm_exits")
        if ex:
            s["exits"] = ex[-1] - ex[0]
        conv = column(self.guest, "conversions")
        if conv:
            s["conversions"] = conv[-1] - conv[0]
        gb = column(self.guest, "grant_bytes")
        if gb:
            s["grant_peak"] = max(gb)
        s.update(self.pools())
        # While the disks were driven: the host's samples up to quiesced=,
        # the guest's interrupts from ready= to the end of its load.
        qt = num(self.summary.get("quiesced_t"))
        load = [r for r in self.host
                if qt is not None and num(r.get("t"), qt + 1) <= qt]
        for _, key, _ in PER_K + L1_CPU:
            if key.startswith("host."):
                v = column(load, key[len("host."):])
                if len(v) > 1:
                    s[key] = v[-1] - v[0]
        # Where QEMU's vCPU threads were at each sample under load
        # (hotbench.py's vcpuN_state), all vCPUs together.
        states = {}
        for row in load:
            for k, v in row.items():
                if k.startswith("vcpu") and k.endswith("_state") and v:
                    states[v] = states.get(v, 0) + 1
        if states:
            s["vcpu_states"] = states
        for k, v in self.keys.items():
            if k.startswith("irq.") and num(v) is not None:
                s[k] = num(v)
        return s


def states_lines(st, top=4):
    """Where the vCPU threads were at the samples, per variant: each
    state's share, the TOP most seen and the rest together."""
    have = [v for v, _ in VARIANTS if st.get(v, {}).get("vcpu_states")]
    if not have:
        return []
    L = ["QEMU's vCPU threads at the once-a-second samples under load, all "
         "vCPUs: running or runnable (R), or asleep (S) or in an "
         "uninterruptible wait (D) in the kernel function named "
         "(`kvm_vcpu_block`: L2 halted; a futex: a lock of QEMU's, such as "
         "its big lock), as shares of the samples:", ""]
    for v in have:
        c = st[v]["vcpu_states"]
        n = sum(c.values())
        most = sorted(c.items(), key=lambda x: (-x[1], x[0]))
        parts = ["%s %.0f%%" % (k, 100.0 * x / n) for k, x in most[:top]]
        rest = sum(x for _, x in most[top:])
        if rest:
            parts.append("other %.0f%%" % (100.0 * rest / n))
        L.append("- %s (%d samples): %s" % (v, n, ", ".join(parts)))
    L.append("")
    return L


def mib(b):
    return "%.1f" % (b / 1048576.0) if b is not None else "?"


def fmt(v, f="%d"):
    return f % v if v is not None else "?"


def pools_table(st):
    """Per variant: the bounce pool, its peak use, and the mappings that
    failed for want of room."""
    if not any("swiotlb_size" in st[v] or "cc_size" in st[v] for v in st):
        return []
    L = ["The bounce pools: swiotlb's, its largest size (with dynamic "
         "swiotlb, the pools it added and its transient ones) and the most "
         "of it in use (`io_tlb_used_hiwater`, or the once-a-second "
         "samples of `io_tlb_used` in runs that did not sample it); "
         "cc-swiotlb's, all chunks of every size class, and the most "
         "taken out of its depots at one sample (mapped, or cached per "
         "CPU); and the mappings that failed for want of a slot. "
         "cc-swiotlb counts each failure, per size class; upstream "
         "swiotlb counts none. It prints 'swiotlb buffer is full', at most "
         "10 times in 5 s (`dev_warn_ratelimited()`), and not at all for "
         "NVMe's scatter-gather mappings (`DMA_ATTR_NO_WARN`), so for "
         "variants 1 and 2 the console's count is a lower bound and can "
         "be 0 while mappings fail. A failed mapping is not an I/O error: "
         "virtio-blk and NVMe return `BLK_STS_RESOURCE` and the block "
         "layer tries the request again. The first round's runs.",
         "",
         "| variant | swiotlb pool MiB: size / peak in use (%) | cc-swiotlb "
         "MiB: size / peak out of the depots | map failures counted | of "
         "them, per class | 'swiotlb buffer is full' on the console |",
         "|---|---|---|---|---|---|"]
    for v, label in VARIANTS:
        if v not in st:
            continue
        s = st[v]
        sw = "-"
        if s.get("swiotlb_size"):
            sw = "%s / %s (%.0f%%)" % (mib(s["swiotlb_size"]),
                                       mib(s["swiotlb_peak"]),
                                       100.0 * s["swiotlb_peak"] /
                                       s["swiotlb_size"])
        cc = "-"
        if "cc_peak" in s:
            cc = "%s / %s" % (mib(s.get("cc_size")), mib(s["cc_peak"]))
        per = ", ".join("%s %d" % (c, n) for c, n in
                        s.get("class_fails", {}).items() if n) or "-"
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            label, sw, cc,
            fmt(s.get("map_fails")) if "map_fails" in s else "not counted",
            per if "map_fails" in s else "-", fmt(s.get("full"))))
    L.append("")
    return L


def per_k_table(st, cols, intro):
    """COLS per 1000 verified transfers, under load, after INTRO."""
    have = [(c, k, m) for c, k, m in cols
            if any(st[v].get(k) is not None for v in st)]
    if not have:
        return []
    L = [intro, "",
         "| variant | " + " | ".join(c for c, _, _ in have) + " |",
         "|---|" + "---|" * len(have)]
    for v, label in VARIANTS:
        if v not in st:
            continue
        ops = st[v].get("ops")
        L.append("| %s | %s |" % (label, " | ".join(
            "%.0f" % (st[v][k] * m * 1000.0 / ops)
            if ops and st[v].get(k) is not None else "?"
            for _, k, m in have)))
    L.append("")
    return L


def plot(runs, outdir):
    """bench.png: shared MiB (solid) and IOPS (dashed, right axis)."""
    # The plot's data and script are scratch: the CSV files are the data.
    datdir = tempfile.mkdtemp(prefix="bench-plot.")
    kinds = [k for k in KINDS if any(r.kind == k for r in runs)]
    script = ['set terminal pngcairo size 1200,%d font ",10"' %
              (420 * len(kinds)),
              'set output "%s"' % os.path.join(outdir, "bench.png"),
              'set multiplot layout %d,1' % len(kinds),
              'set key outside right top',
              'set xlabel "seconds since the guest was ready"',
              'set ylabel "shared with the host (MiB)"',
              'set y2label "verified transfers per second"',
              'set y2tics', 'set ytics nomirror', 'set grid']
    colors = {"fixed": "#999999", "dynamic": "#1f77b4",
              "cc-conv": "#ff7f0e", "cc-grants": "#2ca02c"}
    for kind in kinds:
        plots = []
        for r in runs:
            if r.kind != kind:
                continue
            sh = os.path.join(datdir, "%s-%s-shared.dat" % (kind, r.variant))
            with open(sh, "w") as f:
                for row in r.host:
                    f.write("%s %.3f\n" % (row["t"],
                                           num(row["shared_bytes"], 0) / 1048576))
            io = os.path.join(datdir, "%s-%s-iops.dat" % (kind, r.variant))
            with open(io, "w") as f:
                last = None
                for row in r.io:
                    gt = num(row["guest_t"])
                    if last is not None and gt is not None and gt > last:
                        f.write("%s %.1f\n" % (row["t"],
                                               num(row["ops"], 0) / (gt - last)))
                    last = gt
            c = colors.get(r.variant, "#000000")
            plots.append('"%s" using 1:2 axes x1y1 with lines lw 2 lc rgb "%s" '
                         'title "%s shared"' % (sh, c, r.variant))
            plots.append('"%s" using 1:2 axes x1y2 with lines dt 2 lc rgb "%s" '
                         'title "%s IOPS"' % (io, c, r.variant))
        script.append('set title "%s: %s disks hot-plugged under load"' % (
            kind, max((len(r.disks) for r in runs if r.kind == kind),
                      default=0)))
        script.append("plot " + ", \\\n  ".join(plots))
    script.append("unset multiplot")
    gp = os.path.join(datdir, "bench.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    try:
        subprocess.run(["gnuplot", gp], check=True, capture_output=True,
                       timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        return "gnuplot failed: %s" % e
    finally:
        shutil.rmtree(datdir, ignore_errors=True)
    return None


def ticks_table(intro, prof, st, top):
    """INTRO, then PROF ({variant: {function: ticks, "ticks": all}}) in
    ticks per 1000 verified transfers: all ticks, and the TOP functions of
    each variant ("-" for a function a variant has no figure for)."""
    per_k = {v: 1000.0 / st[v]["ops"] for v in prof}
    funcs = set()
    for v, ticks in prof.items():
        funcs.update(sorted((f for f in ticks if f != "ticks"),
                            key=lambda f: -ticks[f])[:top])
    funcs = sorted(funcs, key=lambda f: -max(
        prof[v].get(f, 0) * per_k[v] for v in prof))
    have = [(v, label) for v, label in VARIANTS if v in prof]
    L = [intro, "",
         "| function | " + " | ".join(label for _, label in have) + " |",
         "|---|" + "---|" * len(have)]
    for f in ["ticks"] + funcs:
        L.append("| %s | %s |" % (
            "all kernel ticks" if f == "ticks" else "`%s`" % f,
            " | ".join("%.1f" % (prof[v][f] * per_k[v])
                       if f in prof[v] else "-" for v, _ in have)))
    L.append("")
    return L


def profile_table(runs, st, top=12):
    """The guest kernel's tick profile under load: the TOP functions of
    each variant, in ticks per 1000 verified transfers."""
    prof = {}
    errors = ["%s: %s" % (r.variant, r.summary["prof_error"]) for r in runs
              if "prof_error" in r.summary]
    for r in runs:
        # hotbench.py's profile.csv and summary.json's prof_ticks.
        ticks = {row["function"]: num(row["ticks"]) for row in r.profile}
        ticks["ticks"] = r.summary.get("prof_ticks")
        if ticks["ticks"] and st[r.variant].get("ops"):
            prof[r.variant] = ticks
    if not prof:
        return (["The guest kernel's tick profile could not be read: %s." %
                 "; ".join(errors), ""] if errors else [])
    intro = ("The guest kernel's tick profile over the same load "
             "(`profile=2`, /proc/profile, tests/guest/kprofile.sh): ticks "
             "per 1000 verified transfers, where the kernel was when a CPU's "
             "timer ticked (a tick is 4 ms of one CPU at HZ=250; idle and "
             "time waiting for the host count where they happened). The top "
             "%d functions of each variant; a function outside a variant's "
             "top 30 shows as \"-\"." % top)
    if errors:
        intro += " Not read: %s." % "; ".join(errors)
    return ticks_table(intro, prof, st, top)


def l1_profile_table(runs, st, top=12):
    """L1's own kernel tick profile under load: the TOP functions of each
    variant, in ticks per 1000 verified transfers, from the reads of
    l1-profile.csv that ended by quiesced= (each read keeps its 15
    functions with the most ticks, so a function's sum is a floor)."""
    prof, reads = {}, {}
    for r in runs:
        qt = num(r.summary.get("quiesced_t"))
        if not r.l1profile or qt is None or not st[r.variant].get("ops"):
            continue
        ticks = {}
        n = 0
        for row in r.l1profile:
            t, v = num(row.get("t")), num(row.get("ticks"))
            if t is None or v is None or t > qt:
                continue
            f = row["function"]
            if f == "(all)":
                n += 1
                f = "ticks"
            ticks[f] = ticks.get(f, 0) + v
        if n:
            prof[r.variant], reads[r.variant] = ticks, n
    if not prof:
        errors = ["%s: %s" % (r.variant, r.summary["l1_profile_error"])
                  for r in runs if "l1_profile_error" in r.summary]
        return (["L1's kernel tick profile could not be read: %s." %
                 "; ".join(errors), ""] if errors else [])
    return ticks_table(
        "L1's own kernel tick profile over the same load (`profile=2` on "
        "L1's command line, read every 10 s: tests/host/hotbench.py), in "
        "ticks per 1000 verified transfers (a tick is 4 ms of one of L1's "
        "CPUs in L1's kernel, idle included; time in L2 counts where KVM "
        "turns interrupts back on after an exit, in "
        "`kvm_arch_vcpu_ioctl_run`). Reads that ended by quiesced=: %s. "
        "Each read keeps its top 15 functions, so a function's figure is "
        "a floor; the top %d of each variant." % (
            "; ".join("%s %d" % (v, reads[v]) for v, _ in VARIANTS
                      if v in reads), top), prof, st, top)


def read_rounds(path):
    """{(kind, round): [variant, ...]}, the order each round ran in, from
    hotbench.sh's RUNDIR/rounds."""
    order = {}
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) >= 3 and w[1].isdigit():
                    order[(w[0], int(w[1]))] = w[2:]
    except OSError:
        pass
    return order


def total(vals):
    """The sum of VALS, "?" for a run without its figure."""
    known = [v for v in vals if v is not None]
    if not known and vals:
        return "?"
    return "%d%s" % (sum(known), " + ?" if len(known) < len(vals) else "")


def rounds_section(kind, kr, order):
    """When KIND's runs KR had more than one round: each round's verified
    transfers per second and their ratios to variant 2's in that round,
    then every round's runs summed, per variant."""
    rounds = sorted({r.round for r in kr})
    if len(rounds) < 2:
        return []
    st = {(r.variant, r.round): r.stats() for r in kr}
    vs = [(v, label) for v, label in VARIANTS
          if any(r.variant == v for r in kr)]
    others = [v for v, _ in vs if v != "dynamic"]
    L = ["### %s, all %d rounds" % (kind, len(rounds)), "",
         "The tables above are the first round's. Each round ran every "
         "variant once, in the order shown (reversed every other round); "
         "verified transfers per second over each whole run, and the ratio "
         "to variant 2's in the same round.", "",
         "| round | order | " + " | ".join("%s, transfers/s" % v
                                          for v, _ in vs) +
         "".join(" | %s / dynamic" % v for v in others) + " |",
         "|---|---|" + "---|" * (len(vs) + len(others))]
    ratios = {v: [] for v in others}
    for rnd in rounds:
        base = st.get(("dynamic", rnd), {}).get("iops")
        cells = [fmt(st.get((v, rnd), {}).get("iops"), "%.1f")
                 for v, _ in vs]
        for v in others:
            x = st.get((v, rnd), {}).get("iops")
            if x is not None and base:
                ratios[v].append(x / base)
                cells.append("%.2f" % (x / base))
            else:
                cells.append("?")
        L.append("| %d | %s | %s |" % (
            rnd, ", ".join(order.get((kind, rnd), ["?"])), " | ".join(cells)))
    L.append("")
    for v in others:
        x = ratios[v]
        if x:
            L.append("%s / dynamic over %d rounds: median %.2f, mean %.2f, "
                     "lowest %.2f, highest %.2f; at least 1.00 in %d." % (
                         v, len(x), statistics.median(x),
                         statistics.mean(x), min(x), max(x),
                         sum(1 for y in x if y >= 1.0)))
    L += ["", "Every round's runs of each variant together: the disks "
          "clean and the problems summed, device_add to first I/O over "
          "every hot-plugged disk of every round, and the highest peak and "
          "settled shared memory of any round.", "",
          "| variant | runs | disks clean | I/O errors | verification "
          "failures | guard violations | lockups, hung tasks | other kernel "
          "problems | device_add to first I/O, median / max (s) | shared "
          "MiB: highest peak / highest settled |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for v, label in vs:
        vr = [r for r in kr if r.variant == v]
        ss = [st[(v, r.round)] for r in vr]
        lat = sorted(x for r in vr for x in (num(d.get("add_to_first_io"))
                                               for d in r.disks)
                     if x is not None)
        peak = [s["peak"] for s in ss if "peak" in s]
        settled = [s["settled"] for s in ss if "settled" in s]
        L.append("| %s | %d | %s/%d | %s | %s | %s | %s | %s | %s / %s | "
                 "%s / %s |" % (
                     label, len(vr), total([s.get("ok") for s in ss]),
                     sum(len(r.disks) for r in vr),
                     total([s.get("errors") for s in ss]),
                     total([s.get("vfail") for s in ss]),
                     total([s.get("violations") for s in ss]),
                     total([s.get("lockups") for s in ss]),
                     total([s.get("problems") for s in ss]),
                     fmt(statistics.median(lat) if lat else None, "%.2f"),
                     fmt(lat[-1] if lat else None, "%.2f"),
                     mib(max(peak) if peak else None),
                     mib(max(settled) if settled else None)))
    L.append("")
    return L


def write_raw(runs, outdir):
    for name, attr in (("host", "host"), ("guest", "guest"), ("io", "io"),
                       ("iops", "iops"), ("disks", "disks"),
                       ("profile", "profile"),
                       ("l1-profile", "l1profile")):
        fields = ["kind", "variant", "round"]
        rows = []
        for r in runs:
            for row in getattr(r, attr):
                for k in row:
                    if k not in fields:
                        fields.append(k)
                rows.append(dict(row, kind=r.kind, variant=r.variant,
                                 round=r.round))
        if name in ("profile", "l1-profile") and not rows:
            continue
        with open(os.path.join(outdir, name + ".csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--command", default="make bench")
    ap.add_argument("--versions")
    ap.add_argument("rundir")
    ap.add_argument("outmd")
    opts = ap.parse_args()

    runs, missing = [], []
    for kind in KINDS:
        for rnd in range(1, MAX_ROUNDS + 1):
            for v, _ in VARIANTS:
                name = "%s-%s%s" % (kind, v, "-r%d" % rnd if rnd > 1 else "")
                d = os.path.join(opts.rundir, name)
                if not os.path.isdir(d):
                    continue
                r = Run(d, kind, v, rnd)
                runs.append(r)
                if not r.ok():
                    missing.append(name)
    order = read_rounds(os.path.join(opts.rundir, "rounds"))
    if not runs:
        print("bench-report: no runs in %s" % opts.rundir, file=sys.stderr)
        return 1
    outdir = os.path.join(os.path.dirname(os.path.abspath(opts.outmd)),
                          "results")
    os.makedirs(outdir, exist_ok=True)
    write_raw(runs, outdir)
    perr = plot([r for r in runs if r.round == 1], outdir)
    rel = os.path.relpath(outdir, os.path.dirname(os.path.abspath(opts.outmd)))

    L = ["# Hot-plug benchmark results", "",
         "Written by `scripts/bench-report.py`; do not edit by hand. "
         "How the numbers are taken: [bench.md](%s)." % os.path.relpath(
             os.path.join(TOP, "docs", "bench.md"),
             os.path.dirname(os.path.abspath(opts.outmd))), "",
         "Command: `%s`" % opts.command, ""]
    if opts.versions:
        with open(opts.versions) as f:
            for line in f:
                if line.strip():
                    L.append("- " + line.strip())
        L.append("")
    kernels = sorted({"%s: %s" % (r.variant, r.keys.get("kernel", "?"))
                      for r in runs})
    L += ["Guest kernels: " + "; ".join(kernels), "",
          "Under TCG, times and rates are not hardware numbers: IOPS are "
          "given as ratios to variant 2 in the same run. Counts (errors, "
          "exits, conversions, bytes) carry over.", ""]
    if missing:
        L += ["**Runs that did not finish:** %s (their rows show what was "
              "measured before they stopped)." % ", ".join(missing), ""]
    for kind in KINDS:
        every = [r for r in runs if r.kind == kind]
        kr = [r for r in every if r.round == 1]
        if not kr:
            continue
        st = {r.variant: r.stats() for r in kr}
        base = st.get("dynamic", {}).get("iops")
        n = max(len(r.disks) for r in kr)
        L += ["## %s, %d disks (1 at boot, %d hot-plugged)" % (kind, n, n - 1),
              "",
              "| variant | disks clean | I/O errors | verification failures "
              "| guard violations | lockups, hung tasks | other kernel "
              "problems | 'swiotlb buffer is full' | verified IOPS / "
              "variant 2 | device_add to first I/O, median / max (s) "
              "| of which disk opened to first I/O, median / max (s) "
              "| shared MiB: start / peak / settled | VM exits | "
              "conversions (pages) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for v, label in VARIANTS:
            if v not in st:
                continue
            s = st[v]
            ratio = ("%.2f" % (s["iops"] / base)
                     if s.get("iops") is not None and base else "?")
            L.append("| %s | %s/%d | %s | %s | %s | %s | %s | %s | %s | %s / "
                     "%s | %s / %s | %s / %s / %s | %s | %s |" % (
                         label, fmt(s.get("ok")), n, fmt(s.get("errors")),
                         fmt(s.get("vfail")), fmt(s.get("violations")),
                         fmt(s.get("lockups")), fmt(s.get("problems")),
                         fmt(s.get("full")), ratio,
                         fmt(s.get("lat_median"), "%.2f"),
                         fmt(s.get("lat_max"), "%.2f"),
                         fmt(s.get("opened_median"), "%.2f"),
                         fmt(s.get("opened_max"), "%.2f"),
                         mib(s.get("start")), mib(s.get("peak")),
                         mib(s.get("settled")), fmt(s.get("exits")),
                         fmt(s.get("conversions"))))
        L.append("")
        L.append("Verified transfers per second, each variant over its whole "
                 "run: " + "; ".join(
                     "%s %s" % (v, fmt(st[v].get("iops"), "%.1f"))
                     for v, _ in VARIANTS if v in st) + ".")
        L.append("")
        for col, what in (("qmp", "the guard's and the pool's QMP "
                           "queries (QEMU's main loop)"),
                          ("stats", "query-stats (the main loop and "
                           "every vCPU thread)"),
                          ("add", "each device_add (the main loop, while "
                           "it plugs the disk)")):
            if any(col + "_median" in st[v] for v in st):
                L.append("QEMU's answer to %s, median / max ms: " % what +
                         "; ".join("%s %s / %s" % (
                             v, fmt(st[v].get(col + "_median"), "%.0f"),
                             fmt(st[v].get(col + "_max"), "%.0f"))
                             for v, _ in VARIANTS if v in st) + ".")
                L.append("")
        L += pools_table(st)
        L += per_k_table(st, PER_K, (
            "Per 1000 verified transfers, while the disks were driven (from "
            "the guest's ready= to the end of its load): the VM exits and "
            "some of their reasons (KVM), the interrupts KVM injected, and "
            "the guest's interrupts, softirqs (/proc/interrupts, "
            "/proc/softirqs) and CPU time (/proc/stat), all CPUs."))
        L += per_k_table(st, L1_CPU, (
            "L1's CPU time in ms per 1000 verified transfers, over the same "
            "load (L1's /proc, both CPUs): L2 running; QEMU's vCPU threads "
            "outside L2, in user space (devices emulated there) and in the "
            "kernel (KVM); QEMU's other threads (main loop, block I/O); the "
            "rest of L1; idle; then, of QEMU's other threads, its main "
            "thread (the main loop, which works under QEMU's big lock), and "
            "the time the main thread and the vCPU threads (summed) were "
            "runnable but waited for one of L1's CPUs (the scheduler's run "
            "delay: not CPU time, and not in the columns before)."))
        L += states_lines(st)
        L += profile_table(kr, st)
        L += l1_profile_table(kr, st)
        L += rounds_section(kind, every, order)
    L += ["![shared memory and IOPS over time](%s/bench.png)" % rel
          if not perr else "No plot: %s." % perr, "",
          "Raw samples: [host.csv](%s/host.csv) (QMP, once a second), "
          "[guest.csv](%s/guest.csv) (the guest's bounce-buffer state), "
          "[io.csv](%s/io.csv) and [iops.csv](%s/iops.csv) (ioload), "
          "[disks.csv](%s/disks.csv) (per disk)%s%s." % ((rel,) * 5 + (
              ", [profile.csv](%s/profile.csv) (the guest kernel's tick "
              "profile)" % rel if any(r.profile for r in runs) else "",
              ", [l1-profile.csv](%s/l1-profile.csv) (L1's kernel tick "
              "profile, every 10 s)" % rel
              if any(r.l1profile for r in runs) else "")),
          ""]
    with open(opts.outmd, "w") as f:
        f.write("\n".join(L))
    print("bench-report: %s (%d runs%s)" % (
        opts.outmd, len(runs),
        "; not finished: " + ", ".join(missing) if missing else ""))
    return 1 if missing or perr else 0


if __name__ == "__main__":
    sys.exit(main())
