"""A small QR-code encoder and a terminal renderer, so a device can show its pairing QR code.

ISO/IEC 18004 model 2, versions 1-10, one segment in alphanumeric or byte
mode, error correction L, M, Q or H, Reed-Solomon over GF(256), the mask
chosen by the penalty score unless one is given.  An ``MT:`` payload (22
alphanumeric characters) fits version 2 at level M.  The matrix is one
bytearray (1 = dark), row after row.
"""

from micromatter.compat import const
from micromatter.errors import MatterError


class QrCodeError(MatterError):
    """Data too long for the supported versions, or an unknown level, version, mask or mode."""


MODE_ALPHANUMERIC = const(2)
MODE_BYTE = const(4)

MAX_VERSION = const(10)

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

# Format-information bits per level, in the order of _BLOCKS' columns.
_LEVELS = "LMQH"
_LEVEL_BITS = (1, 0, 3, 2)

# Per version 1..10 and level L, M, Q, H: (EC codewords per block, blocks in group 1,
# data codewords per group-1 block, blocks in group 2); group-2 blocks have one more data codeword.
_BLOCKS = (
    ((7, 1, 19, 0), (10, 1, 16, 0), (13, 1, 13, 0), (17, 1, 9, 0)),
    ((10, 1, 34, 0), (16, 1, 28, 0), (22, 1, 22, 0), (28, 1, 16, 0)),
    ((15, 1, 55, 0), (26, 1, 44, 0), (18, 2, 17, 0), (22, 2, 13, 0)),
    ((20, 1, 80, 0), (18, 2, 32, 0), (26, 2, 24, 0), (16, 4, 9, 0)),
    ((26, 1, 108, 0), (24, 2, 43, 0), (18, 2, 15, 2), (22, 2, 11, 2)),
    ((18, 2, 68, 0), (16, 4, 27, 0), (24, 4, 19, 0), (28, 4, 15, 0)),
    ((20, 2, 78, 0), (18, 4, 31, 0), (18, 2, 14, 4), (26, 4, 13, 1)),
    ((24, 2, 97, 0), (22, 2, 38, 2), (22, 4, 18, 2), (26, 4, 14, 2)),
    ((30, 2, 116, 0), (22, 3, 36, 2), (20, 4, 16, 4), (24, 4, 12, 4)),
    ((18, 2, 68, 2), (26, 4, 43, 1), (24, 6, 19, 2), (28, 6, 15, 2)),
)
# Alignment-pattern centres (besides 6) per version; version 1 has none.
_ALIGN_LAST = (0, 18, 22, 26, 30, 34, 38, 42, 46, 50)


# --- Reed-Solomon over GF(256), polynomial x^8 + x^4 + x^3 + x^2 + 1 ----------

_EXP = bytearray(512)
_LOG = bytearray(256)


def _init_field():
    x = 1
    for i in range(255):
        _EXP[i] = x
        _LOG[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        _EXP[i] = _EXP[i - 255]


_init_field()


def _generator(degree):
    """Coefficients of prod(x - a^i, i < degree), highest power first, leading 1 dropped."""
    g = bytearray(degree)
    g[degree - 1] = 1
    root = 1
    for _ in range(degree):
        for j in range(degree):
            g[j] = (_EXP[_LOG[g[j]] + _LOG[root]] if g[j] else 0) ^ (g[j + 1] if j + 1 < degree else 0)
        root = _EXP[_LOG[root] + 1]
    return g


def rs_remainder(data, degree):
    """The ``degree`` Reed-Solomon check codewords of ``data`` (QR's generator)."""
    gen = _generator(degree)
    rem = bytearray(degree)
    for byte in data:
        factor = byte ^ rem[0]
        for j in range(degree - 1):
            rem[j] = rem[j + 1]
        rem[degree - 1] = 0
        if factor:
            lf = _LOG[factor]
            for j in range(degree):
                if gen[j]:
                    rem[j] ^= _EXP[_LOG[gen[j]] + lf]
    return rem


# --- the bit stream ------------------------------------------------------------


class _Bits:
    def __init__(self, capacity_bytes):
        self.buf = bytearray(capacity_bytes)
        self.n = 0

    def put(self, value, count):
        for i in range(count - 1, -1, -1):
            if (value >> i) & 1:
                self.buf[self.n >> 3] |= 0x80 >> (self.n & 7)
            self.n += 1


def _data_capacity(version, level):
    ec, b1, d1, b2 = _BLOCKS[version - 1][level]
    return b1 * d1 + b2 * (d1 + 1)


def _payload_bits(version, mode, length):
    count_bits = (9 if version < 10 else 11) if mode == MODE_ALPHANUMERIC else (8 if version < 10 else 16)
    if mode == MODE_ALPHANUMERIC:
        body = 11 * (length // 2) + 6 * (length & 1)
    else:
        body = 8 * length
    return 4 + count_bits + body, count_bits


def _codewords(data, mode, version, level):
    capacity = _data_capacity(version, level)
    bits = _Bits(capacity)
    total, count_bits = _payload_bits(version, mode, len(data))
    bits.put(mode, 4)
    bits.put(len(data), count_bits)
    if mode == MODE_ALPHANUMERIC:
        i = 0
        while i + 1 < len(data):
            bits.put(ALPHANUMERIC.find(chr(data[i])) * 45 + ALPHANUMERIC.find(chr(data[i + 1])), 11)
            i += 2
        if i < len(data):
            bits.put(ALPHANUMERIC.find(chr(data[i])), 6)
    else:
        for b in data:
            bits.put(b, 8)
    bits.put(0, min(4, capacity * 8 - bits.n))  # terminator
    bits.put(0, (8 - bits.n % 8) % 8)
    pad = 0xEC
    while bits.n < capacity * 8:
        bits.put(pad, 8)
        pad ^= 0xEC ^ 0x11
    return bits.buf


def _interleave(data, version, level):
    ec, b1, d1, b2 = _BLOCKS[version - 1][level]
    blocks = []
    checks = []
    pos = 0
    for i in range(b1 + b2):
        n = d1 + (1 if i >= b1 else 0)
        block = data[pos:pos + n]
        pos += n
        blocks.append(block)
        checks.append(rs_remainder(block, ec))
    out = bytearray()
    for i in range(d1 + 1):
        for block in blocks:
            if i < len(block):
                out.append(block[i])
    for i in range(ec):
        for check in checks:
            out.append(check[i])
    return out


# --- the matrix ----------------------------------------------------------------


def _bch(value, data_bits, generator, generator_bits):
    rem = value << (generator_bits - 1)
    for i in range(data_bits + generator_bits - 2, generator_bits - 2, -1):
        if (rem >> i) & 1:
            rem ^= generator << (i - generator_bits + 1)
    return value << (generator_bits - 1) | rem


def format_bits(level, mask):
    """The 15 format-information bits for a level index (L, M, Q, H = 0..3) and a mask."""
    return _bch(_LEVEL_BITS[level] << 3 | mask, 5, 0x537, 11) ^ 0x5412


def version_bits(version):
    """The 18 version-information bits (versions 7 and up)."""
    return _bch(version, 6, 0x1F25, 13)


def _mask_bit(mask, x, y):
    if mask == 0:
        return (x + y) % 2 == 0
    if mask == 1:
        return y % 2 == 0
    if mask == 2:
        return x % 3 == 0
    if mask == 3:
        return (x + y) % 3 == 0
    if mask == 4:
        return (x // 3 + y // 2) % 2 == 0
    if mask == 5:
        return x * y % 2 + x * y % 3 == 0
    if mask == 6:
        return (x * y % 2 + x * y % 3) % 2 == 0
    return ((x + y) % 2 + x * y % 3) % 2 == 0


class QrCode:
    """An encoded symbol: ``size`` x ``size`` modules in ``modules`` (1 = dark), row-major."""

    def __init__(self, version, level, mask, codewords):
        self.version = version
        self.level = _LEVELS[level]
        self.mask = mask
        size = self.size = 17 + 4 * version
        self.modules = bytearray(size * size)
        self._function = bytearray(size * size)
        self._draw_function_patterns(level)
        self._draw_codewords(codewords)
        if mask is None:
            mask = self._best_mask(level)
        self.mask = mask
        self._apply_mask(mask)
        self._draw_format(level, mask)

    def dark(self, x, y):
        """True if the module in column ``x``, row ``y`` is dark."""
        return self.modules[y * self.size + x] == 1

    def _set(self, x, y, dark):
        i = y * self.size + x
        self.modules[i] = 1 if dark else 0
        self._function[i] = 1

    def _draw_function_patterns(self, level):
        size = self.size
        for i in range(size):
            self._set(6, i, i % 2 == 0)
            self._set(i, 6, i % 2 == 0)
        for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x = cx + dx
                    y = cy + dy
                    if 0 <= x < size and 0 <= y < size:
                        d = max(abs(dx), abs(dy))
                        self._set(x, y, d != 2 and d != 4)
        if self.version > 1:
            last = _ALIGN_LAST[self.version - 1]
            count = self.version // 7 + 2
            step = (last - 6) // (count - 1)
            centres = [6] + [last - step * (count - 2 - i) for i in range(count - 1)]
            for cy in centres:
                for cx in centres:
                    if (cx == 6 and cy == 6) or (cx == 6 and cy == last) or (cx == last and cy == 6):
                        continue
                    for dy in range(-2, 3):
                        for dx in range(-2, 3):
                            self._set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
        self._draw_format(level, 0)  # reserve the areas; redrawn once the mask is known
        if self.version >= 7:
            bits = version_bits(self.version)
            for i in range(18):
                bit = (bits >> i) & 1
                a = size - 11 + i % 3
                b = i // 3
                self._set(a, b, bit)
                self._set(b, a, bit)

    def _draw_format(self, level, mask):
        size = self.size
        bits = format_bits(level, mask)
        for i in range(6):
            self._set(8, i, (bits >> i) & 1)
        self._set(8, 7, (bits >> 6) & 1)
        self._set(8, 8, (bits >> 7) & 1)
        self._set(7, 8, (bits >> 8) & 1)
        for i in range(9, 15):
            self._set(14 - i, 8, (bits >> i) & 1)
        for i in range(8):
            self._set(size - 1 - i, 8, (bits >> i) & 1)
        for i in range(8, 15):
            self._set(8, size - 15 + i, (bits >> i) & 1)
        self._set(8, size - 8, 1)

    def _draw_codewords(self, codewords):
        size = self.size
        total = len(codewords) * 8
        i = 0
        right = size - 1
        while right >= 1:
            if right == 6:
                right = 5
            upward = ((right + 1) & 2) == 0
            for vert in range(size):
                y = size - 1 - vert if upward else vert
                for j in range(2):
                    x = right - j
                    k = y * size + x
                    if not self._function[k] and i < total:
                        self.modules[k] = (codewords[i >> 3] >> (7 - (i & 7))) & 1
                        i += 1
            right -= 2

    def _apply_mask(self, mask):
        size = self.size
        for y in range(size):
            row = y * size
            for x in range(size):
                if not self._function[row + x] and _mask_bit(mask, x, y):
                    self.modules[row + x] ^= 1

    def _best_mask(self, level):
        best = None
        best_score = 0
        for mask in range(8):
            self._apply_mask(mask)
            self._draw_format(level, mask)
            score = penalty(self.modules, self.size)
            if best is None or score < best_score:
                best = mask
                best_score = score
            self._apply_mask(mask)  # XOR again: undone
        return best


def penalty(modules, size):
    """The ISO 18004 mask penalty (runs, 2x2 blocks, finder-like patterns, dark balance)."""
    score = 0
    dark = 0
    for line in range(2 * size):
        horizontal = line < size
        fixed = line if horizontal else line - size
        run_colour = 2
        run = 0
        history = 0  # the last 11 modules of this line, newest in bit 0
        for i in range(size):
            k = fixed * size + i if horizontal else i * size + fixed
            c = modules[k]
            if horizontal:
                dark += c
            if c == run_colour:
                run += 1
            else:
                if run >= 5:
                    score += run - 2
                run_colour = c
                run = 1
            history = ((history << 1) | c) & 0x7FF
            if i >= 10 and (history == 0x5D0 or history == 0x05D):
                score += 40
        if run >= 5:
            score += run - 2
    for y in range(size - 1):
        for x in range(size - 1):
            k = y * size + x
            c = modules[k]
            if c == modules[k + 1] and c == modules[k + size] and c == modules[k + size + 1]:
                score += 3
    total = size * size
    # Points for each full 5 % step away from half dark.
    deviation = abs(dark * 20 - total * 10)
    score += 10 * (deviation // total)
    return score


def _choose_mode(data):
    for b in data:
        if ALPHANUMERIC.find(chr(b)) < 0:
            return MODE_BYTE
    return MODE_ALPHANUMERIC


def encode(data, level="M", version=None, mask=None, mode=None):
    """A ``QrCode`` for ``data`` (str or bytes) at ``level`` (L, M, Q, H).

    The smallest version that fits is used unless ``version`` is given; the
    mask with the lowest penalty unless ``mask`` is given; alphanumeric mode
    when every character allows it, else byte mode, unless ``mode`` is given."""
    if isinstance(data, str):
        data = data.encode()
    level_index = _LEVELS.find(level) if isinstance(level, str) and len(level) == 1 else -1
    if level_index < 0:
        raise QrCodeError("unknown error-correction level")
    if mask is not None and mask not in range(8):
        raise QrCodeError("mask must be 0..7")
    if mode is None:
        mode = _choose_mode(data)
    elif mode == MODE_ALPHANUMERIC:
        if _choose_mode(data) != MODE_ALPHANUMERIC:
            raise QrCodeError("data has characters outside the alphanumeric set")
    elif mode != MODE_BYTE:
        raise QrCodeError("unsupported mode")
    if version is not None and version not in range(1, MAX_VERSION + 1):
        raise QrCodeError("version must be 1..10")
    for v in range(1, MAX_VERSION + 1) if version is None else (version,):
        total, count_bits = _payload_bits(v, mode, len(data))
        if len(data) < (1 << count_bits) and total <= _data_capacity(v, level_index) * 8:
            codewords = _interleave(_codewords(data, mode, v, level_index), v, level_index)
            return QrCode(v, level_index, mask, codewords)
    raise QrCodeError("data too long for the supported versions")


# --- terminal rendering ---------------------------------------------------------

_HALF = (" ", "\u2584", "\u2580", "\u2588")  # neither, lower, upper, both


def render(qr, quiet=4, half_blocks=True, ink_dark=False):
    """The symbol as terminal text, with a ``quiet`` zone of light modules around it.

    The characters' ink draws the light modules by default, which suits the
    usual light-on-dark terminal; ``ink_dark=True`` inks the dark modules
    instead (dark-on-light terminals, paper).  Half blocks put two module rows
    in one text line; otherwise each module is ``##`` or two spaces."""
    size = qr.size
    span = size + 2 * quiet

    def ink(x, y):
        x -= quiet
        y -= quiet
        dark = 0 <= x < size and 0 <= y < size and qr.modules[y * size + x] == 1
        return dark == ink_dark

    lines = []
    if half_blocks:
        for y in range(0, span, 2):
            chars = []
            for x in range(span):
                top = ink(x, y)
                bottom = y + 1 < span and ink(x, y + 1)
                chars.append(_HALF[(2 if top else 0) | (1 if bottom else 0)])
            lines.append("".join(chars))
    else:
        for y in range(span):
            lines.append("".join("##" if ink(x, y) else "  " for x in range(span)))
    return "\n".join(lines)
