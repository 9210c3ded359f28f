"""Onboarding payload: QR string, manual pairing code, base-38, Verhoeff.

Vectors are published ones: the connectedhomeip setup-payload test data
(generated and parsed by chip-tool), the well-known test-device codes
(vendor 0xFFF1, discriminator 3840, passcode 20202021) and the classic
Verhoeff examples.
"""

from support import raises

from micromatter import onboarding as ob
from micromatter.errors import OnboardingError

# (qr, manual, passcode, discriminator, vendor, product, flow, capabilities)
PUBLISHED = (
    # The test device printed by connectedhomeip examples on the serial console.
    ("MT:Y.K90AFN00KA0648G00", "34970112332", 20202021, 3840, 0xFFF1, 0x8000, 0, 4),
    ("MT:00000CQM00KA0648G00", "34970112332", 20202021, 3840, 0, 0, 0, 4),
    ("MT:-24J0AFN00KA0648G00", "34970112332", 20202021, 3840, 0xFFF1, 0x8001, 0, 4),
    ("MT:Y.K9042C00KA0648G00", "34970112332", 20202021, 3840, 0xFFF1, 0x8000, 0, 2),
    ("MT:-8VJ0OMV172PX813210", "32140830464", 49910688, 3431, 0x1317, 0x0002, 0, 2),
    ("MT:U9VJ0OMV172PX813210", "32140830464", 49910688, 3431, 4891, 2, 0, 2),
    ("MT:0A.T0RTM00Y0OJ0.510", "00210433428", 54757432, 80, 0x2345, 0x1023, 0, 4),
    ("MT:0A.T0P--00Y0OJ0.510", "402104334209029041311", 54757432, 80, 9029, 4131, 2, 6),
    ("MT:KSNK4SIC13-JPR4UY00", "702871264504387000187", 43338551, 3091, 0x1123, 0x0012, 2, 4),
    ("MT:KSNK4M5113-JPR4UY00", "702871264504387000187", 43338551, 3091, 0x1123, 0x0012, 2, 2),
    ("MT:A3L90ARR15G6N57Y900", "745492075300001000013", 12349876, 3781, 1, 1, 1, 4),
    ("MT:EPX0482F26DAVY09R10", "403732495800069000166", 81235604, 174, 0x45, 0x10, 1, 7),
    ("MT:MZWA6G6026O2XP0II00", "619156140465523329207", 23005908, 2310, 0xFFF3, 0x8098, 2, 4),
)


def _payload(row):
    return ob.SetupPayload(row[2], row[3], vendor_id=row[4], product_id=row[5], flow=row[6], capabilities=row[7])


def test_qr_code_matches_published_strings():
    for row in PUBLISHED:
        assert _payload(row).qr_code() == row[0], row[0]


def test_manual_code_matches_published_codes():
    for row in PUBLISHED:
        p = _payload(row)
        # The 21-digit form is the published one for non-standard flows; the 00210433428 and
        # 402104334209029041311 pair shows one payload in both forms.
        long_form = len(row[1]) == 21
        assert p.manual_code(long_form) == row[1], row[1]


def test_parse_qr_gives_every_field():
    for row in PUBLISHED:
        p = ob.parse_qr(row[0])
        assert (p.passcode, p.discriminator, p.vendor_id, p.product_id, p.flow, p.capabilities) == row[2:]
        assert p.short_discriminator == row[3] >> 8
        assert p.extra == b""
        assert p == _payload(row)


def test_parse_manual_gives_passcode_and_short_discriminator():
    for row in PUBLISHED:
        p = ob.parse_manual(row[1])
        assert p.passcode == row[2]
        assert p.short_discriminator == row[3] >> 8
        assert p.discriminator is None and p.capabilities is None
        if len(row[1]) == 21:
            assert (p.vendor_id, p.product_id, p.flow) == (row[4], row[5], ob.FLOW_CUSTOM)
        else:
            assert (p.vendor_id, p.product_id, p.flow) == (None, None, ob.FLOW_STANDARD)


def test_parse_dispatches_and_accepts_grouped_digits():
    assert ob.parse("MT:Y.K90AFN00KA0648G00").product_id == 0x8000
    assert ob.format_manual_code("34970112332") == "3497-011-2332"
    assert ob.parse("3497-011-2332").passcode == 20202021
    assert ob.parse(" 3497 011 2332 ").short_discriminator == 15
    long_code = "745492075300001000013"
    assert ob.format_manual_code(long_code) == "7454-920-7530-0001-000-013"
    assert ob.parse(ob.format_manual_code(long_code)).vendor_id == 1


def test_short_discriminator_is_top_four_bits():
    for d in (0, 0xFF, 0x100, 0xF00, 0xFFF, 0xA5C):
        p = ob.SetupPayload(20202021, d)
        assert p.short_discriminator == d >> 8
        assert ob.parse_manual(p.manual_code()).short_discriminator == d >> 8


def test_round_trip_extremes():
    for passcode in (1, 2, 99999998, 134217727 >> 1, 20202021):
        for d in (0, 4095):
            for vid, pid in ((0, 0), (0xFFFF, 0xFFFF)):
                for flow in (0, 1, 2):
                    for cap in (0, 4, 0xFF):
                        p = ob.SetupPayload(passcode, d, vid, pid, flow, cap)
                        assert ob.parse_qr(p.qr_code()) == p
                        m = ob.parse_manual(p.manual_code(True))
                        assert (m.passcode, m.short_discriminator, m.vendor_id, m.product_id) == (passcode, d >> 8, vid, pid)
                        assert ob.parse_manual(p.manual_code(False)).passcode == passcode


def test_qr_optional_tlv_bytes_are_carried():
    p = ob.SetupPayload(20202021, 3840, 0xFFF1, 0x8000, extra=b"\x15\x2c\x00\x04abcd\x18")
    text = p.qr_code()
    assert text.startswith("MT:Y.K90AFN00KA0648G00"[:18])  # the first 9 bytes encode alike
    assert ob.parse_qr(text).extra == b"\x15\x2c\x00\x04abcd\x18"


def test_passcode_rules():
    valid = (1, 99999998, 20202021, 11111112, 12345679, 87654320)
    invalid = (0, 99999999, 100000000, -1, 11111111, 22222222, 33333333, 44444444, 55555555, 66666666,
               77777777, 88888888, 12345678, 87654321, "20202021", None)
    for p in valid:
        assert ob.is_valid_passcode(p) and ob.check_passcode(p) == p
    for p in invalid:
        assert not ob.is_valid_passcode(p)
        raises(ob.PasscodeError, ob.check_passcode, p)
        raises(ob.PasscodeError, ob.SetupPayload, p, 3840)


def test_verhoeff_published_examples():
    # Classic examples: 236 -> 3, 12345 -> 1, 123456789012 -> 0; 2363 and 1428570 validate.
    assert ob.verhoeff_check_digit("236") == "3"
    assert ob.verhoeff_check_digit("12345") == "1"
    assert ob.verhoeff_check_digit("123456789012") == "0"
    assert ob.verhoeff_valid("2363") and ob.verhoeff_valid("1428570") and ob.verhoeff_valid("34970112332")
    assert not ob.verhoeff_valid("2364") and not ob.verhoeff_valid("1428750")


def test_verhoeff_catches_single_errors_and_adjacent_swaps():
    base = "3497011233"
    good = base + ob.verhoeff_check_digit(base)
    for i in range(len(good)):
        for d in "0123456789":
            if d != good[i]:
                assert not ob.verhoeff_valid(good[:i] + d + good[i + 1:])
    for i in range(len(good) - 1):
        if good[i] != good[i + 1]:
            assert not ob.verhoeff_valid(good[:i] + good[i + 1] + good[i] + good[i + 2:])


def test_base38_chunking():
    assert ob.base38_encode(b"") == ""
    assert ob.base38_encode(b"\x00") == "00"
    assert ob.base38_encode(b"\xff") == "R6"  # 255 = 27 + 6 * 38, least significant character first
    assert ob.base38_encode(b"\xff\xff\xff") == "PLS18"  # 25 + 21*38 + 28*38^2 + 1*38^3 + 8*38^4
    for n in range(0, 12):
        data = bytes((i * 37 + 11) & 0xFF for i in range(n))
        text = ob.base38_encode(data)
        assert len(text) == (n // 3) * 5 + (0, 2, 4)[n % 3]
        assert ob.base38_decode(text) == data
    raises(ob.CharacterError, ob.base38_decode, "..")  # 1443 does not fit one byte
    raises(ob.LengthError, ob.base38_decode, "000")


def test_rejects_bad_qr_strings():
    good = "MT:Y.K90AFN00KA0648G00"
    raises(ob.PrefixError, ob.parse_qr, "Y.K90AFN00KA0648G00")
    raises(ob.PrefixError, ob.parse_qr, "mt:Y.K90AFN00KA0648G00")
    raises(ob.PrefixError, ob.parse_qr, b"MT:Y.K90AFN00KA0648G00")
    raises(ob.CharacterError, ob.parse_qr, good[:-1] + "a")  # lower case is not base-38
    raises(ob.CharacterError, ob.parse_qr, good[:-1] + "*")
    raises(ob.CharacterError, ob.parse_qr, "MT:.....KA0648G00")  # chunk value above 2^24
    raises(ob.LengthError, ob.parse_qr, good[:-1])  # 18 characters: 3 left over
    raises(ob.LengthError, ob.parse_qr, "MT:")
    raises(ob.LengthError, ob.parse_qr, good[:-4])  # too few bytes
    # Version 1 in the low 3 bits: rebuild the string with that bit set.
    data = bytearray(ob.base38_decode(good[3:]))
    data[0] |= 1
    raises(ob.FieldRangeError, ob.parse_qr, "MT:" + ob.base38_encode(data))
    data[0] &= 0xF8
    data[4] |= 0x18  # flow bits 35-36 = 3 (reserved)
    raises(ob.FieldRangeError, ob.parse_qr, "MT:" + ob.base38_encode(data))
    # A passcode of 0 in an otherwise well-formed payload.
    data = bytearray(ob.base38_decode(good[3:]))
    data[7] &= 0x01
    data[8] = data[9] = 0
    data[10] &= 0xF0
    raises(ob.PasscodeError, ob.parse_qr, "MT:" + ob.base38_encode(data))


def test_rejects_bad_manual_codes():
    raises(ob.CheckDigitError, ob.parse_manual, "34970112333")
    raises(ob.CheckDigitError, ob.parse_manual, "34970112323")  # swapped digits
    raises(ob.CharacterError, ob.parse_manual, "3497O112332")
    raises(ob.LengthError, ob.parse_manual, "3497011233")
    raises(ob.LengthError, ob.parse_manual, "349701123322")
    raises(ob.CharacterError, ob.parse_manual, 34970112332)
    # First digit 8 or 9 is a future version.
    body = "8497011233"
    raises(ob.FieldRangeError, ob.parse_manual, body + ob.verhoeff_check_digit(body))
    # Chunk 2 above 16 bits, chunk 3 above 13 bits.
    body = "0999990001"
    raises(ob.FieldRangeError, ob.parse_manual, body + ob.verhoeff_check_digit(body))
    body = "0000019999"
    raises(ob.FieldRangeError, ob.parse_manual, body + ob.verhoeff_check_digit(body))
    # The long-form flag with 11 digits, and 21 digits without it.
    body = "4497011233"
    raises(ob.LengthError, ob.parse_manual, body + ob.verhoeff_check_digit(body))
    body = "34970112330000100001"
    raises(ob.LengthError, ob.parse_manual, body + ob.verhoeff_check_digit(body))
    body = "74549207539999900001"  # vendor id 99999
    raises(ob.FieldRangeError, ob.parse_manual, body + ob.verhoeff_check_digit(body))
    # Passcode 0 with a valid check digit.
    body = "0000000000"
    raises(ob.PasscodeError, ob.parse_manual, body + ob.verhoeff_check_digit(body))


def test_rejects_out_of_range_fields():
    raises(ob.FieldRangeError, ob.SetupPayload, 20202021, 4096)
    raises(ob.FieldRangeError, ob.SetupPayload, 20202021, -1)
    raises(ob.FieldRangeError, ob.SetupPayload, 20202021, 3840, 0x10000)
    raises(ob.FieldRangeError, ob.SetupPayload, 20202021, 3840, 0, 0x10000)
    raises(ob.FieldRangeError, ob.SetupPayload, 20202021, 3840, 0, 0, 3)
    raises(ob.FieldRangeError, ob.SetupPayload, 20202021, 3840, 0, 0, 0, 0x100)
    raises(ob.FieldRangeError, ob.SetupPayload, 20202021)  # no discriminator at all
    raises(ob.FieldRangeError, ob.SetupPayload, 20202021, 3840, short_discriminator=14)
    manual_only = ob.parse_manual("34970112332")
    raises(ob.FieldRangeError, manual_only.qr_code)
    raises(ob.FieldRangeError, manual_only.manual_code, True)
    assert manual_only.manual_code() == "34970112332"
    # Every error is an OnboardingError.
    raises(OnboardingError, ob.parse, "MT:!")
    raises(OnboardingError, ob.parse, "")
