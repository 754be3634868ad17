#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Hot-plug disks into a running guest over QMP, and take them out again.

usage: hotplug.py [options] SOCKET DATAFILE OUTJSON

The recipe of docs/hotplug.md, driven end to end against the QEMU at SOCKET
whose guest runs tests/guest/hotplug.sh and writes its "key=value" lines to
DATAFILE (vmrun --data):

  1. wait for the guest's "ready=";
  2. plug one virtio-blk disk and time it: device_add to the guest's
     "up.SERIAL=" line, as seen from here;
  3. plug the others, virtio-blk then NVMe, one QMP command after another,
     each into its own hot-plug port (PREFIX0, PREFIX1, ...), each on a
     blockdev of its own: a sparse raw file of --size MiB in --dir;
  4. wait for the guest's "verified=" (each disk got one verified I/O),
     and ask the DMA guard (x-query-dma-guard) while every disk is in;
  5. device_del every disk at once and wait for each DEVICE_DELETED, then
     blockdev-del its node and delete its file;
  6. wait for the guest's "removed=".

Everything measured goes to OUTJSON; the last line printed is
"hotplug: virtio-blk N/M ok, nvme N/M ok".  A disk is ok when device_add
took it, the guest saw it and verified its I/O, and device_del removed it.
Exit status: 0 when every disk is ok, 1 otherwise, 2 for bad usage, 3 when
QEMU cannot be reached.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP, QMPError  # noqa: E402


class Guest:
    """The guest's data channel, read as it grows."""

    def __init__(self, path, keep_lines=False):
        self.path = path
        self.pos = 0
        self.keys = {}
        self.seen_at = {}
        # When the last whole line was read (time.monotonic()), or None.
        self.last_at = None
        # With keep_lines, every line as (time it was read, line).
        self.lines = [] if keep_lines else None

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        # Only whole lines; the rest waits for the next poll.
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.pos += end + 1
        now = time.monotonic()
        self.last_at = now
        for line in data[:end].decode(errors="replace").splitlines():
            line = line.strip("\r")
            if self.lines is not None:
                self.lines.append((now, line))
            key, sep, value = line.partition("=")
            if sep:
                self.keys[key] = value
                self.seen_at.setdefault(key, now)

    def wait(self, key, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if key in self.keys:
                return self.keys[key]
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)


class Disk:
    def __init__(self, kind, index, port, opts, serial=None):
        self.kind = kind
        short = "v" if kind == "virtio-blk" else "n"
        self.serial = serial or "hp%s%d" % (short, index)
        self.node = self.serial
        self.id = "dev-" + self.serial
        self.port = port
        self.file = os.path.join(opts.dir, self.serial + ".img")
        self.error = None
        self.node_added = False
        self.added_at = None
        self.add_secs = None
        self.up_secs = None
        self.io = None
        self.summary = None
        self.deleted = False

    def device(self):
        if self.kind == "virtio-blk":
            # Under the DMA guard a virtio device must use the DMA API.
            return {"driver": "virtio-blk-pci", "id": self.id,
                    "bus": self.port, "drive": self.node,
                    "serial": self.serial, "iommu_platform": True,
                    "disable-legacy": "on"}
        return {"driver": "nvme", "id": self.id, "bus": self.port,
                "drive": self.node, "serial": self.serial}

    def ok(self):
        return (self.error is None and self.io == "0" and self.deleted)

    def result(self):
        return {k: getattr(self, k) for k in
                ("kind", "serial", "id", "port", "file", "error", "add_secs",
                 "up_secs", "io", "summary", "deleted")}


def plug(q, d, size):
    """blockdev-add and device_add for disk D; errors are kept on D."""
    try:
        with open(d.file, "wb") as f:
            f.truncate(size)
        q.execute("blockdev-add", {
            "driver": "raw", "node-name": d.node,
            "file": {"driver": "file", "filename": d.file}}, timeout=30)
        d.node_added = True
        d.added_at = time.monotonic()
        q.execute("device_add", d.device(), timeout=30)
        d.add_secs = round(time.monotonic() - d.added_at, 3)
    except (QMPError, OSError) as e:
        d.error = "plug: %s" % e


def unplug_all(q, disks, timeout, idle=None):
    """device_del every plugged disk at once, wait up to TIMEOUT seconds
    for each DEVICE_DELETED, then blockdev-del the node and delete the file
    of each disk that went (a device still plugged in keeps both).  IDLE,
    if given, is called between two waits for events of at most 0.5 s.
    Errors are kept on the disks; returns an error of QMP itself, or None."""
    err = None
    pending = set()
    for d in disks:
        if d.add_secs is None:
            continue
        try:
            q.execute("device_del", {"id": d.id}, timeout=30)
            pending.add(d.id)
        except (QMPError, OSError) as e:
            d.error = "device_del: %s" % e
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        if idle:
            idle()
        try:
            ev = q.wait_event(min(deadline - time.monotonic(), 0.5)
                              if idle else deadline - time.monotonic())
        except (OSError, ValueError) as e:
            err = "QMP: %s" % e       # QEMU went away
            break
        if ev and ev.get("event") == "DEVICE_DELETED":
            dev = ev.get("data", {}).get("device")
            if dev in pending:
                pending.discard(dev)
                for d in disks:
                    if d.id == dev:
                        d.deleted = True
    for d in disks:
        if d.node_added and (d.deleted or d.add_secs is None):
            try:
                q.execute("blockdev-del", {"node-name": d.node}, timeout=30)
            except (QMPError, OSError) as e:
                d.error = (d.error or "") + " blockdev-del: %s" % e
        if d.deleted or d.add_secs is None:
            try:
                os.unlink(d.file)
            except OSError:
                pass
    return err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--virtio", type=int, default=8,
                    help="virtio-blk disks (default 8)")
    ap.add_argument("--nvme", type=int, default=8,
                    help="NVMe disks (default 8)")
    ap.add_argument("--ports", default="hp",
                    help="hot-plug port id prefix (default hp)")
    ap.add_argument("--size", type=int, default=16,
                    help="MiB per disk (default 16)")
    ap.add_argument("--dir", default="/tmp",
                    help="where the disk files go (default /tmp)")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds for each wait on the guest (default 600)")
    ap.add_argument("socket")
    ap.add_argument("data")
    ap.add_argument("out")
    opts = ap.parse_args()
    if opts.virtio < 1 or opts.nvme < 0 or opts.size < 1:
        ap.error("need at least one virtio-blk disk, and a size of 1 MiB or more")

    disks = [Disk("virtio-blk", i, "%s%d" % (opts.ports, i), opts)
             for i in range(opts.virtio)]
    disks += [Disk("nvme", i, "%s%d" % (opts.ports, opts.virtio + i), opts)
              for i in range(opts.nvme)]
    guest = Guest(opts.data)
    report = {"virtio-blk": opts.virtio, "nvme": opts.nvme}
    try:
        q = QMP(opts.socket, 60)
    except (OSError, ValueError, QMPError) as e:
        print("hotplug.py: %s: %s" % (opts.socket, e), file=sys.stderr)
        return 3

    t0 = time.monotonic()
    if guest.wait("ready", opts.timeout) is None:
        report["error"] = "the guest never said ready="
    else:
        # Time one hot-plug on its own first.
        first = disks[0]
        plug(q, first, opts.size << 20)
        if first.error is None:
            if guest.wait("up." + first.serial, 120) is not None:
                report["one_hotplug_secs"] = round(
                    guest.seen_at["up." + first.serial] - first.added_at, 2)
        t1 = time.monotonic()
        for d in disks[1:]:
            plug(q, d, opts.size << 20)
        report["plug_all_secs"] = round(time.monotonic() - t1, 2)
        v = guest.wait("verified", opts.timeout)
        report["verified_line"] = v
        report["verified_after_secs"] = round(time.monotonic() - t1, 2)
        # The DMA guard's view while every disk is still in (QEMU without
        # the guard answers with an error, kept instead).
        try:
            report["guard"] = q.execute("x-query-dma-guard", timeout=30)
        except (QMPError, OSError) as e:
            report["guard"] = {"error": str(e)}

    # Take everything out again, whatever happened.
    t2 = time.monotonic()
    err = unplug_all(q, disks, opts.timeout)
    if err:
        report["error"] = err
    report["unplug_all_secs"] = round(time.monotonic() - t2, 2)
    report["removed_line"] = guest.wait("removed", 60)

    guest.poll()
    for d in disks:
        d.io = guest.keys.get("io.%s.status" % d.serial)
        d.summary = guest.keys.get("io.%s.summary" % d.serial)
        up = "up." + d.serial
        if up in guest.seen_at and d.added_at is not None:
            d.up_secs = round(guest.seen_at[up] - d.added_at, 2)
    report["disks"] = [d.result() for d in disks]
    report["total_secs"] = round(time.monotonic() - t0, 2)
    with open(opts.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")

    counts = {}
    for kind, n in (("virtio-blk", opts.virtio), ("nvme", opts.nvme)):
        ok = sum(1 for d in disks if d.kind == kind and d.ok())
        counts[kind] = ok
        for d in disks:
            if d.kind == kind and not d.ok():
                print("hotplug: %s (%s on %s) not ok: %s; io %s %s; %s" % (
                    d.serial, kind, d.port, d.error or "plugged",
                    d.io if d.io is not None else "never", d.summary or "",
                    "removed" if d.deleted else "not removed"))
    ups = sorted(d.up_secs for d in disks if d.up_secs is not None)
    if ups:
        print("hotplug: device_add to the guest seeing the disk: "
              "median %.2f s, max %.2f s (%d disks)" % (
                  ups[len(ups) // 2], ups[-1], len(ups)))
    print("hotplug: one hot-plug %s s; all plugged in %s s, verified %s s "
          "later; all removed in %s s" % (
              report.get("one_hotplug_secs", "?"),
              report.get("plug_all_secs", "?"),
              report.get("verified_after_secs", "?"),
              report.get("unplug_all_secs", "?")))
    print("hotplug: virtio-blk %d/%d ok, nvme %d/%d ok" % (
        counts["virtio-blk"], opts.virtio, counts["nvme"], opts.nvme))
    return 0 if all(d.ok() for d in disks) else 1


if __name__ == "__main__":
    sys.exit(main())
