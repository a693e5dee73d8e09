#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets (fuzz/corpus/<target>/).

The seeds are small valid inputs that take each target deep: for `link`,
programs that bring a link up and move messages both ways (plain,
fragmented, name service, zero-copy, restarts); for `rel`, reliable
channels exchanging messages with forged frames, losses and a restart;
for `rsc`, resource tables
of the shapes firmware uses; for `elf`, minimal ELF32/ELF64 images with a
PT_LOAD segment and a .resource_table section. Re-run after changing an
input format: python3 fuzz/mkseeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- link: see fuzz_link.c (op byte: bit 0 side, (op >> 1) % 16 the op) ----
def op(code, side, *args):
    return bytes([(code << 1) | side] + list(args))


def send(side, ept=0, length=5, fill=0x41, blocking=False):
    code = 5 if blocking else 3
    extra = [0, 10] if blocking else [0]
    return op(code, side, ept, length & 0xFF, length >> 8, fill, *extra)


def notified(side):
    return op(7, side)


def pump(rounds=4):
    return op(9, 0, rounds)


NS, EVIDX = 4, 8
seeds = {
    # 16 entries, 512-byte buffers, NS + EVENT_IDX; messages both ways
    "basic": bytes([4, 2 | NS | EVIDX]) + pump() + send(0) + pump() + send(1) + pump()
    + send(0, 1, 40) + send(1, 1, 496) + pump(),
    # 1-entry rings, 64-byte buffers, no features, echo on both sides
    "tiny": bytes([0, 0]) + pump() + op(11, 0, 2) + op(11, 1, 2) + send(0, 0, 48)
    + pump(8) + send(1, 0, 1) + pump(8),
    # fragments both ways, holds and releases
    "frag": bytes([3, 1 | NS | EVIDX]) + pump() + op(13, 0, 0x10, 0x05, 0x33) + pump(8)
    + op(13, 1, 0x00, 0x02, 0x44) + pump(8) + op(11, 1, 1) + send(0) + pump()
    + op(10, 1, 0),
    # named endpoints come and go; a restart of each side
    "ns": bytes([4, 2 | NS]) + pump() + op(12, 0, 1) + pump() + op(12, 1, 2) + pump()
    + op(12, 0) + pump() + op(15, 1, 1) + pump() + op(15, 0, 1) + pump() + send(0) + pump(),
    # zero-copy reserve / send / release, blocking sends that run the peer
    "zerocopy": bytes([2, 1 | EVIDX | 16 | 32]) + pump() + op(6, 0, 0) + op(6, 0, 0)
    + op(6, 0, 1, 9, 0) + op(6, 0, 2) + send(0, 0, 20, 0x55, True) + pump()
    + op(6, 1, 0) + op(6, 1, 1, 3, 0) + pump(),
    # corruption: an avail index moved by one, a header length, a raw poke
    "poke": bytes([4, 2 | NS | EVIDX | 64]) + pump() + send(0) + op(0, 0, 2, 1, 1, 1)
    + notified(1) + op(1, 0, 3, 0, 3, 0, 1, 0) + send(1) + notified(0)
    + op(2, 0, 0, 0x10, 0, 0, 0, 0xAA) + pump(),
}
for name, data in seeds.items():
    write("link", name, data)


# ---- rsc: byte 0 picks the carve-out region (fuzz_rsc.c), then the table ----
def rsc_table(entries):
    n = len(entries)
    hdr = struct.pack("<IIII", 1, n, 0, 0)
    offs, body = [], b""
    base = 16 + 4 * n
    for e in entries:
        offs.append(base + len(body))
        body += e
    return hdr + struct.pack("<%dI" % n, *offs) + body


def name32(s):
    return s.encode().ljust(32, b"\0")


ANY = 0xFFFFFFFF


def vdev(das=(ANY, ANY), num=16, align=4096, feat=1, config=b""):
    e = struct.pack("<IIIIIIBBBB", 3, 7, 0, feat, 0, len(config), 0, len(das), 0, 0)
    for i, da in enumerate(das):
        e += struct.pack("<IIIII", da, align, num, i, 0)
    return e + config


def carveout(da, length, name="fw"):
    return struct.pack("<IIIIII", 0, da, da, length, 0, 0) + name32(name)


def trace(da, length, name="trace0"):
    return struct.pack("<IIII", 2, da, length, 0) + name32(name)


def devmem(da, pa, length, name="regs"):
    return struct.pack("<IIIIII", 1, da, pa, length, 0, 0) + name32(name)


write("rsc", "vdev_any", bytes([0]) + rsc_table([vdev()]))
write("rsc", "vdev_trace", bytes([0]) + rsc_table([vdev(), trace(ANY, 4096)]))
write("rsc", "fixed", bytes([4]) + rsc_table(
    [carveout(0x10002000, 0x8000), vdev((0x10010000, 0x10014000), 64, 16),
     trace(0x10020000, 0x1000)]))
write("rsc", "mixed", bytes([2]) + rsc_table(
    [devmem(0x40000000, 0x40000000, 0x1000), carveout(ANY, 0x2000, "heap"),
     struct.pack("<I", 200) + b"vendor!!", vdev(config=b"\1\2\3\4")]))
write("rsc", "openamp", bytes([1]) + rsc_table([vdev((0x4000, 0x8000), 256, 0x1000)]))


# ---- elf: byte 0 picks the load region (fuzz_elf.c), then the image ----
def elf32(paddr=0x10000000, text=b"\x00\xbf" * 8, rsc=None):
    rsc = rsc if rsc is not None else rsc_table([vdev()])
    shstr = b"\0.text\0.resource_table\0.shstrtab\0"
    ehsz, phsz, shsz = 52, 32, 40
    off_text = ehsz + phsz
    off_rsc = off_text + len(text)
    off_str = off_rsc + len(rsc)
    off_sh = (off_str + len(shstr) + 3) & ~3
    eh = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\0" * 8
    eh += struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, paddr, ehsz, off_sh, 0x05000000,
                      ehsz, phsz, 1, shsz, 4, 3)
    ph = struct.pack("<IIIIIIII", 1, off_text, paddr, paddr, len(text) + len(rsc),
                     len(text) + len(rsc) + 64, 7, 4)
    body = eh + ph + text + rsc + shstr
    body += b"\0" * (off_sh - len(body))
    sh = b"\0" * shsz
    sh += struct.pack("<IIIIIIIIII", 1, 1, 6, paddr, off_text, len(text), 0, 0, 2, 0)
    sh += struct.pack("<IIIIIIIIII", 7, 1, 3, paddr + len(text), off_rsc, len(rsc), 0, 0, 4, 0)
    sh += struct.pack("<IIIIIIIIII", 23, 3, 0, 0, off_str, len(shstr), 0, 0, 1, 0)
    return body + sh


def elf64(paddr=0x10000000, text=b"\x90" * 16, rsc=None):
    rsc = rsc if rsc is not None else rsc_table([vdev()])
    shstr = b"\0.text\0.resource_table\0.shstrtab\0"
    ehsz, phsz, shsz = 64, 56, 64
    off_text = ehsz + phsz
    off_rsc = off_text + len(text)
    off_str = off_rsc + len(rsc)
    off_sh = (off_str + len(shstr) + 7) & ~7
    eh = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, paddr, ehsz, off_sh, 0,
                      ehsz, phsz, 1, shsz, 4, 3)
    ph = struct.pack("<IIQQQQQQ", 1, 7, off_text, paddr, paddr, len(text) + len(rsc),
                     len(text) + len(rsc) + 64, 8)
    body = eh + ph + text + rsc + shstr
    body += b"\0" * (off_sh - len(body))
    sh = b"\0" * shsz
    sh += struct.pack("<IIQQQQIIQQ", 1, 1, 6, paddr, off_text, len(text), 0, 0, 16, 0)
    sh += struct.pack("<IIQQQQIIQQ", 7, 1, 3, paddr + len(text), off_rsc, len(rsc), 0, 0, 8, 0)
    sh += struct.pack("<IIQQQQIIQQ", 23, 3, 0, 0, off_str, len(shstr), 0, 0, 1, 0)
    return body + sh


write("elf", "arm32", bytes([0x18]) + elf32())
write("elf", "x86_64", bytes([0x10]) + elf64())
write("elf", "arm32_trace", bytes([0x10]) + elf32(rsc=rsc_table([vdev(), trace(ANY, 4096)])))


# ---- rel: see fuzz_rel.c (op byte: bit 0 channel, (op >> 1) % 9 the op) ----
def rop(code, side, *args):
    return bytes([(code << 1) | side] + list(args))


def rsend(side, length=20, fill=0x33):
    return rop(0, side, length, fill)


def rpump():
    return rop(2, 0, 4)


def rtick(ms=15):
    return rop(3, 0, ms)


rel_seeds = {
    "exchange": rsend(0) + rsend(1, 100) + rpump() + rtick() + rpump() + rsend(0, 200)
    + rpump() + rtick() + rpump(),
    "lossy": rop(6, 1, 0x05) + rsend(0) + rsend(0, 50) + rpump() + rtick(30) + rpump()
    + rop(6, 0, 0x08) + rsend(1) + rpump() + rtick(30) + rpump(),
    "forged": rsend(0) + rpump() + rop(4, 1, 0x3F, 10, 1, 0, 0, 0, 0, 0, 0)
    + rop(4, 0, 0x27, 0, 2, 0, 0, 1, 0, 0, 0) + rpump() + rtick() + rpump(),
    "restart": rsend(0) + rsend(0) + rpump() + rop(7, 0, 1) + rpump() + rtick(50)
    + rpump() + rsend(1, 10) + rpump() + rop(7, 0, 0) + rtick(50) + rpump(),
    "echo": rop(6, 1, 0x10) + rsend(0, 64) + rsend(0, 1) + rpump() + rtick() + rpump()
    + rtick() + rpump(),
}
for name, data in rel_seeds.items():
    write("rel", name, data)
