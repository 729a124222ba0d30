"""Build the pixel network's glyph file from GNU Unifont's .hex sources.

The pixel network draws text with 8×16 and 16×16 bitmap glyphs for Unicode's Basic
Multilingual Plane. They come from GNU Unifont 15.0.01 (Debian package `unifont`,
dual-licensed SIL OFL 1.1 / GPL-2+ with the font embedding exception; we use it
under the OFL). This script turns its `unifont.hex` and `plane00-combining.txt`
into the compact file `src/holomind/memory/font/bmp16.glyphs` that ships in the
package (a Modified Version under the OFL, so it does not carry the name Unifont):

    apt-get install unifont
    python tools/build_glyphs.py [--hex /usr/share/unifont/unifont.hex]

File layout (all zlib-compressed as one stream):

    b"HMGL" + version byte 1
    widths       65536 bytes, one per BMP code point: 0 no glyph, 1 = 8 px, 2 = 16 px
    u32 n, then n × (u16 code point, i8 x offset): combining marks, drawn at the
                 given offset from the pen without advancing it
    cells        16 bytes per 8-px cell, rows top to bottom, leftmost pixel in the
                 high bit; a 16-px glyph is two cells, left then right, in code
                 point order
"""

from __future__ import annotations

import argparse
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/holomind/memory/font/bmp16.glyphs"


def main() -> None:
    """Read the .hex files and write the glyph file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hex", type=Path, default=Path("/usr/share/unifont/unifont.hex"))
    parser.add_argument(
        "--combining", type=Path, default=Path("/usr/share/unifont/plane00-combining.txt")
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    widths = bytearray(65536)
    glyphs: dict[int, bytes] = {}
    for line in args.hex.read_text(encoding="ascii").splitlines():
        code, _, data = line.partition(":")
        cp = int(code, 16)
        raw = bytes.fromhex(data)
        if cp > 0xFFFF or len(raw) not in (16, 32):
            raise SystemExit(f"unexpected glyph U+{cp:04X} of {len(raw)} bytes")
        if len(raw) == 32:  # rows of two bytes -> left cell, then right cell
            raw = raw[0::2] + raw[1::2]
        widths[cp] = len(raw) // 16
        glyphs[cp] = raw
    combining = []
    for line in args.combining.read_text(encoding="ascii").splitlines():
        code, _, offset = line.partition(":")
        cp, dx = int(code, 16), int(offset)
        if dx and cp in glyphs:
            combining.append(struct.pack(">Hb", cp, dx))
    body = b"".join(
        [
            b"HMGL\x01",
            bytes(widths),
            struct.pack(">I", len(combining)),
            *combining,
            *(glyphs[cp] for cp in sorted(glyphs)),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(zlib.compress(body, 9))
    print(
        f"{len(glyphs)} glyphs ({sum(w == 2 for w in widths)} wide), {len(combining)} "
        f"combining, {args.out.stat().st_size} bytes -> {args.out}"
    )


if __name__ == "__main__":
    main()
