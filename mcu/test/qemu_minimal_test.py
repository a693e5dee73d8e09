#!/usr/bin/env python3
"""Boot test of mcu/fw_minimal*.elf on QEMU's mps2-an386, with this script
playing the Linux host (the virtio driver) over the shared RAM file and the
UART1 doorbell socket. Python 3 standard library only; needs
qemu-system-arm (Debian: apt-get install qemu-system-arm).

What it checks, end to end on a real (emulated) Cortex-M4 with NVIC
interrupts: the resource table is in the shared file before the first
instruction; the firmware comes up once DRIVER_OK is set; it announces its
endpoint through the name service (address 53) on vring0; a host message
on vring1, kicked through the doorbell, reaches the callback and binds the
endpoint; the firmware answers with the 5 bytes "hello"; the buffers come
back on vring1's used ring; the console reports each message.

This is deliberately a minimal, independent driver (not amplink's host
code), so that it also cross-checks the wire format.

  qemu_minimal_test.py [--fw build-mcu/fw_minimal.elf] [--keep]
"""
import argparse
import mmap
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

SHM_BASE = 0x21000000
SHM_SIZE = 16 << 20
BUF = 512
NS_ADDR = 53
HOST_ADDR = 0x800  # not 0x400, which the firmware takes: checks that dst is ours


def vring_layout(num, align):
    avail = 16 * num
    used = (avail + 2 * (3 + num) + align - 1) & ~(align - 1)
    return avail, used


class Ring:
    """One split vring in the shared file, seen from the driver."""

    def __init__(self, m, off, num, align):
        self.m, self.off, self.num = m, off, num
        self.avail, self.used = (off + x for x in vring_layout(num, align))
        self.avail_idx = 0
        self.last_used = 0

    def post(self, desc_id, buf_off, length, device_writes):
        d = self.off + 16 * desc_id
        struct.pack_into("<QIHH", self.m, d, SHM_BASE + buf_off, length,
                         2 if device_writes else 0, 0)
        struct.pack_into("<H", self.m, self.avail + 4 + 2 * (self.avail_idx % self.num), desc_id)
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        struct.pack_into("<H", self.m, self.avail + 2, self.avail_idx)  # after the entry

    def get_used(self):
        idx, = struct.unpack_from("<H", self.m, self.used + 2)
        if idx == self.last_used:
            return None
        e = self.used + 4 + 8 * (self.last_used % self.num)
        self.last_used = (self.last_used + 1) & 0xFFFF
        return struct.unpack_from("<II", self.m, e)


def wait_for(what, cond, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = cond()
        if r:
            return r
        time.sleep(0.002)
    raise SystemExit(f"FAIL: timed out waiting for {what}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--fw", default=os.path.join(here, "..", "..", "build-mcu", "fw_minimal.elf"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    qemu = shutil.which("qemu-system-arm")
    if not qemu:
        print("SKIP: qemu-system-arm not installed")
        return 77

    tmp = tempfile.mkdtemp(prefix="amplink-qemu-")
    shm_name = f"amplink-test-{os.getpid()}"
    shm_path = f"/dev/shm/{shm_name}"
    console = os.path.join(tmp, "console.log")
    dbsock = os.path.join(tmp, "db.sock")
    # A fresh, zeroed backing file: QEMU never clears it.
    with open(shm_path, "wb") as f:
        f.truncate(SHM_SIZE)
    proc = subprocess.Popen([
        qemu, "-machine", "mps2-an386,memory-backend=shm",
        "-object", f"memory-backend-file,id=shm,size=16M,mem-path={shm_path},share=on",
        "-kernel", args.fw, "-display", "none", "-monitor", "none",
        "-chardev", f"file,id=con,path={console}", "-serial", "chardev:con",
        "-chardev", f"socket,id=db,path={dbsock},server=on,wait=off", "-serial", "chardev:db",
    ], stdin=subprocess.DEVNULL)
    try:
        return run(args, proc, shm_path, console, dbsock)
    finally:
        proc.kill()
        proc.wait()
        os.unlink(shm_path)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, proc, shm_path, console, dbsock):
    fd = os.open(shm_path, os.O_RDWR)
    m = mmap.mmap(fd, SHM_SIZE)
    os.close(fd)

    def console_text():
        try:
            with open(console, encoding="ascii", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # Resource table: written into the file by -kernel before the core runs
    # (fw_minimal), or by the firmware at boot (the RPMsg-Lite-style
    # images): wait until it is complete, with its VDEV entry and rings.
    def table_ready():
        ver, num, _r0, _r1, off = struct.unpack_from("<5I", m, 0)
        if ver != 1 or num != 1 or off >= 0x1000:
            return False
        typ, vid = struct.unpack_from("<II", m, off)
        nvr = m[off + 25]
        num0, = struct.unpack_from("<I", m, off + 28 + 8)
        num1, = struct.unpack_from("<I", m, off + 48 + 8)
        return typ == 3 and vid == 7 and nvr == 2 and num0 and num1

    wait_for("the resource table", table_ready)
    wait_for("the firmware's banner", lambda: "waiting for the host" in console_text())
    time.sleep(0.2)  # a table written at run time: let the last stores land
    ver, num = struct.unpack_from("<II", m, 0)
    voff, = struct.unpack_from("<I", m, 16)
    typ, vid, _nid, dfeat, _gfeat, cfglen, status, nvr = struct.unpack_from("<6IBB", m, voff)
    assert (typ, vid, nvr) == (3, 7, 2), (typ, vid, nvr)
    rings = []
    for i in range(2):
        da, align, rnum, nid, _pa = struct.unpack_from("<5I", m, voff + 28 + 20 * i)
        rings.append((da - SHM_BASE, align, rnum, nid))
    print(f"resource table: ver {ver}, vdev at {voff:#x}, dfeatures {dfeat:#x}, status {status}, "
          f"vring0 {rings[0]}, vring1 {rings[1]}")

    db = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    wait_for("the doorbell socket", lambda: db.connect_ex(dbsock) == 0)
    db.setblocking(False)

    def kick():
        db.send(b"\x01")

    def drain_doorbells():
        n = 0
        try:
            while True:
                b = db.recv(64)
                if not b:
                    break
                n += len(b)
        except BlockingIOError:
            pass
        return n

    # The VirtIO handshake, as the driver.
    struct.pack_into("<I", m, voff + 16, dfeat & 1)            # gfeatures: NS only
    struct.pack_into("<B", m, voff + 24, 1 | 2)                 # ACKNOWLEDGE | DRIVER
    r0off, r0align, r0num, _ = rings[0]
    r1off, r1align, r1num, _ = rings[1]
    for off, num, align in ((r0off, r0num, r0align), (r1off, r1num, r1align)):
        _, used = vring_layout(num, align)
        m[off:off + used + 6 + 8 * num] = bytes(used + 6 + 8 * num)
    rx, tx = Ring(m, r0off, r0num, r0align), Ring(m, r1off, r1num, r1align)
    # Buffers right after the last ring, as amplink/layout.h plans them: a
    # remote may accept descriptors only inside the region it declared
    # (the RPMsg-Lite-style remote declares just table + rings + pool).
    pool = 0
    for off, num, align in ((r0off, r0num, r0align), (r1off, r1num, r1align)):
        _, used = vring_layout(num, align)
        pool = max(pool, (off + used + 6 + 8 * num + align - 1) & ~(align - 1))
    rx_bufs = [pool + BUF * i for i in range(r0num)]
    tx_bufs = [pool + BUF * (r0num + i) for i in range(r1num)]
    for i, b in enumerate(rx_bufs):
        rx.post(i, b, BUF, True)
    struct.pack_into("<B", m, voff + 24, 1 | 2 | 8 | 4)         # + FEATURES_OK | DRIVER_OK
    kick()

    def next_msg():
        u = rx.get_used()
        if not u:
            return None
        uid, ulen = u
        assert uid < r0num and 16 <= ulen <= BUF, u
        b = rx_bufs[uid]
        src, dst, _res, length, _flags = struct.unpack_from("<IIIHH", m, b)
        data = bytes(m[b + 16:b + 16 + length])
        rx.post(uid, b, BUF, True)                               # give it back
        kick()
        return src, dst, data

    src, dst, data = wait_for("the name-service announcement", next_msg)
    name, addr, flags = struct.unpack("<32sII", data)
    name = name.rstrip(b"\0").decode()
    print(f"NS announce: {name!r} at {addr:#x} flags {flags} (src {src:#x} -> dst {dst})")
    assert dst == NS_ADDR and flags == 0 and name == "amplink-minimal", (dst, flags, name)
    wait_for("the link-up line", lambda: "link up" in console_text())

    tx_free = list(range(r1num))

    def send(payload):
        wait_for("a free transmit descriptor", lambda: reclaim() or tx_free)
        d = tx_free.pop(0)
        b = tx_bufs[d]
        struct.pack_into("<IIIHH", m, b, HOST_ADDR, addr, 0, len(payload), 0)
        m[b + 16:b + 16 + len(payload)] = payload
        tx.post(d, b, 16 + len(payload), False)
        kick()

    def reclaim():
        while True:
            u = tx.get_used()
            if not u:
                return False
            assert u[0] < r1num and u[0] not in tx_free, u
            tx_free.append(u[0])

    # The first message binds the firmware's endpoint to HOST_ADDR; it
    # then sends "hello".
    send(b"ping from the host")
    src, dst, data = wait_for("the firmware's 5 bytes", next_msg)
    print(f"firmware sent {data!r} (src {src:#x} -> dst {dst:#x})")
    assert (src, dst, data) == (addr, HOST_ADDR, b"hello"), (src, dst, data)

    for i in range(20):
        send(f"message {i}".encode() * (i + 1))
    wait_for("all 21 messages on the console",
             lambda: "received message 0x00000015" in console_text())
    wait_for("all transmit buffers back", lambda: (reclaim() or True) and len(tx_free) == r1num)
    n = drain_doorbells()
    print(f"doorbells from the core: {n}")
    print("console:\n" + console_text())
    if proc.poll() is not None:
        raise SystemExit("FAIL: QEMU exited")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
