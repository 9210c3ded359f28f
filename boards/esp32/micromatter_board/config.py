"""The board configuration: one small JSON file on the board's filesystem (``/micromatter.json``).

It holds what differs from one board to the next and nothing secret a controller could misuse: the Wi-Fi
credentials, the light's GPIO, the discriminator, the PASE verifier with its salt and iteration count (never
the passcode), the vendor and product ids, where the node's storage lives.  ``tools/provision`` writes it
(``BoardConfig.to_json``) and ``main.py`` reads it (``load``); the loader is strict (unknown keys, wrong types,
out-of-range values and a label that does not match the identity are refused with ``BoardConfigError``), so a
typo is reported at boot instead of becoming a device that cannot be commissioned.

    {"format": 1,
     "wifi": {"ssid": "home", "password": "..."},
     "light": {"pin": 2, "active_low": false},                 (optional: no GPIO)
     "discriminator": 3840, "vendor_id": 65521, "product_id": 32768,
     "pase": {"verifier": BASE64 (97 bytes, w0 | L), "salt": BASE64 (16..32 bytes), "iterations": 1000},
     "storage": "/mm" (a littlefs directory) or "nvs:mm" (an esp32.NVS namespace),
     "port": 5540, "hostname": "mm-light",                     (optional)
     "label": {"qr_code": "MT:...", "manual_code": "34970112332"}}   (optional)

The label holds the pairing codes for the board to print on its console.  They encode the passcode, so a
product leaves them out (``tools/provision --no-label``) and keeps them on the sticker only.
"""

import binascii
import json

from micromatter import onboarding
from micromatter.commissioning.config import DEFAULT_PORT, ConfigError, DeviceConfig
from micromatter.crypto import spake2p
from micromatter.errors import MatterError

FORMAT = 1
CONFIG_PATH = "/micromatter.json"
DEFAULT_STORAGE = "/mm"
MAX_CONFIG_BYTES = 2048  # a provisioned config is about 500 bytes; anything much larger is not one of ours
MAX_GPIO = 48  # the highest GPIO number of the ESP32 family (ESP32-S3)
_TOP_KEYS = ("format", "wifi", "light", "discriminator", "vendor_id", "product_id", "pase", "storage", "port",
             "hostname", "label")
_REQUIRED = ("format", "wifi", "discriminator", "vendor_id", "product_id", "pase")


class BoardConfigError(ConfigError):
    """The board configuration is missing, not JSON, or has an unknown key, a wrong type or a bad value."""


def _fields(value, what, allowed, required):
    if not isinstance(value, dict):
        raise BoardConfigError("%s must be a JSON object" % what)
    for key in value:
        if key not in allowed:
            raise BoardConfigError("unknown key %r in %s" % (key, what))
    for key in required:
        if key not in value:
            raise BoardConfigError("%s needs %r" % (what, key))
    return value


def _int(value, name, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or value < low or value > high:
        raise BoardConfigError("%s must be an integer %d..%d" % (name, low, high))
    return value


def _text(value, name, low, high):
    if not isinstance(value, str) or not low <= len(value.encode()) <= high:
        raise BoardConfigError("%s must be a string of %d..%d bytes" % (name, low, high))
    return value


def _bool(value, name):
    if not isinstance(value, bool):
        raise BoardConfigError("%s must be true or false" % name)
    return value


_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def _b64(value, name):
    """Strict base64 (the runtimes' decoders differ on stray characters: check the text first)."""
    if not isinstance(value, str) or len(value) % 4 or len(value) > 256:
        raise BoardConfigError("%s must be a base64 string" % name)
    for c in value:
        if c not in _B64_ALPHABET:
            raise BoardConfigError("%s is not valid base64" % name)
    try:
        return binascii.a2b_base64(value)
    except ValueError:  # binascii.Error on CPython is a ValueError; MicroPython raises ValueError
        raise BoardConfigError("%s is not valid base64" % name)


def _b64_text(data):
    return binascii.b2a_base64(data).decode().strip()


def _storage(value):
    text = _text(value, "storage", 1, 64)
    if text.startswith("nvs:"):
        namespace = text[4:]
        # Contexts become namespaces "<root>.<context>" (15 characters at most): keep the root short.
        if not 1 <= len(namespace) <= 4 or not namespace.isalpha():
            raise BoardConfigError("an NVS storage root is 1..4 letters (nvs:mm)")
    elif not text.startswith("/") or text == "/" or "." in text:
        raise BoardConfigError("storage is an absolute directory (/mm) or nvs:NAME")
    return text


class BoardConfig:
    """A validated board configuration (see the module docstring for the JSON form).

    ``ssid``, ``password``, ``light_pin`` (None: no GPIO), ``light_active_low``, ``discriminator``,
    ``vendor_id``, ``product_id``, ``verifier`` (97 bytes), ``salt``, ``iterations``, ``storage``, ``port``,
    ``hostname`` (None: the firmware's), ``qr_code`` and ``manual_code`` (None without a label)."""

    def __init__(self, ssid, password, discriminator, vendor_id, product_id, verifier, salt, iterations,
                 light_pin=None, light_active_low=False, storage=DEFAULT_STORAGE, port=DEFAULT_PORT,
                 hostname=None, qr_code=None, manual_code=None):
        self.ssid = _text(ssid, "wifi.ssid", 1, 32)
        self.password = _text(password, "wifi.password", 0, 64)
        self.discriminator = _int(discriminator, "discriminator", 0, 0xFFF)
        self.vendor_id = _int(vendor_id, "vendor_id", 1, 0xFFF4)
        self.product_id = _int(product_id, "product_id", 1, 0xFFFF)
        try:
            self.verifier = spake2p.PasscodeVerifier.decode(verifier).encode()
            spake2p.check_pbkdf_parameters(salt, iterations)
        except MatterError as e:
            raise BoardConfigError("pase: %s" % e)
        self.salt = bytes(salt)
        self.iterations = iterations
        self.light_pin = None if light_pin is None else _int(light_pin, "light.pin", 0, MAX_GPIO)
        self.light_active_low = _bool(light_active_low, "light.active_low")
        self.storage = _storage(storage)
        self.port = _int(port, "port", 1, 0xFFFF)
        self.hostname = None if hostname is None else _text(hostname, "hostname", 1, 32)
        self.qr_code = None
        self.manual_code = None
        if qr_code is not None or manual_code is not None:
            self._check_label(qr_code, manual_code)

    def _check_label(self, qr_code, manual_code):
        """Both codes parse and name this board's discriminator, vendor and product (the passcode in them
        cannot be checked against the verifier without PBKDF2, which ``tools/provision`` has done)."""
        try:
            qr = onboarding.parse_qr(_text(qr_code, "label.qr_code", 1, 64))
            manual = onboarding.parse_manual(_text(manual_code, "label.manual_code", 11, 21))
        except onboarding.OnboardingError as e:
            raise BoardConfigError("label: %s" % e)
        if (qr.discriminator, qr.vendor_id, qr.product_id) != (self.discriminator, self.vendor_id, self.product_id):
            raise BoardConfigError("label: the QR code is for another discriminator, vendor or product")
        if manual.passcode != qr.passcode or manual.short_discriminator != self.discriminator >> 8:
            raise BoardConfigError("label: the manual code does not match the QR code")
        self.qr_code = qr_code
        self.manual_code = manual_code

    @staticmethod
    def from_dict(d):
        d = _fields(d, "the board configuration", _TOP_KEYS, _REQUIRED)
        if d["format"] != FORMAT:
            raise BoardConfigError("format %r is not %d" % (d["format"], FORMAT))
        wifi = _fields(d["wifi"], "wifi", ("ssid", "password"), ("ssid",))
        light = d.get("light")
        if light is not None:
            light = _fields(light, "light", ("pin", "active_low"), ("pin",))
        else:
            light = {}
        pase = _fields(d["pase"], "pase", ("verifier", "salt", "iterations"), ("verifier", "salt", "iterations"))
        label = d.get("label")
        if label is not None:
            label = _fields(label, "label", ("qr_code", "manual_code"), ("qr_code", "manual_code"))
        else:
            label = {}
        return BoardConfig(
            wifi["ssid"], wifi.get("password", ""), d["discriminator"], d["vendor_id"], d["product_id"],
            _b64(pase["verifier"], "pase.verifier"), _b64(pase["salt"], "pase.salt"),
            _int(pase["iterations"], "pase.iterations", 1, 100000), light.get("pin"),
            light.get("active_low", False), d.get("storage", DEFAULT_STORAGE), d.get("port", DEFAULT_PORT),
            d.get("hostname"), label.get("qr_code"), label.get("manual_code"))

    @staticmethod
    def from_json(text):
        if len(text) > MAX_CONFIG_BYTES:
            raise BoardConfigError("the board configuration is larger than %d bytes" % MAX_CONFIG_BYTES)
        try:
            d = json.loads(text)
        except ValueError as e:
            raise BoardConfigError("the board configuration is not JSON: %s" % e)
        return BoardConfig.from_dict(d)

    def to_dict(self):
        d = {"format": FORMAT, "wifi": {"ssid": self.ssid, "password": self.password},
             "discriminator": self.discriminator, "vendor_id": self.vendor_id, "product_id": self.product_id,
             "pase": {"verifier": _b64_text(self.verifier), "salt": _b64_text(self.salt),
                      "iterations": self.iterations},
             "storage": self.storage, "port": self.port}
        if self.light_pin is not None:
            d["light"] = {"pin": self.light_pin, "active_low": self.light_active_low}
        if self.hostname is not None:
            d["hostname"] = self.hostname
        if self.qr_code is not None:
            d["label"] = {"qr_code": self.qr_code, "manual_code": self.manual_code}
        return d

    def to_json(self):
        return json.dumps(self.to_dict())

    def device_config(self, attestation=None, host=None, ipv4=(), ipv6=(), **kwargs):
        """The node's ``DeviceConfig``: this board's identity and verifier, Wi-Fi for Network Commissioning,
        ``attestation`` (the provisioned ``AttestationMaterial``), the interface's MAC and addresses."""
        return DeviceConfig(self.verifier, self.salt, self.iterations, self.discriminator,
                            vendor_id=self.vendor_id, product_id=self.product_id, port=self.port, host=host,
                            ipv4=ipv4, ipv6=ipv6, wifi_ssid=self.ssid.encode(), attestation=attestation,
                            qr_code=self.qr_code, manual_code=self.manual_code, **kwargs)


def load(path=CONFIG_PATH):
    """The ``BoardConfig`` in the file ``path``; ``BoardConfigError`` if it is missing or invalid."""
    try:
        with open(path) as f:
            text = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise BoardConfigError("cannot read %s: %s" % (path, e))
    return BoardConfig.from_json(text)
