#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Parse the KTAP that built-in KUnit suites print to a kernel console.

usage: ktap.py CONSOLE_LOG

Prints one line per suite, "suite NAME STATUS pass:P fail:F skip:S", then
the failing test cases, and exits 0 when every suite passed or was skipped,
1 when a suite failed or the output is incomplete (the kernel died or hung
part-way: fewer results than the plan announced), 2 when no KTAP was found.

Timestamps ("[    1.234567] ") are stripped; lines that are not KTAP (other
kernel messages interleaved with the run) are ignored, as KTAP allows.
"""
import re
import sys

TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\] ?')
RESULT = re.compile(r'^(ok|not ok) (\d+)(?: (?:- )?([^#]*?))?\s*(?:#\s*(SKIP|TODO)\b(.*))?$')
PLAN = re.compile(r'^1\.\.(\d+)')
VERSION = re.compile(r'^(KTAP version \d+|TAP version \d+)$')


class Node:
    def __init__(self, name=None):
        self.name = name
        self.plan = None
        self.children = []
        self.status = None   # pass, fail, skip

    def counts(self):
        c = {'pass': 0, 'fail': 0, 'skip': 0}
        for ch in self.children:
            if ch.children:
                for k, v in ch.counts().items():
                    c[k] += v
            else:
                c[ch.status] += 1
        return c

    def failures(self, prefix=''):
        for ch in self.children:
            path = f'{prefix}{ch.name}'
            if ch.children:
                yield from ch.failures(path + '.')
            elif ch.status == 'fail':
                yield path


def parse(lines):
    """Return (root, open levels); root is None if no KTAP header was seen."""
    root = None
    stack = []
    for raw in lines:
        line = TIMESTAMP.sub('', raw.rstrip('\r\n'))
        stripped = line.lstrip(' ')
        depth = (len(line) - len(stripped)) // 4
        if root is None:
            if depth == 0 and VERSION.match(stripped):
                root = Node('')
                stack = [root]
            continue
        if VERSION.match(stripped):
            # A nested KTAP header opens a new level below the current one.
            while len(stack) > depth + 1:
                stack.pop()
            if depth > 0 and len(stack) == depth:
                stack.append(Node())
            continue
        if stripped.startswith('# Subtest:') and len(stack) == depth + 1:
            stack[depth].name = stripped[len('# Subtest:'):].strip()
            continue
        m = PLAN.match(stripped)
        if m:
            while len(stack) > depth + 1:
                stack.pop()
            if len(stack) == depth + 1:
                stack[depth].plan = int(m.group(1))
            continue
        m = RESULT.match(stripped)
        if m:
            ok, _, name, directive, _ = m.groups()
            # The result line for a subtest closes the level below it.
            node = stack[depth + 1] if len(stack) > depth + 1 else Node()
            del stack[depth + 1:]
            if depth >= len(stack):
                continue
            node.name = (name or '').strip() or node.name or '?'
            if directive == 'SKIP':
                node.status = 'skip'
            else:
                node.status = 'pass' if ok == 'ok' else 'fail'
            stack[depth].children.append(node)
    return root, stack


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(sys.argv[1], errors='replace') as f:
        root, stack = parse(f)
    if root is None:
        print('ktap: no KTAP output found')
        return 2
    bad = 0
    for suite in root.children:
        c = suite.counts()
        print(f'suite {suite.name} {suite.status} '
              f'pass:{c["pass"]} fail:{c["fail"]} skip:{c["skip"]}')
        for case in suite.failures():
            print(f'  failed: {suite.name}.{case}')
        if suite.status == 'fail':
            bad = 1
    if root.plan is None or len(root.children) != root.plan:
        print(f'ktap: incomplete: {len(root.children)} of '
              f'{root.plan if root.plan is not None else "?"} suites reported '
              f'(the kernel died or hung during the run)')
        running = [n.name for n in stack[1:] if n.name]
        if running:
            print(f'ktap: running when the output stopped: {".".join(running)}')
        bad = 1
    return bad


if __name__ == '__main__':
    sys.exit(main())
