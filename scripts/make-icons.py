#!/usr/bin/env python3
"""Writes Trove's app icons (RGBA PNGs) into icons/ with the standard library only.

A rounded teal square with a white open box (a "trove") and an amber spark.
Run: python3 scripts/make-icons.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "icons")


def inside_round_rect(x, y, x0, y0, x1, y1, r):
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def sample(u, v):
    """Colour at (u, v) in [0,1]^2 as (r, g, b, a) floats."""
    if not inside_round_rect(u, v, 0.04, 0.04, 0.96, 0.96, 0.2):
        return (0.0, 0.0, 0.0, 0.0)
    t = v
    bg = (0.05 + 0.05 * t, 0.45 - 0.15 * t, 0.50 - 0.12 * t, 1.0)
    # box body
    if inside_round_rect(u, v, 0.22, 0.46, 0.78, 0.80, 0.05):
        if 0.46 <= v <= 0.56 and 0.44 <= u <= 0.56:
            return (0.98, 0.74, 0.20, 1.0)  # clasp
        return (1.0, 1.0, 1.0, 1.0)
    # lid (slanted open)
    if inside_round_rect(u, v, 0.20, 0.36, 0.80, 0.43, 0.03):
        return (0.88, 0.96, 0.96, 1.0)
    # spark
    du, dv = abs(u - 0.5), abs(v - 0.22)
    if du * 3.2 + dv <= 0.12 or dv * 3.2 + du <= 0.12:
        return (0.98, 0.74, 0.20, 1.0)
    return bg


def render(size, ss=4):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(ss):
                for sx in range(ss):
                    r, g, b, a = sample((x + (sx + 0.5) / ss) / size, (y + (sy + 0.5) / ss) / size)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            n = ss * ss
            a = acc[3] / n
            if a > 0:
                px = [acc[i] / acc[3] for i in range(3)]
            else:
                px = [0, 0, 0]
            row += bytes([round(px[0] * 255), round(px[1] * 255), round(px[2] * 255), round(a * 255)])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(render(size))
        print("wrote", name)


if __name__ == "__main__":
    main()
