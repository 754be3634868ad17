#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Run one QMP command against a QEMU and print what it returns.

usage: qmp.py [-t SECS] SOCKET COMMAND [JSON-ARGS]

SOCKET is the path of QEMU's QMP socket (-qmp unix:SOCKET,server=on,wait=off).
The command's "return" value is printed as JSON on stdout.  Exit status: 0 on
success, 1 when QEMU answers with an error (printed on stderr), 2 for bad
usage, 3 when QEMU cannot be reached or the connection fails (within -t
seconds, default 10, for connecting and for the answer).  Standard library
only: it runs wherever python3 does, L1 included.
"""

import argparse
import json
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout):
        self.deadline = time.monotonic() + timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            try:
                self.sock.settimeout(self.left())
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                # QEMU may still be starting: retry until the deadline.
                if self.left() <= 0.1:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.events = []
        greeting = self.recv()
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting: %r" % greeting)
        self.execute("qmp_capabilities")

    def left(self):
        return max(self.deadline - time.monotonic(), 0.1)

    def recv(self):
        while b"\n" not in self.buf:
            self.sock.settimeout(self.left())
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("QEMU closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, args=None, timeout=None):
        """Run COMMAND; with TIMEOUT, wait that long for its answer (else
        until the deadline given at connection).  Events that arrive
        meanwhile are kept in self.events."""
        if timeout is not None:
            self.deadline = time.monotonic() + timeout
        msg = {"execute": command}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            resp = self.recv()
            if "event" in resp:
                self.events.append(resp)
                continue
            if "error" in resp:
                err = resp["error"]
                raise QMPError("%s: %s" % (err.get("class"), err.get("desc")))
            if "return" in resp:
                return resp["return"]
            raise QMPError("unexpected answer: %r" % resp)

    def wait_event(self, timeout):
        """The next event (kept ones first), or None after TIMEOUT seconds."""
        if self.events:
            return self.events.pop(0)
        self.deadline = time.monotonic() + timeout
        while True:
            try:
                resp = self.recv()
            except socket.timeout:
                return None
            if "event" in resp:
                return resp


def main():
    ap = argparse.ArgumentParser(
        description="Run one QMP command and print its return value.")
    ap.add_argument("-t", "--timeout", type=float, default=10.0,
                    help="seconds to wait for QEMU (default 10)")
    ap.add_argument("socket")
    ap.add_argument("command")
    ap.add_argument("args", nargs="?", default=None,
                    help="the command's arguments, a JSON object")
    opts = ap.parse_args()
    args = None
    if opts.args is not None:
        try:
            args = json.loads(opts.args)
        except ValueError as e:
            ap.error("JSON-ARGS: %s" % e)
        if not isinstance(args, dict):
            ap.error("JSON-ARGS must be a JSON object")
    try:
        ret = QMP(opts.socket, opts.timeout).execute(opts.command, args)
    except QMPError as e:
        print("qmp.py: %s" % e, file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print("qmp.py: %s: %s" % (opts.socket, e), file=sys.stderr)
        return 3
    json.dump(ret, sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
