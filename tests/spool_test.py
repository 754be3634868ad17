#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests for scripts/spool, run by `make test` (tier "harness").

spool is what stands between QEMU's serial files and --data / --log in
vmrun: these tests check that it copies whole lines, holds a partial one
only for so long, loses nothing when told to stop or when its parent goes,
and refuses bad usage and unwritable files in words.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SPOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "scripts", "spool")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_for(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


class Spool(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.dir.name, "src")
        self.dst = os.path.join(self.dir.name, "dst")
        open(self.src, "wb").close()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.dir.cleanup()

    def start(self, *args):
        self.stopfile = os.path.join(self.dir.name, "stop")
        p = subprocess.Popen([SPOOL, "--stop", self.stopfile] + list(args),
                             stderr=subprocess.PIPE)
        self.procs.append(p)
        return p

    def stop(self, p):
        """Stop spool as vmrun does: the stop file."""
        open(self.stopfile, "w").close()
        _, err = p.communicate(timeout=10)
        return p.returncode, err.decode()

    def append(self, data, path=None):
        with open(path or self.src, "ab", buffering=0) as f:
            for b in data:
                f.write(bytes([b]))

    def test_whole_lines_only(self):
        p = self.start("--every", "0.02", "--hold", "30", self.src, self.dst)
        # A byte at a time, as QEMU's serial file backend writes.
        self.append(b"ready=1\nio.bn0.ops=12")
        self.assertTrue(wait_for(lambda: os.path.exists(self.dst) and
                                 read(self.dst) == b"ready=1\n"))
        time.sleep(0.3)
        self.assertEqual(read(self.dst), b"ready=1\n",
                         "a partial line was copied before its hold")
        self.append(b"34\n")
        self.assertTrue(wait_for(lambda: read(self.dst) ==
                                 b"ready=1\nio.bn0.ops=1234\n"))
        rc, err = self.stop(p)
        self.assertEqual((rc, err), (0, ""))

    def test_partial_line_after_hold(self):
        p = self.start("--every", "0.02", "--hold", "0.3", self.src, self.dst)
        self.append(b"login: ")
        self.assertTrue(wait_for(lambda: os.path.exists(self.dst) and
                                 read(self.dst) == b"login: ", timeout=3))
        self.append(b"root\n")
        self.assertTrue(wait_for(lambda: read(self.dst) == b"login: root\n"))
        self.assertEqual(self.stop(p), (0, ""))

    def test_stop_copies_the_rest(self):
        p = self.start("--every", "2", "--hold", "30", self.src, self.dst)
        # spool's first copy makes dst; its next is 2 s away.
        self.assertTrue(wait_for(lambda: os.path.exists(self.dst)))
        self.append(b"done=1\nlast words, no newline")
        self.assertEqual(self.stop(p), (0, ""))
        self.assertEqual(read(self.dst), b"done=1\nlast words, no newline")

    def test_stopped_before_it_started(self):
        # QEMU failed at once: vmrun makes the stop file before spool's
        # first look, and what QEMU said must still arrive.
        self.append(b"qemu: could not load kernel")
        self.stopfile = os.path.join(self.dir.name, "stop")
        open(self.stopfile, "w").close()
        p = subprocess.run([SPOOL, "--stop", self.stopfile, "--every", "5",
                            self.src, self.dst], stderr=subprocess.PIPE,
                           timeout=10)
        self.assertEqual((p.returncode, p.stderr.decode()), (0, ""))
        self.assertEqual(read(self.dst), b"qemu: could not load kernel")

    def test_hold_counts_from_the_first_byte(self):
        # A partial line that keeps growing is still copied once its
        # first byte has waited the hold.
        p = self.start("--every", "0.02", "--hold", "0.5", self.src, self.dst)
        t0 = time.monotonic()
        copied_at = None
        while time.monotonic() - t0 < 3 and copied_at is None:
            self.append(b"z")
            time.sleep(0.1)
            if os.path.exists(self.dst) and read(self.dst):
                copied_at = time.monotonic() - t0
        self.assertIsNotNone(copied_at, "a growing partial line was held "
                             "for good")
        self.assertGreaterEqual(copied_at, 0.45)
        self.assertEqual(self.stop(p), (0, ""))

    def test_sigint_ignored(self):
        p = self.start("--every", "0.02", "--hold", "30", self.src, self.dst)
        self.assertTrue(wait_for(lambda: os.path.exists(self.dst)))
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
        self.assertIsNone(p.poll(), "SIGINT stopped spool")
        self.append(b"after\n")
        self.assertTrue(wait_for(lambda: read(self.dst) == b"after\n"))
        self.assertEqual(self.stop(p), (0, ""))

    def test_sigterm(self):
        p = self.start("--every", "0.02", "--hold", "30", self.src, self.dst)
        self.append(b"up\n")
        self.assertTrue(wait_for(lambda: os.path.exists(self.dst) and
                                 read(self.dst) == b"up\n"))
        self.append(b"half")
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=10)
        self.assertEqual((p.returncode, err.decode()), (0, ""))
        self.assertEqual(read(self.dst), b"up\nhalf")

    def test_appends_and_several_pairs(self):
        src2 = os.path.join(self.dir.name, "src2")
        dst2 = os.path.join(self.dir.name, "dst2")
        with open(self.dst, "wb") as f:
            f.write(b"before\n")
        p = self.start("--every", "0.02", self.src, self.dst, src2, dst2)
        self.append(b"a\n")
        # src2 appears only later, as a file QEMU has yet to create.
        time.sleep(0.1)
        self.append(b"b\n", path=src2)
        self.assertTrue(wait_for(lambda: os.path.exists(dst2) and
                                 read(dst2) == b"b\n"))
        self.assertEqual(self.stop(p), (0, ""))
        self.assertEqual(read(self.dst), b"before\na\n")

    def test_parent_exit(self):
        # spool's parent is a shell that leaves once spool is up (dst
        # exists) and the test has written (the go file), without a word
        # to spool.
        go = os.path.join(self.dir.name, "go")
        sh = subprocess.Popen(
            ["sh", "-c",
             '"$0" --every 0.05 --hold 30 --while $$ "$1" "$2" >/dev/null &'
             ' echo $!; while [ ! -e "$2" ] || [ ! -e "$3" ]; do'
             ' sleep 0.05; done',
             SPOOL, self.src, self.dst, go], stdout=subprocess.PIPE)
        pid = int(sh.stdout.readline().decode())
        sh.stdout.close()
        self.append(b"x=1\ntail")
        open(go, "w").close()
        sh.wait()

        def gone():
            try:
                os.kill(pid, 0)
                return False
            except ProcessLookupError:
                return True
        self.assertTrue(wait_for(gone), "spool outlived its parent")
        self.assertEqual(read(self.dst), b"x=1\ntail")

    def test_many_bytes(self):
        p = self.start("--every", "0.01", self.src, self.dst)
        blob = b"".join(b"line %06d %s\n" % (i, b"y" * (i % 97))
                        for i in range(20000))
        with open(self.src, "ab") as f:
            for i in range(0, len(blob), 4093):
                f.write(blob[i:i + 4093])
                f.flush()
        self.assertEqual(self.stop(p), (0, ""))
        self.assertEqual(read(self.dst), blob)

    def refused(self, *args):
        p = subprocess.run([SPOOL] + list(args), stderr=subprocess.PIPE,
                           timeout=10)
        return p.returncode, p.stderr.decode()

    def test_refusals(self):
        rc, err = self.refused(self.src)
        self.assertEqual(rc, 2)
        self.assertIn("'%s' has no DST" % self.src, err)
        rc, err = self.refused("--every", "0", self.src, self.dst)
        self.assertEqual(rc, 2)
        self.assertIn("--every must be from 0.01 to 10 seconds", err)
        rc, err = self.refused("--hold", "-1", self.src, self.dst)
        self.assertEqual(rc, 2)
        self.assertIn("--hold must be from 0 to 60 seconds", err)
        rc, err = self.refused("--every", "x", self.src, self.dst)
        self.assertEqual(rc, 2)
        self.assertIn("invalid float value", err)
        gone = subprocess.Popen(["true"])
        gone.wait()
        rc, err = self.refused("--while", str(gone.pid), self.src, self.dst)
        self.assertEqual(rc, 2)
        self.assertIn("--while: no process %d to wait on" % gone.pid, err)
        bad = os.path.join(self.dir.name, "no", "such", "dir", "dst")
        rc, err = self.refused(self.src, bad)
        self.assertEqual(rc, 2)
        self.assertIn("spool: cannot open '%s'" % bad, err)
        self.assertFalse(os.path.exists(self.dst))

    def test_write_error(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        p = self.start("--every", "0.02", self.src, "/dev/full")
        self.append(b"lost=1\n")
        _, err = p.communicate(timeout=10)
        err = err.decode()
        self.assertEqual(p.returncode, 2)
        self.assertIn("spool: '/dev/full': No space left on device", err)


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]])
