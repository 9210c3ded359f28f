"""QR encoder checked by independent tools (CPython only).

- zxing-cpp (a real decoder) reads the terminal text the renderer prints, turned back into pixels;
- the pure-Python ``qrcode`` package draws the same matrix bit for bit for every version, level and mask,
  and scores masks with the same penalty;
- the unix MicroPython port draws the same matrix as CPython.
"""

import os
import subprocess
import sys

import pytest
import qrcode  # the PyPI package (pinned in requirements.txt), not micromatter.qrcode
import zxingcpp
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData, lost_point

from micromatter import onboarding
from micromatter import qrcode as mq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEVELS = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
          "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
PAYLOADS = (
    onboarding.SetupPayload(20202021, 3840, 0xFFF1, 0x8000).qr_code(),
    onboarding.SetupPayload(99999998, 4095, 0xFFFF, 0xFFFF, onboarding.FLOW_CUSTOM, 0xFF).qr_code(),
    onboarding.SetupPayload(1, 0, 0, 0, capabilities=0, extra=bytes(range(20))).qr_code(),
)


def _text_to_image(text, half, scale=3):
    """Grey pixels of rendered text: ink is white (a light-on-dark terminal) unless inverted later."""
    rows = []
    for line in text.split("\n"):
        if half:
            rows.append([ch in "\u2580\u2588" for ch in line])
            rows.append([ch in "\u2584\u2588" for ch in line])
        else:
            rows.append([line[i:i + 2] == "##" for i in range(0, len(line), 2)])
    height, width = len(rows) * scale, len(rows[0]) * scale
    img = bytearray(width * height)
    for y, row in enumerate(rows):
        for x, ink in enumerate(row):
            if ink:
                for dy in range(scale):
                    start = (y * scale + dy) * width + x * scale
                    img[start:start + scale] = b"\xff" * scale
    return memoryview(img).cast("B", (height, width)), img, width, height


def _decode(text, half, ink_dark):
    view, img, width, height = _text_to_image(text, half)
    if ink_dark:  # ink is dark on a light page
        for i in range(len(img)):
            img[i] ^= 0xFF
    return zxingcpp.read_barcodes(view, formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("level", "LMQH")
def test_zxing_reads_the_terminal_rendering(payload, level):
    sym = mq.encode(payload, level)
    for half in (True, False):
        for ink_dark in (False, True):
            found = _decode(mq.render(sym, quiet=2, half_blocks=half, ink_dark=ink_dark), half, ink_dark)
            assert len(found) == 1
            assert found[0].text == payload
            assert found[0].ec_level == level
            # The payload parses back to the device's fields.
            assert onboarding.parse_qr(found[0].text).qr_code() == payload


def test_zxing_reads_byte_mode_and_large_versions():
    for data in ("hello, micromatter", "x" * 150, "MT:" + "A" * 200):
        sym = mq.encode(data, "L")
        found = _decode(mq.render(sym, quiet=4, half_blocks=True, ink_dark=True), True, True)
        assert [b.text for b in found] == [data]
    assert mq.encode("x" * 150, "L").version >= 7


def test_rendering_with_the_wrong_polarity_is_not_read():
    # Guards the polarity logic: ink on the light modules read as dark ink is a negative image.
    sym = mq.encode(PAYLOADS[0], "M")
    assert _decode(mq.render(sym, quiet=2, ink_dark=False), True, True) == []


def _reference_matrix(data, level, version, mask):
    mode = MODE_ALPHA_NUM if mq._choose_mode(data.encode() if isinstance(data, str) else data) == 2 else MODE_8BIT_BYTE
    q = qrcode.QRCode(version=version, error_correction=LEVELS[level], border=0, mask_pattern=mask)
    q.add_data(QRData(data, mode=mode))
    q.make(fit=False)
    return q.get_matrix()


def test_bit_for_bit_equal_to_the_qrcode_package():
    compared = 0
    for data in (PAYLOADS[0], b"\x00binary\xff payload " * 4):
        for level in "LMQH":
            for version in range(1, mq.MAX_VERSION + 1):
                for mask in range(8):
                    try:
                        ours = mq.encode(data, level, version, mask)
                    except mq.QrCodeError:
                        continue  # does not fit this version
                    ref = _reference_matrix(data, level, version, mask)
                    assert len(ref) == ours.size
                    for y in range(ours.size):
                        assert [ours.dark(x, y) for x in range(ours.size)] == [bool(v) for v in ref[y]]
                    compared += 1
    assert compared > 400


def test_penalty_equals_the_qrcode_package_score():
    for data in PAYLOADS + ("HELLO WORLD",):
        for level in "LH":
            for mask in range(8):
                sym = mq.encode(data, level, None, mask)
                matrix = [[sym.dark(x, y) for x in range(sym.size)] for y in range(sym.size)]
                assert mq.penalty(sym.modules, sym.size) == lost_point(matrix)


def test_micropython_draws_the_same_matrix():
    micropython = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(micropython):
        pytest.skip("no micropython next to the interpreter")
    script = (
        "import sys\nsys.path[:] = ['shared']\nfrom micromatter import qrcode\nimport binascii\n"
        "for d in %r:\n    s = qrcode.encode(d, 'M')\n    print(s.version, s.mask, binascii.hexlify(s.modules).decode())\n"
        % (PAYLOADS,)
    )
    out = subprocess.run([micropython, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    for i, payload in enumerate(PAYLOADS):
        sym = mq.encode(payload, "M")
        assert lines[3 * i:3 * i + 3] == [str(sym.version), str(sym.mask), sym.modules.hex()]
