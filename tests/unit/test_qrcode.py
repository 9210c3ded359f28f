"""QR encoder: the standard's published tables and example, and a read-back of every symbol.

Independent checks (a real decoder, a bit-for-bit comparison with another
encoder) are in tests/host/test_qrcode_host.py; these run on both runtimes.
"""

from support import raises, unhex

from micromatter import qrcode as qr
from micromatter.errors import MatterError

MT = "MT:Y.K90AFN00KA0648G00"

# ISO/IEC 18004 format-information table: levels L, M, Q, H, masks 0..7.
FORMAT_TABLE = (
    0x77C4, 0x72F3, 0x7DAA, 0x789D, 0x662F, 0x6318, 0x6C41, 0x6976,
    0x5412, 0x5125, 0x5E7C, 0x5B4B, 0x45F9, 0x40CE, 0x4F97, 0x4AA0,
    0x355F, 0x3068, 0x3F31, 0x3A06, 0x24B4, 0x2183, 0x2EDA, 0x2BED,
    0x1689, 0x13BE, 0x1CE7, 0x19D0, 0x0762, 0x0255, 0x0D0C, 0x083B,
)
# ISO/IEC 18004 version-information table, versions 7..10.
VERSION_TABLE = (0x07C94, 0x085BC, 0x09A99, 0x0A4D3)


def test_reed_solomon_matches_the_standard_example():
    # The standard's worked example "01234567", version 1-M: 16 data codewords -> 10 check codewords.
    data = unhex("10 20 0C 56 61 80 EC 11 EC 11 EC 11 EC 11 EC 11")
    assert bytes(qr.rs_remainder(data, 10)) == unhex("A5 24 D4 C1 ED 36 C7 87 2C 55")


def test_format_and_version_information_tables():
    for level in range(4):
        for mask in range(8):
            assert qr.format_bits(level, mask) == FORMAT_TABLE[level * 8 + mask]
    for v in range(7, 11):
        assert qr.version_bits(v) == VERSION_TABLE[v - 7]


# --- a small reader, written from the standard, to check what the encoder drew ----------

_EXP = [0] * 512
_x = 1
for _i in range(255):
    _EXP[_i] = _EXP[_i + 255] = _x
    _x = (_x << 1) ^ (0x11D if _x & 0x80 else 0)
_LOG = [0] * 256
for _i in range(255):
    _LOG[_EXP[_i]] = _i


def _syndromes_zero(codeword_block, ec):
    for i in range(ec):
        s = 0
        for c in codeword_block:
            s = (_EXP[_LOG[s] + i] if s else 0) ^ c
        if s:
            return False
    return True


def _function_map(size, version):
    f = [[False] * size for _ in range(size)]
    for y in range(size):
        for x in range(size):
            if x == 6 or y == 6 or (x < 9 and y < 9) or (x >= size - 8 and y < 9) or (x < 9 and y >= size - 8):
                f[y][x] = True
    if version > 1:
        centres = {2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34], 7: [6, 22, 38], 8: [6, 24, 42],
                   9: [6, 26, 46], 10: [6, 28, 50]}[version]
        for cy in centres:
            for cx in centres:
                if (cx, cy) in ((6, 6), (6, centres[-1]), (centres[-1], 6)):
                    continue
                for y in range(cy - 2, cy + 3):
                    for x in range(cx - 2, cx + 3):
                        f[y][x] = True
    if version >= 7:
        for i in range(6):
            for j in range(3):
                f[i][size - 11 + j] = f[size - 11 + j][i] = True
    return f


def _read_back(sym):
    """Format info, data codewords (de-interleaved) and RS check of a symbol."""
    size = sym.size
    v = (size - 17) // 4
    get = sym.dark
    fmt1 = 0
    coords1 = [(8, i) for i in range(6)] + [(8, 7), (8, 8), (7, 8)] + [(14 - i, 8) for i in range(9, 15)]
    coords2 = [(size - 1 - i, 8) for i in range(8)] + [(8, size - 15 + i) for i in range(8, 15)]
    fmt2 = 0
    for i in range(15):
        fmt1 |= get(*coords1[i]) << i
        fmt2 |= get(*coords2[i]) << i
    assert fmt1 == fmt2 and get(8, size - 8)
    index = FORMAT_TABLE.index(fmt1)
    level, mask = "LMQH"[index // 8], index % 8
    masks = (
        lambda x, y: (x + y) % 2 == 0, lambda x, y: y % 2 == 0, lambda x, y: x % 3 == 0,
        lambda x, y: (x + y) % 3 == 0, lambda x, y: (x // 3 + y // 2) % 2 == 0,
        lambda x, y: x * y % 2 + x * y % 3 == 0, lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
        lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
    )
    f = _function_map(size, v)
    bits = []
    col = size - 1
    upward = True
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for y in rows:
            for x in (col, col - 1):
                if not f[y][x]:
                    bits.append(int(get(x, y)) ^ int(masks[mask](x, y)))
        upward = not upward
        col -= 2
    words = [int("".join(str(b) for b in bits[i:i + 8]), 2) for i in range(0, len(bits) - 7, 8)]
    ec, b1, d1, b2 = qr._BLOCKS[v - 1]["LMQH".index(level)]
    nblocks = b1 + b2
    blocks = [[] for _ in range(nblocks)]
    k = 0
    for i in range(d1 + 1):
        for b in range(nblocks):
            if i < d1 + (1 if b >= b1 else 0):
                blocks[b].append(words[k])
                k += 1
    data = [c for block in blocks for c in block]
    for i in range(ec):
        for b in range(nblocks):
            blocks[b].append(words[k])
            k += 1
    for block in blocks:
        assert _syndromes_zero(block, ec)
    return level, mask, v, data


def _decode_segment(data, version):
    bits = "".join(("0000000" + bin(c)[2:])[-8:] for c in data)
    mode = int(bits[0:4], 2)
    if mode == 2:
        n_bits = 9 if version < 10 else 11
        n = int(bits[4:4 + n_bits], 2)
        p = 4 + n_bits
        out = []
        for _ in range(n // 2):
            v = int(bits[p:p + 11], 2)
            out.append(qr.ALPHANUMERIC[v // 45] + qr.ALPHANUMERIC[v % 45])
            p += 11
        if n & 1:
            out.append(qr.ALPHANUMERIC[int(bits[p:p + 6], 2)])
        return "".join(out).encode()
    assert mode == 4
    n_bits = 8 if version < 10 else 16
    n = int(bits[4:4 + n_bits], 2)
    p = 4 + n_bits
    return bytes(int(bits[p + 8 * i:p + 8 * i + 8], 2) for i in range(n))


def test_read_back_every_version_and_level():
    texts = (MT, b"\x00\x01binary\xff" * 3, "A" * 100, b"x" * 200)
    seen_versions = set()
    for text in texts:
        for level in "LMQH":
            try:
                sym = qr.encode(text, level)
            except qr.QrCodeError:
                continue
            lv, mask, v, data = _read_back(sym)
            assert (lv, mask, v) == (level, sym.mask, sym.version)
            raw = text.encode() if isinstance(text, str) else text
            assert _decode_segment(data, v) == raw
            seen_versions.add(v)
    assert 1 in seen_versions and max(seen_versions) >= 7  # version information exercised


def test_mt_payload_is_version_2_at_level_m_alphanumeric():
    sym = qr.encode(MT, "M")
    assert (sym.version, sym.size, sym.level) == (2, 25, "M")
    assert qr.encode(MT, "L").version == 1
    assert qr.encode(MT, "Q").version == 2
    assert qr.encode(MT.lower(), "Q").version == 3  # byte mode needs more room


def test_mask_choice_has_lowest_penalty():
    sym = qr.encode(MT, "M")
    scores = []
    for mask in range(8):
        forced = qr.encode(MT, "M", mask=mask)
        assert forced.mask == mask
        assert _read_back(forced)[1] == mask
        scores.append(qr.penalty(forced.modules, forced.size))
    assert scores[sym.mask] == min(scores)
    assert sym.modules == qr.encode(MT, "M", mask=sym.mask).modules


def test_penalty_rules():
    # All light 21x21: a run of 21 in each of 42 lines (19 points each), 400 2x2 blocks, 50 % off balance.
    n = 21
    assert qr.penalty(bytearray(n * n), n) == 42 * 19 + 400 * 3 + 100
    # A checkerboard has no run, no block, no finder-like pattern and is balanced.
    board = bytearray((x + y) & 1 for y in range(n) for x in range(n))
    assert qr.penalty(board, n) == 0
    # Dark even rows: 21 runs of 21 across, nothing down, 231 of 441 dark is within 5 % of half.
    stripes = bytearray(1 - (y & 1) for y in range(n) for x in range(n))
    assert qr.penalty(stripes, n) == 21 * 19


def test_finders_timing_and_dark_module():
    sym = qr.encode(MT, "M")
    n = sym.size
    for ox, oy in ((0, 0), (n - 7, 0), (0, n - 7)):
        for y in range(7):
            for x in range(7):
                d = max(abs(x - 3), abs(y - 3))
                assert sym.dark(ox + x, oy + y) == (d != 2)
    for i in range(8, n - 8):
        assert sym.dark(6, i) == (i % 2 == 0) and sym.dark(i, 6) == (i % 2 == 0)
    assert sym.dark(8, n - 8)


def _text_to_modules(text, span, half):
    grid = []
    for line in text.split("\n"):
        if half:
            top = []
            bottom = []
            for ch in line:
                top.append(ch in "\u2580\u2588")
                bottom.append(ch in "\u2584\u2588")
            grid.append(top)
            grid.append(bottom)
        else:
            grid.append([line[i:i + 2] == "##" for i in range(0, len(line), 2)])
    return grid[:span]


def test_render_shows_every_module():
    sym = qr.encode(MT, "M")
    for quiet in (0, 2, 4):
        span = sym.size + 2 * quiet
        for half in (True, False):
            for ink_dark in (False, True):
                text = qr.render(sym, quiet=quiet, half_blocks=half, ink_dark=ink_dark)
                lines = text.split("\n")
                assert len(lines) == ((span + 1) // 2 if half else span)
                assert all(len(line) == (span if half else 2 * span) for line in lines)
                grid = _text_to_modules(text, span, half)
                for y in range(span):
                    for x in range(span):
                        inside = quiet <= x < quiet + sym.size and quiet <= y < quiet + sym.size
                        dark = inside and sym.dark(x - quiet, y - quiet)
                        assert grid[y][x] == (dark == ink_dark)


def test_rejects_bad_requests():
    raises(qr.QrCodeError, qr.encode, MT, "X")
    raises(qr.QrCodeError, qr.encode, MT, "M", 11)
    raises(qr.QrCodeError, qr.encode, MT, "M", 0)
    raises(qr.QrCodeError, qr.encode, MT, "M", None, 8)
    raises(qr.QrCodeError, qr.encode, "lower", "M", None, None, qr.MODE_ALPHANUMERIC)
    raises(qr.QrCodeError, qr.encode, MT, "M", None, None, 1)
    raises(qr.QrCodeError, qr.encode, MT, "H", 1)  # 22 characters do not fit 1-H
    raises(qr.QrCodeError, qr.encode, b"x" * 300, "L")  # beyond version 10
    assert issubclass(qr.QrCodeError, MatterError)
    assert qr.encode(b"x" * 271, "L").version == 10
