#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""scripts/bench.sh refuses bad settings before it builds or boots
anything; run by `make test` (tier "harness")."""
import os
import subprocess
import tempfile
import unittest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "scripts", "bench.sh")


class BenchArgs(unittest.TestCase):
    def refused(self, want, **env):
        with tempfile.TemporaryDirectory() as build:
            e = dict(os.environ, BUILD=build, **env)
            r = subprocess.run(["bash", BENCH], env=e, capture_output=True,
                               text=True, stdin=subprocess.DEVNULL, timeout=60)
            self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn(want, r.stderr)
            # Refused before anything was built or any run started.
            self.assertEqual(os.listdir(build), [])

    def test_disks(self):
        for n in ("0", "101", "x", "-1"):
            self.refused("DISKS=%s: a number from 1 to 100" % n, DISKS=n)

    def test_rounds(self):
        for n in ("0", "11", "x", "-1"):
            self.refused("ROUNDS=%s: a number from 1 to 10" % n, ROUNDS=n)

    def test_inflight(self):
        for n in ("0", "1601", "x", "-1"):
            self.refused("INFLIGHT=%s: a number from 1 to 1600" % n,
                         INFLIGHT=n)

    def test_depth(self):
        for n in ("0", "17", "x", "-1"):
            self.refused("DEPTH=%s: a number from 1 to 16" % n, DEPTH=n)
        # A 1 MiB buffer per slot: 11 on each of 50 disks is 550 MiB,
        # 6 on each of 100 is 600.
        self.refused("DEPTH=11: 1 MiB buffers for 11 transfers on each of "
                     "50 disks are more than 512 MiB of L2's 1 GiB",
                     DEPTH="11")
        self.refused("DEPTH=6: 1 MiB buffers for 6 transfers on each of "
                     "100 disks are more than 512 MiB", DEPTH="6",
                     DISKS="100")

    def test_taken(self):
        # Values in range pass the checks and stop only at the missing
        # build.
        for env in ({"INFLIGHT": "1"}, {"INFLIGHT": "1600"},
                    {"INFLIGHT": "500", "DEPTH": "10"},
                    {"DEPTH": "16", "DISKS": "32"},
                    {"DEPTH": "5", "DISKS": "100"}):
            self.refused("run 'make' first", **env)

    def test_pci_hotplug(self):
        self.refused("L2_PCI_HOTPLUG=pcie: acpi or native", L2_PCI_HOTPLUG="pcie")

    def test_bench_host(self):
        for h in ("guest-bench", "host-debug", "x"):
            self.refused("BENCH_HOST=%s: host-bench or host" % h,
                         BENCH_HOST=h)


if __name__ == "__main__":
    unittest.main()
