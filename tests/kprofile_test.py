#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests for tests/guest/kprofile.sh, run by `make test` (tier
"harness"), under busybox as in the guest: a made-up tick profile and
kallsyms, with a run of equal nonzero lines (which od prints as "*"), a
data symbol between two functions, a step that does not fit the text, and
a profile with no ticks.
"""
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KPROFILE = os.path.join(HERE, "guest", "kprofile.sh")
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
BASE = 0xffffffff81000000

# Made-up kernel text: (offset from _stext, type, name).
SYMS = [(0x0, "T", "_stext"), (0x100, "t", "foo"), (0x150, "D", "data"),
        (0x200, "T", "bar"), (0x1000, "T", "baz"), (0x2000, "T", "_etext")]


def profile(shift, hits, nbuckets=0x800):
    """The bytes of /proc/profile: the step (2^SHIFT bytes), then the
    count of each bucket."""
    counts = [0] * nbuckets
    for b, n in hits.items():
        counts[b] = n
    return struct.pack("<%dI" % (nbuckets + 1), 1 << shift, *counts)


class KprofileTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        # busybox's applets first in PATH: the guest has nothing else.
        bindir = os.path.join(self.dir, "bin")
        os.mkdir(bindir)
        for a in ("od", "awk", "sort", "head", "cp", "cat", "rm"):
            os.symlink(BUSYBOX, os.path.join(bindir, a))
        self.env = dict(os.environ, PATH=bindir)
        self.syms = os.path.join(self.dir, "kallsyms")
        with open(self.syms, "w") as f:
            for off, t, name in SYMS:
                f.write("%016x %s %s\n" % (BASE + off, t, name))

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_kprofile(self, n, data):
        prof = os.path.join(self.dir, "profile")
        with open(prof, "wb") as f:
            f.write(data)
        return subprocess.run([BUSYBOX, "sh", KPROFILE, str(n), prof,
                               self.syms], env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def test_functions(self):
        # shift 2: a bucket is 4 bytes.  foo: 5 + 2 ticks at 0x100 and
        # 0x104; its last bytes, past the data symbol, 1 more.  bar: 3
        # ticks in each of 32 buckets from 0x200 (equal od lines); baz 1.
        hits = {0x40: 5, 0x41: 2, 0x55: 1, 0x400: 1}
        hits.update({0x80 + i: 3 for i in range(32)})
        p = self.run_kprofile(10, profile(2, hits))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(),
                         ["96 bar", "8 foo", "1 baz", "105 (all)"])
        p = self.run_kprofile(1, profile(2, hits))
        self.assertEqual(p.stdout.splitlines(), ["96 bar", "105 (all)"])

    def test_shift(self):
        # shift 8: 256-byte buckets; bucket 1 is bar's first 256 bytes.
        p = self.run_kprofile(5, profile(8, {0: 4, 2: 6}, 0x20))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(),
                         ["6 bar", "4 _stext", "10 (all)"])

    def test_wrong_span(self):
        # 0x800 counts of 16 bytes are not the 0x2000 bytes of text: a
        # profile read with the wrong step would give wrong functions.
        p = self.run_kprofile(5, profile(4, {0x40: 1}))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertIn("do not span _stext to _etext", p.stderr)

    def test_no_ticks(self):
        p = self.run_kprofile(5, profile(2, {}))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")

    def test_no_profile(self):
        p = subprocess.run([BUSYBOX, "sh", KPROFILE, "5",
                            os.path.join(self.dir, "none"), self.syms],
                           env=self.env, text=True, stdout=subprocess.PIPE)
        self.assertEqual(p.returncode, 1)


if __name__ == "__main__":
    unittest.main()
