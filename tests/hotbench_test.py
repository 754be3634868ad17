#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests for tests/host/hotbench.py, run by `make test` (tier
"harness"): the benchmark's host side against a fake QEMU (a QMP server
on a Unix socket) and a guest data channel written by the test.

- A guest that samples to the end: every disk plugged and removed, exit 0,
  the CSV files written; the CPU time of the fake QEMU's one "vCPU" thread,
  which spins, lands in host.csv's qemu_vcpu_user_ms and not elsewhere;
  the guest's prof. lines become profile.csv.
- A guest that goes silent after "ready=" (the test bed's lost wake-up):
  hotbench.py gives up after --silent seconds, writes l2-silent, asks QEMU
  to quit and exits 4, well before its --timeout.
"""
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
HOTBENCH = os.path.join(HERE, "host", "hotbench.py")


class Spinner(threading.Thread):
    """The fake QEMU's vCPU thread: busy in user space until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.started = threading.Event()

    def run(self):
        self.started.set()
        n = 0
        while not self.stop.is_set():
            for _ in range(10000):
                n += 1


class FakeQEMU(threading.Thread):
    """Answers hotbench.py's QMP commands; DEVICE_DELETED follows each
    device_del.  Keeps every command it was sent.  Its one vCPU is a
    Spinner."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.commands = []
        self.vcpu = Spinner()
        self.vcpu.start()
        self.vcpu.started.wait()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)

    def answer(self, cmd, args):
        if cmd == "x-query-dma-guard":
            return {"enabled": True, "shared-pages": 16, "devices": []}
        if cmd == "x-query-shared-pool":
            return {"held-bytes": 0, "pooled-bytes": 0, "exits": 0}
        if cmd == "query-cpus-fast":
            return [{"cpu-index": 0, "thread-id": self.vcpu.native_id}]
        if cmd == "query-stats":
            return [{"stats": [{"name": "exits", "value": 5},
                               {"name": "hypercalls", "value": 1}]}]
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
        self.put("gs=1.0 shared_pages=16 4K.used=0")
        if self.silent:
            return
        for s in range(self.disks):
            self.put("up.bn%d=vd%c 1.0" % (s, ord("a") + s))
            self.put("first.bn%d=1.0" % s)
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
            # Only what changed: 4K.used once, shared_pages never.
            self.put("gs=%d.0%s" % (t, " 4K.used=3" if t == 4 else ""))
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
            with open(os.path.join(out, "summary.json")) as f:
                summary = json.load(f)
            files = sorted(os.listdir(out))
            gs, host, prof = [], [], []
            if "guest.csv" in files:
                with open(os.path.join(out, "guest.csv")) as f:
                    gs = list(csv.DictReader(f))
            if "host.csv" in files:
                with open(os.path.join(out, "host.csv")) as f:
                    host = list(csv.DictReader(f))
            if "profile.csv" in files:
                with open(os.path.join(out, "profile.csv")) as f:
                    prof = [(r["function"], r["ticks"])
                            for r in csv.DictReader(f)]
            return p, took, summary, files, qemu.commands, gs, host, prof

    def test_complete_run(self):
        p, took, summary, files, cmds, gs, host, prof = self.run_bench(False)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("hotbench: virtio-blk: 2/2 disks ok", p.stdout)
        self.assertNotIn("l2-silent", files)
        for f in ("host.csv", "guest.csv", "io.csv", "disks.csv"):
            self.assertIn(f, files)
        self.assertEqual(summary["done"], "1")
        self.assertIn("quiesced_t", summary)
        # Values a gs= line left out are carried forward.
        self.assertGreaterEqual(len(gs), 4)
        self.assertEqual({r["shared_pages"] for r in gs}, {"16"})
        used = [(float(r["guest_t"]), r["4K.used"]) for r in gs]
        self.assertTrue(all(u == ("3" if t >= 4 else "0") for t, u in used),
                        used)
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
        # The guest's tick profile, most ticks first, and its total.
        self.assertEqual(prof, [("default_idle", "40"),
                                ("memcpy_orig", "7"),
                                ("swiotlb_bounce.isra.0", "3")])
        self.assertEqual(summary["prof_ticks"], 55)

    def test_silent_guest(self):
        p, took, summary, files, cmds, _, _, _ = self.run_bench(True)
        self.assertEqual(p.returncode, 4, p.stdout)
        self.assertIn("l2-silent", files)
        self.assertIn("nothing from the guest for 10 s", summary["error"])
        self.assertIn("quit", cmds)
        # Given up after --silent (10 s), not after --timeout (120 s).
        self.assertLess(took, 60)

    def test_bad_silent(self):
        p = subprocess.run([sys.executable, HOTBENCH, "--silent", "5",
                            "s", "d", "o"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--silent >= 10", p.stdout)


if __name__ == "__main__":
    unittest.main()
