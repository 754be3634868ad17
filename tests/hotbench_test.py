#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests for tests/host/hotbench.py, run by `make test` (tier
"harness"): the benchmark's host side against a fake QEMU (a QMP server
on a Unix socket) and a guest data channel written by the test.

- A guest that samples to the end: every disk plugged and removed, exit 0,
  the CSV files written; the CPU time of the fake QEMU's one "vCPU" thread,
  which spins, lands in host.csv's qemu_vcpu_user_ms and not elsewhere;
  the guest's prof. lines become profile.csv; a machine without a tick
  profile says so in summary.json.
- A guest that goes silent after "ready=" (the test bed's lost wake-up):
  hotbench.py gives up after --silent seconds, writes l2-silent, asks QEMU
  to quit and exits 4, well before its --timeout.
"""
import csv
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
HOTBENCH = os.path.join(HERE, "host", "hotbench.py")
sys.path.insert(0, os.path.join(HERE, "host"))
import hotbench  # noqa: E402


class VCPU(threading.Thread):
    """A fake QEMU's vCPU thread: runs until stop is set; started is set
    once it runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.started = threading.Event()


class Spinner(VCPU):
    """Busy in user space until stopped."""

    def run(self):
        self.started.set()
        n = 0
        while not self.stop.is_set():
            for _ in range(10000):
                n += 1


class Idler(VCPU):
    """Asleep until stopped, waking every 5 ms to look."""

    def run(self):
        self.started.set()
        while not self.stop.wait(0.005):
            pass


class FakeQEMU(threading.Thread):
    """Answers hotbench.py's QMP commands; DEVICE_DELETED follows each
    device_del.  Keeps every command it was sent.  Its vCPU 1 is a
    Spinner, its vCPU 0 an Idler."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.commands = []
        self.vcpu = Spinner()
        self.idle = Idler()
        for t in (self.vcpu, self.idle):
            t.start()
            t.started.wait()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)

    def answer(self, cmd, args):
        if cmd == "x-query-dma-guard":
            # A main loop that takes its time: hotbench.py's qmp_ms.
            time.sleep(0.2)
            return {"enabled": True, "shared-pages": 16, "devices": []}
        if cmd == "device_add":
            # Plugging takes the main loop a while: device_add_secs.
            time.sleep(0.1)
            return {}
        if cmd == "x-query-shared-pool":
            return {"held-bytes": 0, "pooled-bytes": 0, "exits": 0,
                    "mapped-chunks": 4, "unmapped-chunks": 9}
        if cmd == "query-cpus-fast":
            # Not in cpu-index order.
            return [{"cpu-index": 1, "thread-id": self.vcpu.native_id,
                     "qom-path": "/machine/unattached/device[1]"},
                    {"cpu-index": 0, "thread-id": self.idle.native_id,
                     "qom-path": "/machine/unattached/device[0]"}]
        if cmd == "query-stats" and args.get("target") == "vm":
            # One entry, no qom-path; a statistic not kept among them.
            return [{"provider": "kvm",
                     "stats": [{"name": "pages_4k", "value": 1200},
                               {"name": "pages_2m", "value": 9},
                               {"name": "pages_1g", "value": 0},
                               {"name": "mmu_cache_miss", "value": 5}]}]
        if cmd == "query-stats":
            # Also a vCPU that query-cpus-fast did not name: in the sums
            # only.
            return [{"qom-path": "/machine/unattached/device[0]",
                     "stats": [{"name": "exits", "value": 7},
                               {"name": "signal_exits", "value": 3},
                               {"name": "io_exits", "value": 4},
                               {"name": "pf_taken", "value": 6}]},
                    {"qom-path": "/machine/unattached/device[1]",
                     "stats": [{"name": "exits", "value": 5},
                               {"name": "mmio_exits", "value": 2},
                               {"name": "hypercalls", "value": 1}]},
                    {"qom-path": "/machine/peripheral/cpu9",
                     "stats": [{"name": "exits", "value": 100}]}]
        return {}

    def run(self):
        conn, _ = self.srv.accept()
        f = conn.makefile("rwb")
        f.write(b'{"QMP": {"version": {}, "capabilities": []}}\n')
        f.flush()
        for line in f:
            msg = json.loads(line)
            cmd = msg.get("execute")
            args = msg.get("arguments", {})
            self.commands.append(cmd)
            out = [{"return": self.answer(cmd, args)}]
            if cmd == "device_del":
                out.append({"event": "DEVICE_DELETED",
                            "data": {"device": args["id"]}})
            for o in out:
                f.write(json.dumps(o).encode() + b"\n")
            f.flush()
            if cmd == "quit":
                break
        conn.close()
        self.srv.close()


class Guest(threading.Thread):
    """Writes the guest's side of the data channel: ready=, then a sample
    a second; with SILENT, nothing more after the first sample."""

    def __init__(self, path, disks, silent):
        super().__init__(daemon=True)
        self.path = path
        self.disks = disks
        self.silent = silent
        self.stop = threading.Event()

    def put(self, line):
        with open(self.path, "a") as f:
            f.write(line + "\n")

    def run(self):
        self.put("ready=1")
        self.put("gs=1.0 shared_pages=16 classes=512,4K chunks=1,2 "
                 "used=7,0 fails=0,0")
        if self.silent:
            return
        for s in range(self.disks):
            self.put("up.bn%d=vd%c 1.0" % (s, ord("a") + s))
            self.put("first.bn%d=1.25" % s)
        t = 2
        # quiesced= once the host has plugged them all (--every 0).
        time.sleep(1)
        self.put("sample=2.0 10 5120 0 0 %d" % self.disks)
        self.put("quiesced=2.0 10 5120 0 0")
        for s in range(self.disks):
            self.put("disk.bn%d=5 3 2 2560 0 0 0" % s)
        for f, t in (("default_idle", 40), ("memcpy_orig", 7),
                     ("swiotlb_bounce.isra.0", 3)):
            self.put("prof.%s=%d" % (f, t))
        self.put("prof.ticks=55")
        while not self.stop.wait(0.5):
            t += 1
            # Only what changed: the slots used once, shared_pages never.
            self.put("gs=%d.0%s" % (t, " used=7,3" if t == 4 else ""))
            if t == 6:
                self.put("removed=0")
                self.put("done=1")


class HotbenchTest(unittest.TestCase):
    def run_bench(self, silent):
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "qmp")
            data = os.path.join(d, "l2-data")
            out = os.path.join(d, "out")
            qemu = FakeQEMU(sock)
            qemu.start()
            guest = Guest(data, 2, silent)
            guest.start()
            t0 = time.monotonic()
            p = subprocess.run(
                [sys.executable, HOTBENCH, "--disks", "2", "--every", "0",
                 "--dir", d, "--timeout", "120", "--silent", "10",
                 sock, data, out],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, timeout=100)
            took = time.monotonic() - t0
            guest.stop.set()
            qemu.vcpu.stop.set()
            qemu.idle.stop.set()
            with open(os.path.join(out, "summary.json")) as f:
                summary = json.load(f)
            files = sorted(os.listdir(out))
            # Every CSV file, by name without ".csv": a list of rows.
            tables = {}
            for name in files:
                if name.endswith(".csv"):
                    with open(os.path.join(out, name)) as f:
                        tables[name[:-4]] = list(csv.DictReader(f))
            return p, took, summary, files, qemu.commands, tables

    def test_complete_run(self):
        p, took, summary, files, cmds, tables = self.run_bench(False)
        gs, host = tables.get("guest", []), tables.get("host", [])
        prof = [(r["function"], r["ticks"])
                for r in tables.get("profile", [])]
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("hotbench: virtio-blk: 2/2 disks ok", p.stdout)
        self.assertNotIn("l2-silent", files)
        for f in ("host.csv", "guest.csv", "io.csv", "disks.csv"):
            self.assertIn(f, files)
        self.assertEqual(summary["done"], "1")
        self.assertIn("quiesced_t", summary)
        # This machine booted without profile=: said so, nothing written.
        if not os.path.exists("/proc/profile"):
            self.assertIn("L1 has no tick profile",
                          summary.get("l1_profile_error", ""))
            self.assertNotIn("l1_profile_reads", summary)
            self.assertNotIn("l1-profile.csv", files)
        # Values a gs= line left out are carried forward.
        self.assertGreaterEqual(len(gs), 4)
        self.assertEqual({r["shared_pages"] for r in gs}, {"16"})
        used = [(float(r["guest_t"]), r["4K.used"]) for r in gs]
        self.assertTrue(all(u == ("3" if t >= 4 else "0") for t, u in used),
                        used)
        # The per-class fields written out as one column a class.
        self.assertEqual({(r["512.used"], r["512.chunks"], r["4K.chunks"],
                           r["4K.fails"]) for r in gs}, {("7", "1", "2", "0")})
        self.assertNotIn("used", gs[0])
        self.assertNotIn("classes", gs[0])
        self.assertIn("device_add", cmds)
        self.assertIn("device_del", cmds)
        self.assertNotIn("quit", cmds)
        # The spinning vCPU's time is QEMU's vCPU user time; no L2 ran.
        self.assertGreaterEqual(len(host), 3)
        cpu = {k: int(host[-1][k]) - int(host[0][k])
               for k in ("l1_guest_ms", "qemu_vcpu_user_ms",
                         "qemu_vcpu_sys_ms", "qemu_io_ms", "l1_idle_ms")}
        secs = float(host[-1]["t"]) - float(host[0]["t"])
        self.assertGreater(cpu["qemu_vcpu_user_ms"], 200 * secs, cpu)
        self.assertLess(cpu["qemu_io_ms"], cpu["qemu_vcpu_user_ms"], cpu)
        self.assertLess(cpu["qemu_vcpu_sys_ms"], cpu["qemu_vcpu_user_ms"],
                        cpu)
        self.assertEqual(cpu["l1_guest_ms"], 0, cpu)
        # Each vCPU's own columns by its cpu-index: vCPU 1 spins, vCPU 0
        # sleeps; their exits; nothing for vCPUs that are not there.
        spun = {i: int(host[-1]["vcpu%d_user_ms" % i]) -
                int(host[0]["vcpu%d_user_ms" % i]) for i in (0, 1)}
        self.assertGreater(spun[1], 200 * secs, spun)
        self.assertLess(spun[0], 20 * secs + 20, spun)
        # Where each vCPU was at the samples: vCPU 1 spins, vCPU 0 sleeps
        # (in a futex: Python's Event.wait), where the kernel names it.
        # vCPU 0 wakes 200 times a second, and on a loaded machine waits
        # for a CPU: a sample may find it runnable, most do not.
        states = {i: {r["vcpu%d_state" % i] for r in host} for i in (0, 1)}
        self.assertLessEqual(states[0] - {"R"},
                             {x for x in states[0] if x.startswith("S ")},
                             states)
        asleep = [r["vcpu0_state"].startswith("S ") for r in host]
        self.assertGreater(sum(asleep), len(asleep) / 2, states)
        self.assertIn("R", states[1], states)
        if states[0] - {"R"} != {"S ?"}:
            self.assertTrue(any("futex" in x for x in states[0]), states)
        # vCPU 0 slept some 200 times a second: its voluntary switches.
        slept = (int(host[-1]["vcpu0_vcsw"]) - int(host[0]["vcpu0_vcsw"]))
        self.assertGreater(slept, 50 * secs, slept)
        # Waiting for a CPU, where the kernel counts it: whole ms, and
        # never more than the time that passed.
        for k in ("qemu_main_wait_ms", "qemu_vcpu_wait_ms", "vcpu0_wait_ms",
                  "vcpu1_wait_ms"):
            w = {r[k] for r in host}
            if w != {""}:
                d = int(host[-1][k]) - int(host[0][k])
                self.assertTrue(0 <= d <= 2000 * secs, (k, d))
        # The main thread (this test's) is QEMU's other threads' part.
        main = [(int(r["qemu_main_ms"]), int(r["qemu_io_ms"])) for r in host]
        self.assertTrue(all(m <= io + 10 for m, io in main), main)
        self.assertEqual({(r["vcpu0_exits"], r["vcpu0_signal_exits"],
                           r["vcpu0_io_exits"], r["vcpu0_mmio_exits"],
                           r["vcpu1_exits"], r["vcpu1_mmio_exits"],
                           r["vcpu1_hypercalls"], r["kvm_exits"],
                           r["kvm_mmio_exits"], r["kvm_pf_taken"])
                          for r in host},
                         {("7", "3", "4", "", "5", "2", "1", "112", "2",
                           "6")})
        self.assertEqual({(r["pool_mapped_chunks"], r["pool_unmapped_chunks"])
                          for r in host}, {("4", "9")})
        # The VM's mappings by page size, as the VM-wide query gave them.
        self.assertEqual({(r["kvm_pages_4k"], r["kvm_pages_2m"],
                           r["kvm_pages_1g"]) for r in host},
                         {("1200", "9", "0")})
        self.assertNotIn("kvm_mmu_cache_miss", host[0])
        # Summed only: no per-vCPU column for the fault counters.
        self.assertNotIn("vcpu0_pf_taken", host[0])
        self.assertEqual({r["vcpu2_exits"] + r["vcpu2_guest_ms"]
                          for r in host}, {""})
        # Each sample waited for the fake QEMU's 0.2 s answer to the
        # guard query, which qmp_ms times and stats_ms does not.
        qmp = [(int(r["qmp_ms"]), int(r["stats_ms"])) for r in host]
        self.assertTrue(all(200 <= m < 5000 and s < 200 for m, s in qmp),
                        qmp)
        # The guest's tick profile, most ticks first, and its total.
        self.assertEqual(prof, [("default_idle", "40"),
                                ("memcpy_orig", "7"),
                                ("swiotlb_bounce.isra.0", "3")])
        self.assertEqual(summary["prof_ticks"], 55)
        # The hot-plugged disk's first transfer 0.25 s after ioload found
        # it, on the guest's clock; device_add to first I/O on the host's.
        # Neither for the disk the guest booted with.
        disks = tables.get("disks", [])
        self.assertEqual([r["serial"] for r in disks], ["bn0", "bn1"])
        self.assertEqual(disks[0]["up_to_first_io"], "")
        self.assertEqual(disks[0]["add_to_first_io"], "")
        self.assertEqual(disks[1]["up_to_first_io"], "0.25")
        self.assertNotEqual(disks[1]["add_to_first_io"], "")
        self.assertIn("disk opened to first I/O: median 0.25 s, max 0.25 s",
                      p.stdout)
        # QEMU's answer to device_add, the fake's 0.1 s and some; none
        # for the disk at boot.
        self.assertEqual(disks[0]["device_add_secs"], "")
        self.assertTrue(0.1 <= float(disks[1]["device_add_secs"]) < 5,
                        disks[1])
        self.assertIn("device_add answered: median ", p.stdout)

    def test_per_class(self):
        row = hotbench.per_class({"guest_t": "1.0", "classes": "512,4K",
                                  "used": "5,7", "chunks": "1",
                                  "cc_bytes": "9"})
        self.assertEqual(row, {"guest_t": "1.0", "cc_bytes": "9",
                               "512.used": "5", "4K.used": "7",
                               "512.chunks": "1", "4K.chunks": ""})
        # No classes (no cc-swiotlb): nothing to write out.
        self.assertEqual(hotbench.per_class({"guest_t": "1.0",
                                             "swiotlb_used": "3"}),
                         {"guest_t": "1.0", "swiotlb_used": "3"})
        # The sample itself is left as it was, to carry forward.
        s = {"classes": "4K", "used": "2"}
        hotbench.per_class(s)
        self.assertEqual(s, {"classes": "4K", "used": "2"})

    def test_up_to_first(self):
        keys = {"up.bn1": "vdb 2.5", "first.bn1": "3.75",
                "up.bn2": "vdc", "first.bn2": "4.0",
                "up.bn3": "vdd x", "first.bn3": "5.0",
                "up.bn4": "vde 1.0"}
        self.assertEqual(hotbench.up_to_first(keys, "bn1"), 1.25)
        for s in ("bn2", "bn3", "bn4", "bn5"):
            self.assertEqual(hotbench.up_to_first(keys, s), "", s)

    def test_silent_guest(self):
        p, took, summary, files, cmds, tables = self.run_bench(True)
        self.assertEqual(p.returncode, 4, p.stdout)
        self.assertIn("l2-silent", files)
        self.assertIn("nothing from the guest for 10 s", summary["error"])
        # The host's samples until then are kept.
        self.assertIn("host.csv", files)
        self.assertGreaterEqual(len(tables["host"]), 5)
        self.assertIn("quit", cmds)
        # Given up after --silent (10 s), not after --timeout (120 s).
        self.assertLess(took, 60)

    def refused(self, option, value, want):
        """hotbench.py OPTION VALUE exits 2 and says WANT."""
        p = subprocess.run([sys.executable, HOTBENCH, option, value,
                            "s", "d", "o"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn(want, p.stdout)

    def test_bad_l1_profile(self):
        for v in ("0.5", "-1"):
            self.refused("--l1-profile", v, "--l1-profile 0 or >= 1")

    def test_bad_silent(self):
        self.refused("--silent", "5", "--silent >= 10")


class L1ProfileTest(unittest.TestCase):
    """hotbench.L1Profile against a made-up /proc/profile and kallsyms:
    ticks between two reads, by function, across the compared chunks, a
    data symbol skipped, a counter that wrapped; and what it refuses."""

    BASE = 0xffffffff81000000
    # (offset from _stext, type, name), out of address order as kallsyms
    # can be (modules, other sections).
    SYMS = [(0x0, "T", "_stext"), (0x2000, "T", "bar"), (0x100, "t", "foo"),
            (0x150, "D", "data"), (0x9000, "T", "baz"),
            (0xa000, "T", "_etext")]
    STEP = 4
    BUCKETS = 0xa000 // 4

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.prof = os.path.join(self.dir, "profile")
        self.syms = os.path.join(self.dir, "kallsyms")
        self.out = os.path.join(self.dir, "l1-profile.csv")
        with open(self.syms, "w") as f:
            for off, t, name in self.SYMS:
                f.write("%016x %s %s\n" % (self.BASE + off, t, name))

    def tearDown(self):
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def write(self, counts, buckets=None, step=None):
        words = [0] * (buckets or self.BUCKETS)
        for b, n in counts.items():
            words[b] = n
        with open(self.prof, "wb") as f:
            f.write(struct.pack("<%dI" % (len(words) + 1), step or self.STEP,
                                *words))

    def profile(self):
        return hotbench.L1Profile(self.out, time.monotonic(), self.prof,
                                  self.syms)

    def test_ticks_between_reads(self):
        # Before: foo 5, bar 0xfffffffe (about to wrap).
        self.write({0x100 // 4: 5, 0x2000 // 4: 0xfffffffe})
        p = self.profile()
        # foo +3 (in data's range too: data is no function), bar +4
        # (wrapped), baz +7 in a chunk far from the others.
        self.write({0x100 // 4: 6, 0x160 // 4: 2, 0x2000 // 4: 2,
                    0x9004 // 4: 7})
        ticks = p.sample()
        self.assertEqual(ticks, {"foo": 3, "bar": 4, "baz": 7})
        # Nothing since.
        self.assertEqual(p.sample(), {})
        self.assertEqual((p.reads, p.ticks), (2, 14))
        p.close()
        with open(self.out) as f:
            rows = list(csv.DictReader(f))
        got = [(r["function"], r["ticks"]) for r in rows]
        self.assertEqual(got, [("baz", "7"), ("bar", "4"), ("foo", "3"),
                               ("(all)", "14"), ("(all)", "0")])
        self.assertTrue(all(float(r["secs"]) >= 0 for r in rows))

    def test_no_profile(self):
        # L1 booted without profile=: no /proc/profile.
        with self.assertRaises(OSError):
            self.profile()

    def test_text_not_spanned(self):
        self.write({}, buckets=self.BUCKETS // 2)
        with self.assertRaisesRegex(ValueError, "do not span"):
            self.profile()

    def test_no_addresses(self):
        # kallsyms as one not allowed to see addresses reads it.
        with open(self.syms, "w") as f:
            for off, t, name in self.SYMS:
                f.write("%016x %s %s\n" % (0, t, name))
        self.write({})
        with self.assertRaisesRegex(ValueError, "no addresses"):
            self.profile()

    def test_profile_changed_size(self):
        self.write({})
        p = self.profile()
        self.write({}, buckets=self.BUCKETS + 1)
        with self.assertRaisesRegex(ValueError, "at the last read"):
            p.sample()
        p.close()


if __name__ == "__main__":
    unittest.main()
