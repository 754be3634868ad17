#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests for scripts/bench-report.py, run by `make test` (tier
"harness"), on runs made up here: two variants over three rounds (ROUNDS,
tests/host/hotbench.sh), the third round's variant 4 lost before it
finished.

- The first round's tables are the first round's alone.
- The rounds table has each round's transfers per second, their ratio to
  variant 2's in the same round, the order the round ran in, and the
  ratios' median; a round without its figure shows "?" and is left out of
  the median.
- The totals over every round add up each run's disks, errors and
  failures, and show "+ ?" for a run that did not say.
- The raw CSV files carry every round, with the round in front.
- A single round has no rounds table.
- The vCPU threads' states under load are given as shares.
- The bounce pools: swiotlb's size and peak use from its slab counts,
  cc-swiotlb's peak use summed over the size classes, and the map
  failures each class's counter rose by; upstream swiotlb's are "not
  counted", with the console's 'swiotlb buffer is full' beside them.
"""
import csv
import json
import os
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(TOP, "scripts", "bench-report.py")


def make_run(top, name, ops, secs=100, errors=0, lat=(1.0, 2.0),
             finished=True, guest=None, console=""):
    """A run directory as hotbench.sh leaves it, with what the report
    reads: OPS verified transfers in SECS seconds, ERRORS I/O errors,
    device_add to first I/O LAT for its hot-plugged disks; GUEST, when
    given, its guest.csv, and CONSOLE more lines of its L2 console."""
    d = os.path.join(top, name)
    os.makedirs(d)
    with open(os.path.join(d, "l2-data"), "w") as f:
        f.write("kernel=6.12.117-test\n")
        if finished:
            f.write("quiesced=%d %d %d %d 0 0\n" % (secs, ops, ops * 4096,
                                                      errors))
    with open(os.path.join(d, "host.csv"), "w") as f:
        f.write("t,shared_bytes,guard_violations,kvm_exits,vcpu0_state,"
                "vcpu1_state\n"
                "0,1048576,0,10,R,S kvm_vcpu_block\n"
                "1,2097152,0,20,S futex_wait_queue,R\n"
                "2,1048576,0,30,D x,D x\n")
    with open(os.path.join(d, "io.csv"), "w") as f:
        f.write("t,guest_t,ops,bytes,errors,vfail,disks\n"
                "1,1,%d,0,0,0,1\n2,2,%d,0,0,0,1\n" % (ops, ops))
    with open(os.path.join(d, "disks.csv"), "w") as f:
        f.write("serial,hotplugged,add_to_first_io,up_to_first_io,"
                "device_add_secs\n"
                "bn0,False,,,\n")
        for i, x in enumerate(lat):
            f.write("bn%d,True,%s,0.1,%s\n" % (i + 1, x, x / 10))
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump({"disks_ok": 1 + len(lat), "quiesced_t": 1.5}, f)
    with open(os.path.join(d, "l2-console.log"), "w") as f:
        f.write("[    1.000000] booted\n" + console)
    if guest is not None:
        with open(os.path.join(d, "guest.csv"), "w") as f:
            f.write(guest)


class Rounds(unittest.TestCase):
    def report(self, runs):
        out = os.path.join(self.tmp, "out", "results.md")
        r = subprocess.run(["python3", REPORT, "--command", "test", runs,
                            out], capture_output=True, text=True,
                           timeout=120)
        with open(out) as f:
            return r, f.read()

    def setUp(self):
        self.td = tempfile.TemporaryDirectory()
        self.tmp = self.td.name

    def tearDown(self):
        self.td.cleanup()

    def test_rounds(self):
        runs = os.path.join(self.tmp, "runs")
        make_run(runs, "virtio-blk-dynamic", 1000)
        make_run(runs, "virtio-blk-cc-grants", 1100, lat=(3.0, 5.0))
        make_run(runs, "virtio-blk-cc-grants-r2", 900, errors=2)
        make_run(runs, "virtio-blk-dynamic-r2", 1000, lat=(0.5, 9.0))
        make_run(runs, "virtio-blk-dynamic-r3", 800)
        make_run(runs, "virtio-blk-cc-grants-r3", 0, finished=False)
        with open(os.path.join(runs, "rounds"), "w") as f:
            f.write("virtio-blk 1 dynamic cc-grants\n"
                    "virtio-blk 2 cc-grants dynamic\n"
                    "virtio-blk 3 dynamic cc-grants\n")
        r, md = self.report(runs)
        # A run that did not finish: exit 1, named, the report written.
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("**Runs that did not finish:** virtio-blk-cc-grants-r3",
                      md)
        # The first round's table: its own ratio, its own latencies.
        self.assertIn("| 4. cc-swiotlb, host grants | 3/3 | 0 | 0 | 0 | 0 "
                      "| 0 | 0 | 1.10 | 4.00 / 5.00 |", md)
        self.assertIn("### virtio-blk, all 3 rounds", md)
        self.assertIn("| 1 | dynamic, cc-grants | 10.0 | 11.0 | 1.10 |", md)
        self.assertIn("| 2 | cc-grants, dynamic | 10.0 | 9.0 | 0.90 |", md)
        self.assertIn("| 3 | dynamic, cc-grants | 8.0 | ? | ? |", md)
        self.assertIn("cc-grants / dynamic over 2 rounds: median 1.00, "
                      "mean 1.00, lowest 0.90, highest 1.10; at least 1.00 "
                      "in 1.", md)
        # Totals: round 3's variant 4 said nothing of its errors.
        self.assertIn("| 2. swiotlb, dynamic | 3 | 9/9 | 0 | 0 | 0 | 0 | 0 "
                      "| 1.50 / 9.00 | 2.0 / 1.0 |", md)
        self.assertIn("| 4. cc-swiotlb, host grants | 3 | 9/9 | 2 + ? | "
                      "0 + ? | 0 | 0 | 0 | 2.00 / 5.00 |", md)
        with open(os.path.join(self.tmp, "out", "results", "io.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual({(x["variant"], x["round"]) for x in rows},
                         {("cc-grants", "1"), ("cc-grants", "2"),
                          ("cc-grants", "3"), ("dynamic", "1"),
                          ("dynamic", "2"), ("dynamic", "3")})

    def test_one_round(self):
        runs = os.path.join(self.tmp, "runs")
        make_run(runs, "virtio-blk-dynamic", 1000)
        make_run(runs, "virtio-blk-cc-grants", 1100)
        r, md = self.report(runs)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("rounds", md.split("## virtio-blk")[1])
        self.assertIn("| 1.10 |", md)
        # QEMU's answer to each device_add: lat / 10 s, in ms.
        self.assertIn("QEMU's answer to each device_add (the main loop, "
                      "while it plugs the disk), median / max ms: dynamic "
                      "150 / 200; cc-grants 150 / 200.", md)
        # The vCPU threads' states under load (up to quiesced_t, 1.5 s).
        self.assertIn("- dynamic (4 samples): R 50%, S futex_wait_queue "
                      "25%, S kvm_vcpu_block 25%", md)

    def test_pools(self):
        runs = os.path.join(self.tmp, "runs")
        full = ("[   20.000000] virtio-pci 0000:01:00.0: swiotlb buffer is "
                "full (sz: 262144 bytes), total 32768 (slots), used 32700 "
                "(slots)\n")
        # The fixed pool: io_tlb_used_hiwater saw more than the samples
        # of io_tlb_used.
        make_run(runs, "virtio-blk-fixed", 500, console=full * 3,
                 guest="t,guest_t,swiotlb_used,swiotlb_hiwater,"
                       "swiotlb_slabs,swiotlb_transient\n"
                       "0,10,0,100,32768,-\n1,11,16384,30000,32768,-\n"
                       "2,12,0,30000,32768,-\n")
        # Dynamic: a pool added, and transient slabs at one sample; a run
        # from before the high-water mark was sampled.
        make_run(runs, "virtio-blk-dynamic", 1000,
                 guest="t,guest_t,swiotlb_used,swiotlb_slabs,"
                       "swiotlb_transient\n"
                       "0,10,0,32768,0\n1,11,40000,65536,512\n"
                       "2,12,0,65536,0\n")
        make_run(runs, "virtio-blk-cc-grants", 1100,
                 guest="t,guest_t,swiotlb_used,swiotlb_slabs,cc_bytes,"
                       "2K.used,2K.fails,512K.used,512K.fails,4K.used,"
                       "4K.fails\n"
                       "0,10,0,2048,8388608,0,0,0,1,0,0\n"
                       "1,11,0,2048,16777216,512,0,4,1,256,2\n"
                       "2,12,0,2048,12582912,1024,0,8,1,0,5\n")
        r, md = self.report(runs)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("| 1. swiotlb, fixed | 64.0 / 58.6 (92%) | - | not "
                      "counted | - | 3 |", md)
        self.assertIn("| 2. swiotlb, dynamic | 129.0 / 78.1 (61%) | - | "
                      "not counted | - | 0 |", md)
        # Peak use at one sample: 1024 x 2K + 8 x 512K = 6 MiB at t=2;
        # t=1 had 1 + 2 + 1 MiB.  Failures: 4K rose by 5, 512K by none.
        self.assertIn("| 4. cc-swiotlb, host grants | 4.0 / 0.0 (0%) | "
                      "16.0 / 6.0 | 5 | 4K 5 | 0 |", md)

    def test_no_counters(self):
        # cc-swiotlb's classes without their failure counters: not
        # counted, rather than 0.
        runs = os.path.join(self.tmp, "runs")
        make_run(runs, "virtio-blk-cc-grants", 1100,
                 guest="t,guest_t,swiotlb_used,swiotlb_slabs,cc_bytes,"
                       "2K.used\n0,10,0,2048,8388608,512\n")
        r, md = self.report(runs)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("| 4. cc-swiotlb, host grants | 4.0 / 0.0 (0%) | "
                      "8.0 / 1.0 | not counted | - | 0 |", md)

    def test_no_pools(self):
        runs = os.path.join(self.tmp, "runs")
        make_run(runs, "virtio-blk-dynamic", 1000)
        r, md = self.report(runs)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("The bounce pools", md)


if __name__ == "__main__":
    unittest.main()
