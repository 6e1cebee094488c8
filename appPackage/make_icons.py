"""Draws the Teams app icons (color.png 192×192, outline.png 32×32) with the standard library only.

Run `python appPackage/make_icons.py` to regenerate; the PNGs are committed. The motif: a bill
(sheet with lines) and a check mark, white on teal for the color icon, white on transparent for
the outline icon as Teams requires.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

TEAL = (0x0E, 0x6B, 0x73)
WHITE = (0xFF, 0xFF, 0xFF)
HERE = Path(__file__).resolve().parent
SUPERSAMPLE = 4


def _inside_round_rect(x: float, y: float, box: tuple[float, float, float, float], radius: float) -> bool:
    left, top, right, bottom = box
    if not (left <= x <= right and top <= y <= bottom):
        return False
    cx = min(max(x, left + radius), right - radius)
    cy = min(max(y, top + radius), bottom - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def _near_segment(x: float, y: float, a: tuple[float, float], b: tuple[float, float], width: float) -> bool:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    px, py = ax + t * dx, ay + t * dy
    return (x - px) ** 2 + (y - py) ** 2 <= (width / 2) ** 2


def _bill_glyph(x: float, y: float, *, outline: bool) -> bool:
    """The motif in unit coordinates (0..1): True where the pixel is white."""
    sheet = (0.26, 0.16, 0.70, 0.84)
    stroke = 0.07 if outline else 0.0
    in_sheet = _inside_round_rect(x, y, sheet, 0.06)
    if outline:
        inner = (sheet[0] + stroke, sheet[1] + stroke, sheet[2] - stroke, sheet[3] - stroke)
        in_sheet = in_sheet and not _inside_round_rect(x, y, inner, 0.02)
    lines = any(_near_segment(x, y, (0.36, ly), (0.60, ly), 0.05) for ly in (0.32, 0.44, 0.56))
    badge_center, badge_radius = (0.70, 0.74), 0.17
    in_badge = (x - badge_center[0]) ** 2 + (y - badge_center[1]) ** 2 <= badge_radius**2
    check = _near_segment(x, y, (0.62, 0.74), (0.68, 0.80), 0.05) or _near_segment(x, y, (0.68, 0.80), (0.79, 0.67), 0.05)
    if in_badge:
        return not check  # the check mark is cut out of the badge
    if outline:
        return in_sheet or lines
    return in_sheet and not lines


def render(size: int, *, outline: bool) -> bytes:
    """RGBA pixels of one icon, anti-aliased by supersampling."""
    rows = bytearray()
    n = SUPERSAMPLE
    for py in range(size):
        rows.append(0)  # PNG filter type 0 for each scanline
        for px in range(size):
            hits = sum(
                _bill_glyph((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, outline=outline)
                for sx in range(n)
                for sy in range(n)
            )
            cover = hits / (n * n)
            if outline:
                rows += bytes((*WHITE, round(255 * cover)))
            else:
                rows += bytes(round(t + (w - t) * cover) for t, w in zip(TEAL, WHITE)) + b"\xff"
    return bytes(rows)


def png(size: int, pixels: bytes) -> bytes:
    """A minimal RGBA PNG file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


def main() -> None:
    """Write both icons next to this script."""
    (HERE / "color.png").write_bytes(png(192, render(192, outline=False)))
    (HERE / "outline.png").write_bytes(png(32, render(32, outline=True)))


if __name__ == "__main__":
    main()
