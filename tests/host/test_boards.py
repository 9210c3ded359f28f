"""The ESP32 board support, on the host: the firmware manifest against the tree, ``tools/deploy --dry-run`` for
each chip, ``tools/provision`` (its verifier against ``crypto.spake2p``, refused passcodes, the attestation
record as a commissioner checks it), the board's config loader and light under the unix MicroPython port,
``tools/build`` for the board architectures, and ``boards/esp32/main.py`` itself on an emulated board (stand-in
``network`` and ``machine`` modules) commissioned over UDP by our commissioner inside a network namespace.

Not verified here (no hardware): real Wi-Fi, real flash, the ESP32's lwIP sockets and mDNS, a frozen build.
"""

import ast
import base64
import json
import os
import pathlib
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from micromatter import onboarding
from micromatter.certs import attestation as dac_certs
from micromatter.certs import cd as cd_codec
from micromatter.certs import keys, pem
from micromatter.crypto import spake2p
from micromatter_cpython.port import Port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "boards", "esp32"))

from micromatter_board import attestation as board_attestation  # noqa: E402
from micromatter_board.config import BoardConfig  # noqa: E402

PYTHON = sys.executable
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
BOARD = os.path.join(ROOT, "boards", "esp32")
PACKAGES = (("shared", "micromatter"), ("mp", "micromatter_mp"), (os.path.join("boards", "esp32"), "micromatter_board"))
CHIPS = {"esp32": "xtensawin", "esp32s3": "xtensawin", "esp32c3": "rv32imc"}
PASSCODE = 20202021
CREDENTIALS = os.path.join(ROOT, "tools", "credentials")


def tree(base, package):
    """Module paths of a package as the firmware sees them (``micromatter/crypto/p256.py``)."""
    out = set()
    top = os.path.join(ROOT, base)
    for dirpath, dirnames, filenames in os.walk(os.path.join(top, package)):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if name.endswith(".py"):
                out.add(os.path.relpath(os.path.join(dirpath, name), top).replace(os.sep, "/"))
    return out


def tool(name, *args, check=True):
    result = subprocess.run([PYTHON, os.path.join("tools", name)] + [str(a) for a in args], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


# --- the manifest ------------------------------------------------------------------------------------------


class ManifestReader:
    """Evaluates a manifest.py with the documented API (``include``, ``package``, ``module``, ``freeze``,
    ``require``, ``metadata``): relative paths from the manifest's directory, ``package`` walking every .py
    below ``base_path/package`` as the firmware build does.  ``frozen``: target path -> source file."""

    def __init__(self):
        self.frozen = {}
        self.includes = []
        self.options = {}

    def run(self, path):
        here = os.path.dirname(os.path.abspath(path))

        def resolve(p):
            return p if p.startswith("$(") else os.path.normpath(os.path.join(here, p))

        def add(target, source, opt):
            assert target not in self.frozen, "frozen twice: " + target
            assert os.path.isfile(source), source
            self.frozen[target] = source
            self.options[target] = opt

        def package(name, files=None, base_path=".", opt=None):
            base = resolve(base_path)
            if files is not None:
                for f in files:
                    add(name + "/" + f, os.path.join(base, name, f), opt)
                return
            for dirpath, _, filenames in os.walk(os.path.join(base, name)):
                for f in filenames:
                    if f.endswith(".py"):
                        full = os.path.join(dirpath, f)
                        add(os.path.relpath(full, base).replace(os.sep, "/"), full, opt)

        def module(name, base_path=".", opt=None):
            add(name, os.path.join(resolve(base_path), name), opt)

        def unsupported(*args, **kwargs):
            raise AssertionError("the manifest uses an API this test does not model")

        api = {"include": lambda p, **kw: self.includes.append(resolve(p)), "package": package, "module": module,
               "freeze": unsupported, "require": unsupported, "metadata": lambda **kw: None}
        with open(path) as f:
            exec(compile(f.read(), path, "exec"), api)
        return self


def test_manifest_freezes_every_module_of_the_three_packages_and_nothing_else():
    m = ManifestReader().run(os.path.join(BOARD, "manifest.py"))
    expected = set()
    for base, package in PACKAGES:
        expected |= tree(base, package)
    assert len(expected) > 100
    assert set(m.frozen) == expected, (sorted(expected - set(m.frozen)), sorted(set(m.frozen) - expected))
    for target, source in m.frozen.items():  # each from the file of that name in the tree
        assert source.replace(os.sep, "/").endswith(target)
    # the port's own frozen modules (asyncio among them) stay in: the light needs asyncio
    assert m.includes == ["$(PORT_DIR)/boards/manifest.py"]
    assert set(m.options.values()) == {1}  # as tools/build compiles (-O1: asserts kept, docstrings dropped)
    assert "main.py" not in m.frozen  # main.py stays on the filesystem, next to its config


# --- tools/deploy ------------------------------------------------------------------------------------------


def dry_run(*args):
    out = tool("deploy", "--dry-run", *args).stdout.splitlines()
    copies = [line[5:].split(" -> ") for line in out if line.startswith("copy ")]
    runs = [shlex.split(line[5:]) for line in out if line.startswith("run: ")]
    builds = [line[7:] for line in out if line.startswith("build: ")]
    return out, copies, runs, builds


@pytest.mark.parametrize("chip", sorted(CHIPS))
def test_deploy_dry_run_lists_every_step_for_each_chip(chip, tmp_path):
    arch = CHIPS[chip]
    for name in ("micromatter.json", "micromatter.att"):
        (tmp_path / name).write_text("x")
    out, copies, runs, builds = dry_run("--chip", chip, "--port", "/dev/ttyUSB0", "--config", str(tmp_path))
    assert out[0] == "deploy: chip %s, arch %s, port /dev/ttyUSB0, library as .mpy" % (chip, arch)
    assert len(builds) == 2
    assert builds[0].endswith("tools/build " + arch) and builds[1].endswith("tools/deploy --compile-board " + arch)
    expected = {}
    for base, package in PACKAGES:
        out_dir = "build/board-" + arch if package == "micromatter_board" else "build/" + arch
        for rel in tree(base, package):
            expected[out_dir + "/" + rel[:-3] + ".mpy"] = ":lib/" + rel[:-3] + ".mpy"
    expected["boards/esp32/main.py"] = ":main.py"
    expected[str(tmp_path / "micromatter.json")] = ":micromatter.json"
    expected[str(tmp_path / "micromatter.att")] = ":micromatter.att"
    assert dict((a.replace(os.sep, "/") if not a.startswith(str(tmp_path)) else a, b) for a, b in copies) == expected
    assert len(copies) == len(expected)
    (argv,) = runs
    assert argv[0].endswith("mpremote") and argv[1:3] == ["connect", "/dev/ttyUSB0"]
    steps = " ".join(argv[3:]).split(" + ")
    assert steps[0].startswith("exec ") and "mkdir" in steps[0]
    assert steps[1] == "fs cp -r build/%s/micromatter build/%s/micromatter_mp build/board-%s/micromatter_board :lib" % (
        arch, arch, arch)
    assert steps[2:] == ["fs cp boards/esp32/main.py :main.py",
                         "fs cp %s :micromatter.json" % (tmp_path / "micromatter.json"),
                         "fs cp %s :micromatter.att" % (tmp_path / "micromatter.att"), "reset"]


def test_deploy_dry_run_for_frozen_firmware_copies_no_library():
    out, copies, runs, builds = dry_run("--arch", "rv32imc", "--frozen", "--no-reset")
    assert builds == [] and copies == [["boards/esp32/main.py", ":main.py"]]
    assert " ".join(runs[0][3:]) == "fs cp boards/esp32/main.py :main.py"


def test_deploy_refuses_a_missing_target_or_config(tmp_path):
    r = tool("deploy", "--dry-run", check=False)
    assert r.returncode == 2 and "--chip or --arch" in r.stderr
    r = tool("deploy", "--dry-run", "--chip", "esp32", "--config", str(tmp_path), check=False)
    assert r.returncode == 2 and "micromatter.json" in r.stderr
    r = tool("deploy", "--dry-run", "--chip", "esp8266", check=False)
    assert r.returncode == 2


def test_build_for_the_board_architectures_reports_sizes(tmp_path):
    lines = [json.loads(x) for x in tool("build", "xtensawin", "rv32imc").stdout.splitlines()]
    count = len(tree("shared", "micromatter") | tree("mp", "micromatter_mp"))
    assert [(x["arch"], x["files"]) for x in lines] == [("xtensawin", count), ("rv32imc", count)]
    for x in lines:
        assert x["name"] == "mpy_size" and x["unit"] == "B" and 100000 < x["value"] < 2000000
        total = 0
        for base, package in PACKAGES[:2]:
            for rel in tree(base, package):
                path = os.path.join(ROOT, "build", x["arch"], rel[:-3] + ".mpy")
                with open(path, "rb") as f:
                    header = f.read(4)
                assert header[0] == ord("M") and header[1] == 6  # .mpy format v6, as mpy-cross 1.29 writes it
                total += os.path.getsize(path)
        assert total == x["value"]
    for arch in ("xtensawin", "rv32imc"):
        r = tool("deploy", "--compile-board", arch)
        assert "compiled %d board modules for %s" % (len(tree(PACKAGES[2][0], "micromatter_board")), arch) in r.stdout
        for rel in tree(PACKAGES[2][0], "micromatter_board"):
            assert os.path.isfile(os.path.join(ROOT, "build", "board-" + arch, rel[:-3] + ".mpy"))


# --- tools/provision ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory):
    d = tmp_path_factory.mktemp("provision")
    r = tool("provision", d, "--ssid", "lab", "--password", "pw", "--passcode", PASSCODE, "--discriminator", 3840,
             "--light-pin", 2, "--storage", "/mm", "--json")
    return d, json.loads(r.stdout)


def test_provision_writes_a_config_whose_verifier_is_the_passcodes(provisioned):
    d, facts = provisioned
    crypto = Port().crypto
    assert facts["passcode"] == "%08d" % PASSCODE and facts["discriminator"] == 3840
    with open(d / "micromatter.json") as f:
        raw = json.load(f)
    assert "passcode" not in json.dumps(raw) and str(PASSCODE) not in json.dumps(raw)
    board = BoardConfig.from_dict(raw)
    salt = base64.b64decode(raw["pase"]["salt"])
    assert len(salt) == 32 and raw["pase"]["iterations"] == 1000
    expected = spake2p.PasscodeVerifier.from_passcode(crypto, PASSCODE, salt, 1000).encode()
    assert board.verifier == expected == base64.b64decode(raw["pase"]["verifier"])
    # the verifier really is the passcode's: a PASE prover with it is confirmed by a verifier from the config
    w0, w1 = spake2p.compute_w0_w1(crypto, PASSCODE, salt, 1000)
    prover = spake2p.Prover(crypto, b"ctx", w0, w1)
    stored = spake2p.PasscodeVerifier.decode(board.verifier)
    verifier = spake2p.Verifier(crypto, b"ctx", stored.w0, stored.L)
    Y, cB = verifier.respond(prover.X)
    assert verifier.confirm(prover.finish(Y, cB)) == prover.ke
    for code in (facts["qr_code"], facts["manual_code"]):
        assert onboarding.parse(code).passcode == PASSCODE
    assert onboarding.parse_qr(facts["qr_code"]).discriminator == 3840
    assert (board.qr_code, board.manual_code) == (facts["qr_code"], facts["manual_code"])
    assert (board.ssid, board.password, board.light_pin, board.storage) == ("lab", "pw", 2, "/mm")
    for name in ("micromatter.json", "micromatter.att"):  # Wi-Fi password, DAC key
        assert stat.S_IMODE(os.stat(d / name).st_mode) == 0o600


def test_provision_attestation_record_passes_a_commissioners_checks(provisioned):
    d, facts = provisioned
    crypto = Port().crypto
    material = board_attestation.parse((d / "micromatter.att").read_bytes())
    material.check(crypto, 0xFFF1, 0x8000)
    with open(os.path.join(CREDENTIALS, "test-paa-fff1-cert.pem")) as f:
        paa = pem.decode(f.read(), "CERTIFICATE")
    dac_certs.validate_chain(crypto, material.dac, material.pai, paa)
    with open(os.path.join(CREDENTIALS, "test-cd-signing-key.pem")) as f:
        cd_key = keys.parse_private_key_pem(f.read())[0]
    assert cd_codec.verify(crypto, material.cd, crypto.p256_public_key(cd_key)).covers(0xFFF1, 0x8000)
    assert material.dac_public_key.hex() == facts["dac_public_key"]
    assert b"PRIVATE" not in (d / "micromatter.att").read_bytes()  # no PAA key, no PEM: the record only


@pytest.mark.parametrize("passcode", ["00000000", "11111111", "33333333", "99999999", "12345678", "87654321",
                                      "99999999", "100000000", "1234567a", "-1"])
def test_provision_refuses_invalid_passcodes(passcode, tmp_path):
    r = tool("provision", tmp_path / "out", "--ssid", "lab", "--passcode", passcode, check=False)
    assert r.returncode == 2 and "refused passcode" in r.stderr
    assert not (tmp_path / "out").exists()


def test_provision_without_label_and_from_existing_material(tmp_path):
    tool("make_attestation.py", tmp_path / "att", "--vendor-id", 0xFFF1, "--product-id", 0x8001)
    r = tool("provision", tmp_path / "out", "--ssid", "lab", "--passcode", 34567890, "--discriminator", 100,
             "--product-id", 0x8001, "--no-label", "--attestation", tmp_path / "att", "--storage", "nvs:mm",
             "--json")
    facts = json.loads(r.stdout)
    raw = json.loads((tmp_path / "out" / "micromatter.json").read_text())
    assert "label" not in raw and raw["storage"] == "nvs:mm" and raw["product_id"] == 0x8001
    assert "light" not in raw
    material = board_attestation.parse((tmp_path / "out" / "micromatter.att").read_bytes())
    assert material.dac == (tmp_path / "att" / "dac.der").read_bytes()
    assert onboarding.parse(facts["manual_code"]).passcode == 34567890
    # material for another product is refused
    r = tool("provision", tmp_path / "out2", "--ssid", "lab", "--passcode", 34567890, "--attestation",
             tmp_path / "att", check=False)
    assert r.returncode == 2 and "AttestationMaterialError" in r.stderr


def test_provision_prints_the_label_for_people(tmp_path):
    out = tool("provision", tmp_path, "--ssid", "lab", "--passcode", PASSCODE, "--discriminator", 3840).stdout
    assert "QR code payload:     MT:Y.K90AFN00KA0648G00" in out
    assert "Manual pairing code: 3497-011-2332" in out and "Passcode:            20202021" in out


# --- the board's code under the unix MicroPython port ---------------------------------------------------------

LOADER = """
import sys, json
sys.path[:] = [p for p in sys.path if p == ".frozen"] + %r
from micromatter_board.config import load
c = load(%r)
print(json.dumps({"dict": c.to_dict(), "verifier": c.verifier.hex(), "salt": c.salt.hex()}))
"""


@pytest.mark.parametrize("lib", [["shared", "mp", "boards/esp32"], ["build/x64", "build/board-x64"]])
def test_config_is_read_back_by_the_boards_loader_under_micropython(provisioned, lib, tmp_path):
    d, facts = provisioned
    if lib[0] == "build/x64":
        tool("build", "x64")
        tool("deploy", "--compile-board", "x64")
    script = tmp_path / "load.py"
    script.write_text(LOADER % (lib, str(d / "micromatter.json")))
    r = subprocess.run(["timeout", "60", MICROPYTHON, str(script)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    cpython = BoardConfig.from_dict(json.loads((d / "micromatter.json").read_text()))
    assert got["dict"] == cpython.to_dict()
    assert got["verifier"] == cpython.verifier.hex() and got["salt"] == cpython.salt.hex()


BOOT_IMPORTS = """
import sys
sys.path[:] = [p for p in sys.path if p == ".frozen"] + ["shared", "mp", "boards/esp32"]
import micromatter.runtime
from micromatter_board import attestation
from micromatter_mp.port import Port
with open(%r, "rb") as f:
    material = attestation.parse(f.read())
material.check(Port().crypto, 0xFFF1, 0x8000)
print(sorted(k for k in sys.modules if k.startswith("micromatter")))
"""
# What a board's boot never needs: the Linux /proc parser, the QR encoder (the label has the code), the key-file
# and PEM parsers (its DAC key comes from its storage) and the CMS parser (its CD was checked by tools/provision).
NOT_ON_A_BOARD = ("micromatter.ifaddrs", "micromatter.qrcode", "micromatter.certs.keys", "micromatter.certs.pem",
                  "micromatter.certs.cd")


def test_a_boards_boot_path_imports_nothing_it_does_not_use(provisioned, tmp_path):
    d, facts = provisioned
    script = tmp_path / "boot_imports.py"
    script.write_text(BOOT_IMPORTS % str(d / "micromatter.att"))
    r = subprocess.run(["timeout", "60", MICROPYTHON, str(script)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    loaded = ast.literal_eval(r.stdout)
    assert "micromatter.runtime" in loaded and "micromatter.commissioning.attestation" in loaded
    assert [m for m in NOT_ON_A_BOARD if m in loaded] == []


LIGHT = """
import sys, asyncio, time
sys.path[:] = [p for p in sys.path if p == ".frozen"] + ["shared", "mp", "boards/esp32"]
from micromatter_board import light as lightmod
levels = []
class Pin:
    OUT = 1
    def __init__(self, n, mode):
        self.n = n
    def value(self, v):
        levels.append((time.ticks_ms(), v))
async def main():
    l = lightmod.Light(5, True, Pin)
    l.on_event({"event": "onoff", "value": True})
    l.on_event({"event": "window"})
    l.on_event({"event": "identify", "seconds": 2})
    await asyncio.sleep_ms(2600)
    l.on_event({"event": "onoff", "value": False})
asyncio.run(main())
t0 = levels[0][0]
print([(round((t - t0) / 100), v) for t, v in levels])
"""


def test_light_follows_on_off_and_blinks_for_identify_under_micropython(tmp_path):
    script = tmp_path / "light.py"
    script.write_text(LIGHT)
    r = subprocess.run(["timeout", "30", MICROPYTHON, str(script)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    levels = eval(r.stdout.strip())  # noqa: S307 (our own script's list of tuples)
    values = [v for _, v in levels]
    # active low: off is 1, on is 0; then 2 s of 1 Hz blinking (500 ms halves) starting from the other level,
    # then back to on (0), then off (1)
    assert values[:2] == [1, 0]
    blink = levels[2:-2]
    assert [v for _, v in blink] == [1, 0, 1, 0]
    times = [t for t, _ in blink]
    assert all(4 <= b - a <= 7 for a, b in zip(times, times[1:])), levels  # 500 ms halves (a busy host: +-)
    assert values[-2:] == [0, 1] and 19 <= levels[-2][0] <= 24


# --- main.py on an emulated board, commissioned over UDP ------------------------------------------------------

def _root_and_netns():
    if os.geteuid() != 0:
        return "needs root for a network namespace"
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        return "needs ip netns"
    return None


@pytest.mark.skipif(_root_and_netns() is not None, reason=_root_and_netns() or "")
def test_main_py_on_an_emulated_board_is_commissioned_and_drives_its_pin(tmp_path, request):
    conf = tmp_path / "conf"
    # A board's storage path is at most 64 bytes (BoardConfig): pytest's own directory can be longer than that.
    storage = pathlib.Path(tempfile.mkdtemp(prefix="mm-board-")) / "mm"
    request.addfinalizer(lambda: shutil.rmtree(str(storage.parent), ignore_errors=True))
    facts = json.loads(tool("provision", conf, "--ssid", "lab", "--passcode", PASSCODE, "--discriminator", 3840,
                            "--light-pin", 4, "--storage", storage, "--json").stdout)
    tool("build", "x64")
    tool("deploy", "--compile-board", "x64")
    ns = "mm-board-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
    device = None
    lines = []
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True, timeout=10)
        device = subprocess.Popen(
            ["timeout", "-k", "2", "90", "ip", "netns", "exec", ns, MICROPYTHON, "tests/host/board_emulator.py",
             "--lib", "build/x64", "--board", "build/board-x64", "--config", str(conf / "micromatter.json"),
             "--att", str(conf / "micromatter.att"), "--ip", "127.0.0.1"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        reader = threading.Thread(target=lambda: [lines.append(x.rstrip("\n")) for x in device.stdout], daemon=True)
        reader.start()

        def wait_for(text, seconds=30):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                if [x for x in list(lines) if text in x]:
                    return
                if device.poll() is not None:
                    break
                time.sleep(0.05)
            raise AssertionError("no %r from the board:\n%s" % (text, "\n".join(lines[-40:])))

        wait_for('"event": "online"')
        r = subprocess.run(["timeout", "-k", "2", "60", "ip", "netns", "exec", ns, PYTHON,
                            "tests/host/board_commissioner.py", "5540", str(PASSCODE), "45"],
                           cwd=ROOT, capture_output=True, text=True)
        result = json.loads([x for x in r.stdout.splitlines() if x.startswith("RESULT ")][-1][7:])
        assert result["ok"], result
        assert result["steps"][-1] == "complete" and result["toggle"] == 0 and result["onoff"] is True
        wait_for("PIN 4 1")
    finally:
        if device is not None and device.poll() is None:
            device.kill()  # by PID (`timeout`); the namespace's processes go below
            device.wait(10)
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=10).stdout
        for pid in pids.split():
            try:
                os.kill(int(pid), 9)
            except (OSError, ValueError):
                pass
        subprocess.run(["ip", "netns", "delete", ns], timeout=10)
    text = "\n".join(lines)
    assert "WIFI connect lab" in text
    online = json.loads([x for x in lines if x.startswith("EVENT ") and '"online"' in x][0][6:])
    assert online["commissioned"] is False and online["manual_code"] == facts["manual_code"]
    assert "Manual pairing code: 3497-011-2332" in text and "QR code payload: " + facts["qr_code"] in text
    pins = [x for x in lines if x.startswith("PIN ")]
    assert pins == ["PIN 4 0", "PIN 4 1"]  # off at boot (OnOff restored as false), on after the Toggle
    assert '"event": "commissioned"' in text
    assert not (conf / "micromatter.att").exists()  # installed into storage at first boot
    assert (storage / "att.d" / "att").read_bytes() and (storage / "fab.d").is_dir()
