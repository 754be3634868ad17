#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests for scripts/vmrun's data channel and silent console, run by
`make test` (tier "harness").

A fake QEMU stands in for the real one: it writes the data channel a
byte at a time to the file after `-serial file:`, as QEMU's serial
backend does, prints a console on stdout with vmrun's exit marker (the
nonce comes from the `-fw_cfg` file vmrun hands it), and exits. The tests
check that vmrun's --data and --log get every byte through scripts/spool,
that QEMU never writes those paths itself, that vmrun's verdict comes
from the console as QEMU wrote it even when the copy fails, and that
vmrun leaves no temporary directory behind.
"""
import os
import stat
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VMRUN = os.path.join(TOP, "scripts", "vmrun")

FAKE_QEMU = r'''#!/usr/bin/env python3
import os, sys, time
args = sys.argv[1:]
serials = [args[i + 1] for i, a in enumerate(args) if a == "-serial"]
fwcfg = dict(v.split(",file=", 1) for i, v in enumerate(args[1:])
             if args[i] == "-fw_cfg")
nonce = open(fwcfg["name=opt/vmrun/nonce"]).read().strip()
mode = os.environ["FAKE_MODE"]
with open(os.environ["FAKE_ARGS"], "w") as f:
    f.write("\n".join(args) + "\n")
if mode == "die":
    print("qemu-system-x86_64: -kernel x: could not load kernel",
          file=sys.stderr)
    sys.exit(1)
data = os.environ["FAKE_DATA"].encode()
if len(serials) > 1:
    path = serials[1][len("file:"):]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for i in range(len(data)):
        os.write(fd, data[i:i + 1])
        if i % 64 == 0:
            time.sleep(0.01)
    os.close(fd)
for i in range(200):
    sys.stdout.write("[    %d.000000] console line %d\r\n" % (i, i))
sys.stdout.write("vm-init: done vmrun-exit:%s:%s\r\n" %
                 (nonce, os.environ.get("FAKE_RC", "0")))
sys.stdout.flush()
'''


class Vmrun(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        self.qemu = os.path.join(d, "fake-qemu")
        with open(self.qemu, "w") as f:
            f.write(FAKE_QEMU)
        os.chmod(self.qemu, os.stat(self.qemu).st_mode | stat.S_IXUSR)
        self.tmp = os.path.join(d, "tmp")
        os.mkdir(self.tmp)
        self.out = os.path.join(d, "out")
        os.mkdir(self.out)
        self.data = os.path.join(self.out, "l2-data")
        self.log = os.path.join(self.out, "console.log")
        self.argsfile = os.path.join(d, "qemu-args")
        self.payload = "".join("io.bn%d.ops=%d\n" % (i, i * 7)
                               for i in range(300)) + "no newline at the end"

    def tearDown(self):
        self.dir.cleanup()

    def vmrun(self, mode, data=None, rc="0", extra=()):
        env = dict(os.environ, QEMU=self.qemu, TMPDIR=self.tmp,
                   FAKE_MODE=mode, FAKE_DATA=self.payload, FAKE_RC=rc,
                   FAKE_ARGS=self.argsfile)
        cmd = [VMRUN, "-s", "-t", "60", "-k", self.qemu, "-l", self.log]
        cmd += ["-d", data or self.data] + list(extra) + ["--", "true"]
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        return p.returncode, p.stderr.decode()

    def qemu_args(self):
        with open(self.argsfile) as f:
            return f.read().split("\n")

    def test_data_and_log_whole(self):
        rc, err = self.vmrun("ok", rc="3")
        self.assertEqual(rc, 3, err)
        self.assertIn("vmrun: command exited with status 3", err)
        with open(self.data) as f:
            self.assertEqual(f.read(), self.payload)
        with open(self.log, newline="") as f:
            log = f.read()
        self.assertIn("console line 199\r\n", log)
        self.assertIn("vmrun-exit:", log)
        # QEMU was pointed at vmrun's temporary directory, not at these.
        args = self.qemu_args()
        self.assertNotIn("file:" + self.data, args)
        self.assertTrue(any(a.startswith("file:" + self.tmp + "/vmrun.")
                            for a in args), args)
        self.assertEqual(os.listdir(self.tmp), [],
                         "vmrun left its temporary directory")

    def test_qemu_fails_at_once(self):
        rc, err = self.vmrun("die")
        self.assertEqual(rc, 125, err)
        self.assertIn("could not load kernel", err)
        with open(self.log) as f:
            self.assertIn("could not load kernel", f.read())
        self.assertEqual(os.listdir(self.tmp), [])

    def test_copy_fails_verdict_stands(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        rc, err = self.vmrun("ok", data="/dev/full")
        self.assertEqual(rc, 0, err)
        self.assertIn("vmrun: spool exited 2: --data or --log may be short",
                      err)
        self.assertIn("spool: '/dev/full': No space left on device", err)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_paths_with_a_dash(self):
        # A --data path that looks like an option reaches spool as a path.
        os.chdir(self.out)
        rc, err = self.vmrun("ok", data="-data")
        self.assertEqual(rc, 0, err)
        with open(os.path.join(self.out, "-data")) as f:
            self.assertEqual(f.read(), self.payload)


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]])
