# SPDX-License-Identifier: MIT
"""A PNG reader for the tests that check what headless Chromium drew (8-bit
grey, RGB, grey+alpha and RGBA, not interlaced: what its screenshots are),
without an imaging package."""
import struct
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG: " + path)
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR": hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT": idat.append(body)
        elif typ == b"IEND": break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or interlace or ctype not in (0, 2, 4, 6):
        raise SystemExit("unsupported PNG (depth %d, colour type %d, interlace %d)" % (depth, ctype, interlace))
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b"".join(idat))
    stride = w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(ch, stride): cur[i] = (cur[i] + cur[i - ch]) & 255
        elif f == 2:
            cur = bytearray((a + b) & 255 for a, b in zip(cur, prev))
        elif f == 3:
            for i in range(stride): cur[i] = (cur[i] + ((cur[i - ch] if i >= ch else 0) + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(stride):
                a, b = (cur[i - ch] if i >= ch else 0), prev[i]
                c = prev[i - ch] if i >= ch else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif f:
            raise SystemExit("bad PNG filter %d" % f)
        rows.append(bytes(cur))
        prev = cur
    return w, h, ch, rows


def pixels(path):
    """Every pixel of the PNG at path as an (r, g, b) tuple, row by row."""
    w, h, ch, rows = read_png(path)
    for row in rows:
        for x in range(0, len(row), ch):
            yield (row[x], row[x + 1], row[x + 2]) if ch >= 3 else (row[x],) * 3
