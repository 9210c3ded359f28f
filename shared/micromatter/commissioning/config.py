"""``DeviceConfig``: what a node is told about itself at start (identity, PASE verifier, network, attestation).

The device keeps the passcode verifier (w0, L), the PBKDF salt and iteration count, never the
passcode: ``DeviceConfig.from_passcode`` (for a CLI that takes a passcode) computes the verifier with
``crypto.spake2p`` and keeps only the label codes (QR string and manual code) a device prints or
has on its sticker.  ``setup_payload(passcode)`` gives the onboarding payload for a known passcode.
"""

from micromatter import onboarding
from micromatter.commissioning.attestation import AttestationMaterial, DevelopmentAuthority
from micromatter.crypto import spake2p
from micromatter.errors import MatterError
from micromatter.session.params import SessionParameters

DEFAULT_PORT = 5540
DEFAULT_ITERATIONS = 1000
DEVICE_TYPE_ON_OFF_LIGHT = 0x0100
TEST_VENDOR_ID = 0xFFF1
TEST_PRODUCT_ID = 0x8000


class ConfigError(MatterError):
    """A configuration value is missing, of the wrong type or out of range."""


def _int(value, name, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or value < low or value > high:
        raise ConfigError("%s must be an int %d..%d" % (name, low, high))
    return value


def _text(value, name, limit):
    if not isinstance(value, str) or len(value.encode()) > limit:
        raise ConfigError("%s must be a str of at most %d bytes" % (name, limit))
    return value


class DeviceConfig:
    """The node's configuration.

    PASE: ``verifier`` (a ``spake2p.PasscodeVerifier`` or its 97 bytes), ``salt`` (16..32 bytes),
    ``iterations`` (1000..100000), ``discriminator`` (12 bits).  Identity: ``vendor_id``,
    ``product_id``, ``vendor_name``, ``product_name``, ``device_type`` (the CD's and the commissionable
    advertisement's), ``serial_number``, ``unique_id``, ``hardware_version``, ``software_version``
    (+ ``_string``).  Network: ``port`` (UDP), ``host`` (the MAC or EUI-64 bytes the mDNS host name is
    made of; None: a random one from the port at start), ``ipv4``/``ipv6`` (initial addresses),
    ``wifi_ssid`` (None: an Ethernet-like network interface), ``parameters`` (our MRP
    ``SessionParameters``).  ``attestation``: an ``AttestationMaterial`` or a ``DevelopmentAuthority``.
    ``max_fabrics`` (SupportedFabrics), ``device_name`` (the DN TXT key, None to leave it out),
    ``qr_code``/``manual_code`` (the label's codes, only for display)."""

    def __init__(self, verifier, salt, iterations, discriminator, vendor_id=TEST_VENDOR_ID,
                 product_id=TEST_PRODUCT_ID, vendor_name="micromatter", product_name="micromatter light",
                 device_type=DEVICE_TYPE_ON_OFF_LIGHT, serial_number="", unique_id="", hardware_version=0,
                 hardware_version_string="0", software_version=1, software_version_string="0.1.0",
                 port=DEFAULT_PORT, host=None, ipv4=(), ipv6=(), wifi_ssid=None, parameters=None,
                 attestation=None, max_fabrics=5, device_name=None, qr_code=None, manual_code=None):
        if isinstance(verifier, (bytes, bytearray, memoryview)):
            try:
                verifier = spake2p.PasscodeVerifier.decode(verifier)
            except MatterError as e:
                raise ConfigError("verifier: %s" % e)
        if not isinstance(verifier, spake2p.PasscodeVerifier):
            raise ConfigError("verifier must be a PasscodeVerifier or its 97 bytes")
        try:
            spake2p.check_pbkdf_parameters(salt, iterations)
        except MatterError as e:
            raise ConfigError("PBKDF parameters: %s" % e)
        self.verifier = verifier
        self.salt = bytes(salt)
        self.iterations = iterations
        self.discriminator = _int(discriminator, "discriminator", 0, 0xFFF)
        self.vendor_id = _int(vendor_id, "vendor_id", 0, 0xFFFE)
        self.product_id = _int(product_id, "product_id", 0, 0xFFFF)
        self.vendor_name = _text(vendor_name, "vendor_name", 32)
        self.product_name = _text(product_name, "product_name", 32)
        self.device_type = _int(device_type, "device_type", 0, 0xFFFFFFFF)
        self.serial_number = _text(serial_number, "serial_number", 32)
        self.unique_id = _text(unique_id, "unique_id", 32)
        self.hardware_version = _int(hardware_version, "hardware_version", 0, 0xFFFF)
        self.hardware_version_string = _text(hardware_version_string, "hardware_version_string", 64)
        self.software_version = _int(software_version, "software_version", 0, 0xFFFFFFFF)
        self.software_version_string = _text(software_version_string, "software_version_string", 64)
        self.port = _int(port, "port", 1, 0xFFFF)
        if host is not None and (not isinstance(host, (bytes, bytearray)) or len(host) not in (6, 8)):
            raise ConfigError("host must be the 6-byte MAC or 8-byte EUI-64")
        self.host = None if host is None else bytes(host)
        self.ipv4 = tuple(ipv4)
        self.ipv6 = tuple(ipv6)
        self.wifi_ssid = wifi_ssid
        if parameters is not None and not isinstance(parameters, SessionParameters):
            raise ConfigError("parameters must be SessionParameters")
        self.parameters = parameters if parameters is not None else SessionParameters()
        if attestation is not None and not isinstance(attestation, (AttestationMaterial, DevelopmentAuthority)):
            raise ConfigError("attestation must be AttestationMaterial or DevelopmentAuthority")
        self.attestation = attestation
        self.max_fabrics = _int(max_fabrics, "max_fabrics", 1, 254)
        self.device_name = None if device_name is None else _text(device_name, "device_name", 32)
        self.qr_code = qr_code
        self.manual_code = manual_code

    @staticmethod
    def from_passcode(crypto, passcode, discriminator, salt=None, iterations=DEFAULT_ITERATIONS, **kwargs):
        """A config for ``passcode`` (checked: ``onboarding.PasscodeError``): the verifier is computed
        (PBKDF2 with ``salt``, 32 random bytes if None) and the passcode dropped; the label codes are kept."""
        onboarding.check_passcode(passcode)
        if salt is None:
            salt = crypto.random_bytes(32)
        try:
            verifier = spake2p.PasscodeVerifier.from_passcode(crypto, passcode, salt, iterations)
        except MatterError as e:
            raise ConfigError("cannot compute the verifier: %s" % e)
        config = DeviceConfig(verifier, salt, iterations, discriminator, **kwargs)
        payload = config.setup_payload(passcode)
        config.qr_code = payload.qr_code()
        config.manual_code = payload.manual_code()
        return config

    def setup_payload(self, passcode):
        """The onboarding payload of this device for ``passcode`` (on-network discovery, standard flow)."""
        return onboarding.SetupPayload(passcode, self.discriminator, self.vendor_id, self.product_id,
                                       onboarding.FLOW_STANDARD, onboarding.CAP_ON_NETWORK)
