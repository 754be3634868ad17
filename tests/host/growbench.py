#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Read KVM's and QEMU's counters around each growth of make bench-grow.

usage: growbench.py SOCKET DATAFILE OUTJSON

The host side of tests/guest/grow.sh, against the QEMU at SOCKET whose
guest writes its "key=value" lines to DATAFILE.  At each "before.STEP="
and "after.STEP=" it reads KVM's statistics (query-stats: the VM's
shared_pool_exits, and exits and hypercalls summed over the vCPUs) and
QEMU's shared pool (x-query-shared-pool).  OUTJSON gets, per step, the
guest's lines and the differences after - before, and the guest's
refusals of bad writes ("refuse").  Exit status: 0 when
every step was read, 1 otherwise, 3 when QEMU cannot be reached.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hotplug import Guest  # noqa: E402
from qmp import QMP, QMPError  # noqa: E402

STEPS = ("4k", "2m", "grant-kernel", "grant-exit")


def counters(q):
    c = {}
    for target in ("vm", "vcpu"):
        for entry in q.execute("query-stats", {
                "target": target, "providers": [{"provider": "kvm"}]},
                timeout=30):
            for s in entry["stats"]:
                if s["name"] in ("shared_pool_exits", "shared_pool_grants",
                                 "exits", "hypercalls"):
                    c[s["name"]] = c.get(s["name"], 0) + s["value"]
    c["qemu_pool_exits"] = q.execute("x-query-shared-pool",
                                     timeout=30)["exits"]
    return c


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    sock, data, out = sys.argv[1:]
    guest = Guest(data)
    report = {}
    try:
        q = QMP(sock, 60)
    except (OSError, ValueError, QMPError) as e:
        print("growbench.py: %s: %s" % (sock, e), file=sys.stderr)
        return 3
    err = None
    try:
        for step in STEPS:
            if guest.wait("before." + step, 900) is None:
                err = "the guest never said before.%s=" % step
                break
            c0 = counters(q)
            if guest.wait("after." + step, 900) is None:
                err = "the guest never said after.%s=" % step
                break
            c1 = counters(q)
            report[step] = {
                "delta": {k: c1[k] - c0[k] for k in c0},
                "run": guest.keys.get("run." + step),
                "emu": {k[len("emu.%s." % step):]: int(v)
                        for k, v in guest.keys.items()
                        if k.startswith("emu.%s." % step)},
            }
        if not err and guest.wait("done", 120) is None:
            err = "the guest never said done="
        report["refuse"] = {k[len("refuse."):]: v
                            for k, v in guest.keys.items()
                            if k.startswith("refuse.")}
    except (OSError, ValueError, QMPError) as e:
        err = "QMP: %s" % e
    if err:
        report["error"] = err
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print("growbench: %s" % (err or "every step read"))
    return 1 if err else 0


if __name__ == "__main__":
    sys.exit(main())
