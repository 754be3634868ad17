#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests for scripts/kernel-splats, run by `make test` (tier "harness")."""
import os
import subprocess
import tempfile
import unittest

SPLATS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "scripts", "kernel-splats")

# A console as the serial port gives it: CR LF line ends, and the guest's
# own output between kernel lines.
CLEAN = """\
[    0.000000] Linux version 6.12.117-cc-guest\r
[    0.915436] printk: legacy console [ttyS0] enabled\r
guest: WARNING: the test's own words, no timestamp\r
[   16.063248] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc.\r
"""

LOCKDEP = """\
[   15.164381] WARNING: possible recursive locking detected\r
[   15.164400] 6.12.117-cc-guest #1 Not tainted\r
[   15.164410] --------------------------------------------\r
[   15.164420] swapper/0/0 is trying to acquire lock:\r
"""

LATER = "[   41.000000] BUG: spinlock recursion on CPU#0, swapper/0/0\r\n"


class KernelSplats(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def log(self, text):
        path = os.path.join(self.dir.name, "console.log")
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_splats(self, *args):
        r = subprocess.run([SPLATS, *args], capture_output=True, text=True)
        return r.returncode, r.stdout, r.stderr

    def test_clean(self):
        self.assertEqual(self.run_splats(self.log(CLEAN)), (0, "", ""))

    def test_lines(self):
        rc, out, _ = self.run_splats(self.log(CLEAN + LOCKDEP + LATER))
        self.assertEqual(rc, 1)
        self.assertEqual(out.splitlines(), [
            "[   15.164381] WARNING: possible recursive locking detected",
            "[   41.000000] BUG: spinlock recursion on CPU#0, swapper/0/0",
        ])

    def test_report(self):
        rc, out, _ = self.run_splats("--report", "2", self.log(CLEAN + LOCKDEP + LATER))
        self.assertEqual(rc, 1)
        self.assertEqual(out, "".join(LOCKDEP.splitlines(True)[:3]).replace("\r", ""))

    def test_report_to_the_end(self):
        rc, out, _ = self.run_splats("--report", "60", self.log(LOCKDEP))
        self.assertEqual((rc, out), (1, LOCKDEP.replace("\r", "")))

    def test_report_clean(self):
        self.assertEqual(self.run_splats("--report", "60", self.log(CLEAN)), (0, "", ""))

    def test_binary(self):
        # A NUL in the log (a guest that wrote garbage) must not hide a
        # report: grep would otherwise only say "binary file matches".
        log = self.log("\0garbage\r\n" + LOCKDEP)
        rc, out, _ = self.run_splats(log)
        self.assertEqual((rc, out.splitlines()[0]), (1, LOCKDEP.splitlines()[0]))
        rc, out, _ = self.run_splats("--report", "60", log)
        self.assertEqual((rc, out), (1, LOCKDEP.replace("\r", "")))

    def test_bad_count(self):
        for n in ("x", "-1", "", "08", "123456"):
            rc, out, err = self.run_splats("--report", n, self.log(LOCKDEP))
            self.assertEqual((rc, out), (2, ""), n)
            self.assertIn("--report wants a line count", err, n)
        rc, out, err = self.run_splats("--report")
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("--report wants a line count", err)

    def test_unreadable(self):
        missing = os.path.join(self.dir.name, "missing.log")
        for args in ((missing,), ("--report", "60", missing)):
            rc, out, err = self.run_splats(*args)
            self.assertEqual((rc, out), (2, ""), args)
            self.assertIn("cannot read", err)

    def test_usage(self):
        for args in ((), ("--report", "60"), ("a.log", "b.log")):
            rc, out, err = self.run_splats(*args)
            self.assertEqual((rc, out), (2, ""), args)
            self.assertIn("usage: kernel-splats", err, args)

    def test_retry_note_is_not_a_splat(self):
        # tests/host/lib.sh's l2_loss quotes why a lost L2 run was run
        # again; the check's line goes to L1's console, which kernel-splats
        # reads: L2's panic, quoted, must not pass for L1's.
        lib = os.path.join(os.path.dirname(SPLATS), "..", "tests", "host",
                           "lib.sh")
        run = os.path.join(self.dir.name, "attempt1")
        os.mkdir(run)
        with open(os.path.join(run, "nested.out"), "w") as f:
            f.write("vmrun: FAIL: kernel panic: [   58.607197] Kernel panic"
                    " - not syncing: Fatal exception in interrupt\n")
        note = subprocess.run(
            ["bash", "-c", '. "$1"; l2_loss "$2"', "l2_loss", lib, run],
            capture_output=True, text=True, check=True).stdout.strip()
        self.assertEqual(note, "kernel panic: Kernel panic - not syncing: "
                         "Fatal exception in interrupt")
        line = "bench: PASS x (attempt 2, the one before lost L2: %s)"
        self.assertEqual(self.run_splats(self.log(line % note + "\n"))[0], 0)
        # The same line with the timestamp left in is one.
        self.assertEqual(self.run_splats(self.log(
            line % "[   58.607197] Kernel panic - not syncing" + "\n"))[0], 1)


if __name__ == "__main__":
    unittest.main()
