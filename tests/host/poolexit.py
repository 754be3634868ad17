#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Watch QEMU's side of the shared pool's exit path, and reset the VM with
grants held.

usage: poolexit.py [--timeout SECS] SOCKET DATAFILE OUTJSON

The host side of tests/guest/poolexit.sh, against the QEMU at SOCKET whose
guest writes its "key=value" lines to DATAFILE.  One QMP connection from
the start, so that no event is missed:

  1. at the guest's "hold1=": x-query-shared-pool and query-stats (after
     the exits: two grants, one over the quota, one with no room); then
     x-query-shared-pool every 0.2 s until a chunk is unmapped (the one
     the guest's RELEASE at "part=" left wholly free, once QEMU's
     unmap-delay has passed), the guest moves on to "all=", or 20 s pass:
     "unmap1" gets the seconds from the host reading "part=" to the
     answer that first counted the unmap, and that answer;
  2. at "hold2=": the same (after RELEASE_ALL and a grant from KVM's pool),
     then set-action reboot=reset and system_reset, with grants held;
  3. at the RESET event: the same again (nothing may be held);
  4. the guest boots again and runs the same sequence: wait for its
     "done=".

OUTJSON gets the samples ("hold1", "unmap1", "hold2", "reset"), the guest's answers
in each boot ("boot1", "boot2"), every event QEMU sent, and "error" if a
step did not happen.  Exit status: 0 when every step happened, 1 otherwise,
2 for bad usage, 3 when QEMU cannot be reached.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hotplug import Guest  # noqa: E402
from qmp import QMP, QMPError  # noqa: E402

STATS = {"target": "vm", "providers": [{"provider": "kvm"}]}


def sample(q):
    return {"pool": q.execute("x-query-shared-pool", timeout=30),
            "stats": q.execute("query-stats", STATS, timeout=30)}


def watch_unmap(q, guest, before):
    """Poll until QEMU counts a chunk unmapped past @before."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pool = q.execute("x-query-shared-pool", timeout=30)
        now = time.monotonic()
        if pool["unmapped-chunks"] > before:
            return {"after_part_s": round(now - guest.seen_at["part"], 2),
                    "pool": pool}
        guest.poll()
        if "all" in guest.keys:
            return {"error": "the guest released all before an unmap"}
        time.sleep(0.2)
    return {"error": "no chunk unmapped within 20 s of hold1="}


def run(q, guest, report, timeout):
    if guest.wait("hold1", timeout) is None:
        return "the guest never said hold1="
    report["hold1"] = sample(q)
    report["unmap1"] = watch_unmap(q, guest,
                                   report["hold1"]["pool"]["unmapped-chunks"])
    if guest.wait("hold2", timeout) is None:
        return "the guest never said hold2="
    report["hold2"] = sample(q)
    report["boot1"] = dict(guest.keys)
    guest.keys.clear()
    q.execute("set-action", {"reboot": "reset"}, timeout=30)
    q.execute("system_reset", timeout=30)
    # wait_event() hands out the events kept so far first: keep them all.
    seen = []
    deadline = time.monotonic() + 60
    while not any(e["event"] == "RESET" for e in seen):
        ev = q.wait_event(max(deadline - time.monotonic(), 0.1))
        if ev is None:
            q.events[:0] = seen
            return "no RESET event within 60 s of system_reset"
        seen.append(ev)
    q.events[:0] = seen
    report["reset"] = sample(q)
    if guest.wait("done", timeout) is None:
        return "the guest's second boot never said done="
    report["boot2"] = dict(guest.keys)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timeout", type=float, default=180,
                    help="seconds for each wait on the guest (default 180)")
    ap.add_argument("socket")
    ap.add_argument("data")
    ap.add_argument("out")
    opts = ap.parse_args()

    guest = Guest(opts.data)
    report = {}
    try:
        q = QMP(opts.socket, 60)
    except (OSError, ValueError, QMPError) as e:
        print("poolexit.py: %s: %s" % (opts.socket, e), file=sys.stderr)
        return 3
    try:
        err = run(q, guest, report, opts.timeout)
    except (OSError, ValueError, QMPError) as e:
        err = "QMP: %s" % e
    report["events"] = q.events
    if err:
        report["error"] = err
    with open(opts.out, "w") as f:
        json.dump(report, f, indent=1)
    print("poolexit: %s" % (err or "every step happened"))
    return 1 if err else 0


if __name__ == "__main__":
    sys.exit(main())
