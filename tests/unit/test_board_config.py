"""The ESP32 board package on both runtimes: the board configuration's JSON form and its strict loader, the
DeviceConfig it makes, and the provisioned attestation record (installed from a file into littlefs-like VFS
storage and into NVS through the stand-in, loaded back, refused when torn or for another product)."""

import json
import os
import sys

from micromatter import onboarding
from micromatter.commissioning.attestation import AttestationMaterialError
from micromatter.commissioning.config import ConfigError, DeviceConfig
from micromatter.crypto import spake2p
from micromatter.storage import MemoryStorage
from micromatter_mp.storage import NvsStorage, VfsStorage
from support import port, raises

# The helpers below come from other test modules, imported where they are used: this module runs first under
# tools/mptest.py (one process, one heap for every module), so it keeps what it loads early to a minimum.


def _board_path():
    here = __file__.replace("\\", "/")
    root = here.rsplit("/", 3)[0] if here.count("/") >= 3 else "."
    for candidate in ("boards/esp32", root + "/boards/esp32"):
        try:
            os.stat(candidate + "/micromatter_board/config.py")
            return candidate
        except OSError:
            pass
    raise OSError("boards/esp32 not found")


if _board_path() not in sys.path:
    sys.path.append(_board_path())

from micromatter_board import attestation as board_attestation  # noqa: E402
from micromatter_board.config import BoardConfig, BoardConfigError, load  # noqa: E402

PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"
_cache = {}


def scratch_dir():
    from test_storage_backends import scratch_dir

    return scratch_dir()


def remove_tree(path):
    from test_storage_backends import remove_tree

    remove_tree(path)


def attestation_material():
    """Fresh development material for vendor 0xFFF1 product 0x8000 (public test PAA and CD key); not kept
    between tests, so nothing of it stays in the heap the later modules run in."""
    from certs_vectors import credential
    from micromatter.commissioning.attestation import DevelopmentAuthority, make

    authority = DevelopmentAuthority.from_pem(credential("test-paa-fff1-cert.pem"),
                                              credential("test-paa-fff1-key.pem"),
                                              credential("test-cd-signing-key.pem"))
    return make(port().crypto, authority, 0xFFF1, 0x8000, 0x0100)


def verifier():
    if "v" not in _cache:
        _cache["v"] = spake2p.PasscodeVerifier.from_passcode(port().crypto, PASSCODE, SALT, 1000).encode()
    return _cache["v"]


def label(discriminator=3840, vendor_id=0xFFF1, product_id=0x8000):
    p = onboarding.SetupPayload(PASSCODE, discriminator, vendor_id, product_id)
    return {"qr_code": p.qr_code(), "manual_code": p.manual_code()}


def valid():
    """A board configuration as tools/provision writes it (a fresh dict each call)."""
    c = BoardConfig("home", "secret", 3840, 0xFFF1, 0x8000, verifier(), SALT, 1000, 2, False, "/mm", 5540,
                    "mm-light", label()["qr_code"], label()["manual_code"])
    return json.loads(c.to_json())


def test_round_trip_through_json():
    c = BoardConfig.from_json(json.dumps(valid()))
    assert (c.ssid, c.password, c.discriminator, c.vendor_id, c.product_id) == ("home", "secret", 3840, 0xFFF1, 0x8000)
    assert c.verifier == verifier() and c.salt == SALT and c.iterations == 1000
    assert (c.light_pin, c.light_active_low, c.storage, c.port, c.hostname) == (2, False, "/mm", 5540, "mm-light")
    assert c.qr_code == label()["qr_code"] and c.manual_code == label()["manual_code"]
    assert json.loads(c.to_json()) == valid()


def test_optional_parts_take_their_defaults():
    d = valid()
    for key in ("light", "label", "storage", "port", "hostname"):
        del d[key]
    del d["wifi"]["password"]
    c = BoardConfig.from_dict(d)
    assert c.light_pin is None and c.qr_code is None and c.manual_code is None and c.hostname is None
    assert (c.storage, c.port, c.password) == ("/mm", 5540, "")
    assert "light" not in c.to_dict() and "label" not in c.to_dict()


def test_device_config_keeps_the_verifier_and_the_identity():
    c = BoardConfig.from_dict(valid())
    dc = c.device_config(None, host=b"\x02\x00\x00\x00\x00\x05", ipv4=("10.0.0.5",))
    assert isinstance(dc, DeviceConfig)
    assert dc.verifier.encode() == verifier() and dc.salt == SALT and dc.iterations == 1000
    assert (dc.discriminator, dc.vendor_id, dc.product_id, dc.port) == (3840, 0xFFF1, 0x8000, 5540)
    assert dc.wifi_ssid == b"home" and dc.host == b"\x02\x00\x00\x00\x00\x05" and dc.ipv4 == ("10.0.0.5",)
    assert dc.qr_code == label()["qr_code"]
    # What the board advertises can be commissioned with the passcode on its label.
    assert onboarding.parse(dc.manual_code).passcode == PASSCODE


def _bad(edit):
    d = valid()
    edit(d)
    return raises(BoardConfigError, BoardConfig.from_dict, d)


def _set(path, value):
    def edit(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


def _drop(path):
    def edit(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return edit


def test_rejects_every_malformed_field():
    cases = [
        _set(("surprise",), 1),                       # unknown key (a typo must not pass silently)
        _set(("wifi", "pasword"), "x"),
        _drop(("wifi",)), _drop(("pase",)), _drop(("discriminator",)), _drop(("wifi", "ssid")),
        _drop(("pase", "salt")),
        _set(("format",), 2),
        _set(("wifi",), "home"),
        _set(("wifi", "ssid"), ""), _set(("wifi", "ssid"), "x" * 33), _set(("wifi", "password"), "x" * 65),
        _set(("discriminator",), 4096), _set(("discriminator",), -1), _set(("discriminator",), True),
        _set(("discriminator",), "3840"),
        _set(("vendor_id",), 0), _set(("vendor_id",), 0xFFF5), _set(("product_id",), 0x10000),
        _set(("pase", "verifier"), "not base64!"), _set(("pase", "verifier"), "AAAA"),
        _set(("pase", "salt"), "AAAAAAAAAAAAAAAAAAAA"),  # 15 bytes
        _set(("pase", "iterations"), 999), _set(("pase", "iterations"), 100001),
        _set(("light",), {"active_low": True}), _set(("light", "pin"), 49), _set(("light", "active_low"), 1),
        _set(("storage",), "mm"), _set(("storage",), "/"), _set(("storage",), "/a.b"),
        _set(("storage",), "nvs:matter"), _set(("storage",), "nvs:"), _set(("storage",), "nvs:m1"),
        _set(("port",), 0), _set(("port",), 65536), _set(("hostname",), ""),
        _set(("label",), label(discriminator=3841)), _set(("label",), label(vendor_id=0xFFF2)),
        _set(("label", "manual_code"), "34970112331"),   # check digit
        _set(("label", "qr_code"), "MT:nonsense"), _drop(("label", "manual_code")),
    ]
    for edit in cases:
        e = _bad(edit)
        assert isinstance(e, ConfigError)


def test_a_verifier_off_the_curve_is_refused():
    d = valid()
    bad = bytearray(verifier())
    bad[-1] ^= 1  # L no longer on P-256
    import binascii

    d["pase"]["verifier"] = binascii.b2a_base64(bytes(bad)).decode().strip()
    raises(BoardConfigError, BoardConfig.from_dict, d)


def test_label_of_another_passcode_is_refused():
    d = valid()
    other = onboarding.SetupPayload(PASSCODE + 1, 3840, 0xFFF1, 0x8000)
    d["label"]["manual_code"] = other.manual_code()
    raises(BoardConfigError, BoardConfig.from_dict, d)


def test_from_json_refuses_what_is_not_a_config():
    for text in ("", "{", "[]", "null", "{\"format\": 1}", " " * 3000):
        raises(BoardConfigError, BoardConfig.from_json, text)


def test_load_reads_a_file_and_reports_a_missing_one():
    d = scratch_dir()
    try:
        with open(d + "/micromatter.json", "w") as f:
            f.write(json.dumps(valid()))
        assert load(d + "/micromatter.json").verifier == verifier()
        raises(BoardConfigError, load, d + "/nothing.json")
    finally:
        remove_tree(d)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def test_attestation_record_installs_into_vfs_storage_once():
    crypto = port().crypto
    material = attestation_material()
    d = scratch_dir()
    try:
        storage = VfsStorage(d + "/mm")
        raises(AttestationMaterialError, board_attestation.load, crypto, storage, 0xFFF1, 0x8000)
        assert board_attestation.install(storage, d + "/micromatter.att") is False  # nothing to install
        _write(d + "/micromatter.att", board_attestation.record(material))
        assert board_attestation.install(storage, d + "/micromatter.att") is True
        assert not _exists(d + "/micromatter.att")  # one copy remains: in storage
        assert _exists(d + "/mm/att.d/att")  # where the node keeps a development device's material
        loaded = board_attestation.load(crypto, VfsStorage(d + "/mm"), 0xFFF1, 0x8000)
        assert (loaded.dac, loaded.pai, loaded.cd, loaded.dac_private_key) == (
            material.dac, material.pai, material.cd, material.dac_private_key)
        raises(AttestationMaterialError, board_attestation.load, crypto, storage, 0xFFF1, 0x8001)
    finally:
        remove_tree(d)


def test_attestation_record_installs_into_nvs():
    from flashsim import FakeNvsFlash

    crypto = port().crypto
    material = attestation_material()
    flash = FakeNvsFlash()
    d = scratch_dir()
    try:
        _write(d + "/micromatter.att", board_attestation.record(material))
        storage = NvsStorage("mm", nvs_class=flash.nvs_class())
        assert board_attestation.install(storage, d + "/micromatter.att")
        assert "mm.att" in flash.namespaces
        again = NvsStorage("mm", nvs_class=flash.nvs_class())
        assert board_attestation.load(crypto, again, 0xFFF1, 0x8000).dac == material.dac
    finally:
        remove_tree(d)


def test_a_torn_or_foreign_record_is_refused_and_left_in_place():
    material = attestation_material()
    record = board_attestation.record(material)
    d = scratch_dir()
    try:
        for data in (record[:-1], record[:1] + b"\x00" + record[2:], b"\x02" + record[1:], b"", b"x" * 5000):
            _write(d + "/micromatter.att", data)
            storage = MemoryStorage()
            raises(AttestationMaterialError, board_attestation.install, storage, d + "/micromatter.att")
            assert _exists(d + "/micromatter.att") and storage.context("att").get("att") is None
        raises(AttestationMaterialError, board_attestation.parse, record[:-4] + b"\x00\x00\x00\x00")
    finally:
        remove_tree(d)
