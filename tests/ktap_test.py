#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests for tests/ktap.py, run by `make test` (tier "harness")."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402

GOOD = """\
[    0.500000] KTAP version 1
[    0.500001] 1..2
[    0.500002]     KTAP version 1
[    0.500003]     # Subtest: list-kernel-test
[    0.500004]     1..3
[    0.500005]     ok 1 test_a
[    0.500005] virtio_blk virtio0: an interleaved kernel message
[    0.500006]     ok 2 test_b
[    0.500007]         KTAP version 1
[    0.500008]         # Subtest: test_param
[    0.500009]         ok 1 p1
[    0.500010]         ok 2 p2
[    0.500011]     ok 3 test_param
[    0.500012] # list-kernel-test: pass:3 fail:0 skip:0 total:3
[    0.500013] ok 1 list-kernel-test
[    0.500014]     KTAP version 1
[    0.500015]     # Subtest: other
[    0.500016]     1..1
[    0.500017]     ok 1 t # SKIP not here
[    0.500018] ok 2 other # SKIP
"""


def run(text):
    with tempfile.NamedTemporaryFile('w', suffix='.log', delete=False) as f:
        f.write(text)
    try:
        p = subprocess.run([sys.executable, ktap.__file__, f.name],
                           capture_output=True, text=True)
        return p.returncode, p.stdout
    finally:
        os.unlink(f.name)


class KtapTest(unittest.TestCase):
    def test_all_pass(self):
        rc, out = run(GOOD)
        self.assertEqual(rc, 0, out)
        self.assertIn('suite list-kernel-test pass pass:4 fail:0 skip:0', out)
        self.assertIn('suite other skip pass:0 fail:0 skip:1', out)

    def test_failed_case_fails_suite(self):
        rc, out = run(GOOD.replace('        ok 2 p2', '        not ok 2 p2')
                      .replace('    ok 3 test_param', '    not ok 3 test_param')
                      .replace('] ok 1 list-kernel-test', '] not ok 1 list-kernel-test'))
        self.assertEqual(rc, 1, out)
        self.assertIn('failed: list-kernel-test.test_param.p2', out)

    def test_truncated_run_is_a_failure(self):
        rc, out = run(''.join(GOOD.splitlines(True)[:10]))
        self.assertEqual(rc, 1, out)
        self.assertIn('incomplete: 0 of 2 suites', out)
        self.assertIn('running when the output stopped: list-kernel-test.test_param', out)

    def test_missing_suite_is_a_failure(self):
        rc, out = run(''.join(GOOD.splitlines(True)[:15]))
        self.assertEqual(rc, 1, out)
        self.assertIn('incomplete: 1 of 2 suites', out)

    def test_no_ktap(self):
        rc, out = run('[    0.1] Linux version 6.12\n')
        self.assertEqual(rc, 2, out)


if __name__ == '__main__':
    unittest.main()
