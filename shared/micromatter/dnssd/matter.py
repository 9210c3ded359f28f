"""The DNS-SD registrations a Matter node publishes (Matter Core spec, "Discovery").

Commissionable node: ``<random 64-bit id, 16 hex>._matterc._udp`` with
subtypes ``_L<discriminator>``, ``_S<short discriminator>``, ``_V<vendor>``,
``_T<device type>`` and ``_CM`` while in commissioning mode, and TXT keys D,
VP, CM, DT, DN, RI, PH, PI, SII, SAI, SAT, T, ICD.  Operational node:
``<compressed fabric id>-<node id>._matter._tcp`` (16 upper-case hex digits
each) with subtype ``_I<compressed fabric id>`` and TXT SII, SAI, SAT, T,
ICD.  The controller finds the device by this name after PASE and before
every new CASE session, so it must be registered as soon as a fabric exists.
"""

from micromatter.compat import const
from micromatter.dnssd.responder import Service
from micromatter.dnssd.wire import DnsEncodeError

COMMISSIONABLE = "_matterc._udp"
OPERATIONAL = "_matter._tcp"
MATTER_PORT = const(5540)

CM_OFF = const(0)
CM_BASIC = const(1)  # a window opened on the device (the passcode on its label)
CM_ENHANCED = const(2)  # a window opened by an administrator (a new passcode)

_MAX_RETRY_MS = const(3600000)


class ServiceFieldError(DnsEncodeError):
    """A value that a Matter DNS-SD field cannot carry."""


def hex_id(value, nbytes=8):
    """Upper-case hex of an id given as big-endian bytes or as an int (``nbytes`` wide)."""
    if isinstance(value, (bytes, bytearray)):
        if len(value) != nbytes:
            raise ServiceFieldError("id length")
        return "".join("%02X" % b for b in value)
    if not isinstance(value, int) or value < 0 or value >> (8 * nbytes):
        raise ServiceFieldError("id out of range")
    out = []
    for i in range(nbytes - 1, -1, -1):
        out.append("%02X" % ((value >> (8 * i)) & 0xFF))
    return "".join(out)


def host_label(mac):
    """The host name label: the 48-bit MAC or 64-bit EUI in upper-case hex."""
    if not isinstance(mac, (bytes, bytearray)) or len(mac) not in (6, 8):
        raise ServiceFieldError("a MAC has 6 bytes, an EUI-64 8")
    return hex_id(mac, len(mac))


def operational_instance_name(compressed_fabric_id, node_id):
    """``<compressed fabric id>-<node id>``, 16 upper-case hex digits each."""
    return hex_id(compressed_fabric_id) + "-" + hex_id(node_id)


def _number(key, value, limit):
    if not isinstance(value, int) or value < 0 or value > limit:
        raise ServiceFieldError(key + " out of range")
    return key + "=" + str(value)


def _common_txt(txt, session_idle_ms, session_active_ms, session_active_threshold_ms, tcp, icd):
    if session_idle_ms is not None:
        txt.append(_number("SII", session_idle_ms, _MAX_RETRY_MS))
    if session_active_ms is not None:
        txt.append(_number("SAI", session_active_ms, _MAX_RETRY_MS))
    if session_active_threshold_ms is not None:
        txt.append(_number("SAT", session_active_threshold_ms, 0xFFFF))
    if tcp is not None:
        txt.append(_number("T", tcp, 0xFF))
    if icd is not None:
        txt.append(_number("ICD", icd, 1))
    return txt


def _text(key, value, limit):
    data = value.encode() if isinstance(value, str) else bytes(value)
    if len(data) > limit:
        raise ServiceFieldError(key + " too long")
    return key.encode() + b"=" + data


def commissionable_service(
    instance_id,
    discriminator,
    vendor_id=None,
    product_id=None,
    commissioning_mode=CM_BASIC,
    device_type=None,
    device_name=None,
    rotating_id=None,
    pairing_hint=None,
    pairing_instruction=None,
    session_idle_ms=None,
    session_active_ms=None,
    session_active_threshold_ms=None,
    tcp=None,
    icd=None,
    port=MATTER_PORT,
):
    """The ``_matterc._udp`` registration.  ``instance_id``: 8 random bytes (or their hex)."""
    instance = instance_id if isinstance(instance_id, str) else hex_id(instance_id)
    if not isinstance(discriminator, int) or not 0 <= discriminator <= 0xFFF:
        raise ServiceFieldError("discriminator out of range")
    if commissioning_mode not in (CM_OFF, CM_BASIC, CM_ENHANCED):
        raise ServiceFieldError("commissioning mode")
    txt = ["D=%d" % discriminator]
    subtypes = ["_L%d" % discriminator, "_S%d" % (discriminator >> 8)]
    if vendor_id is not None:
        _number("VP", vendor_id, 0xFFFF)
        if product_id is not None:
            _number("VP", product_id, 0xFFFF)
            txt.append("VP=%d+%d" % (vendor_id, product_id))
        else:
            txt.append("VP=%d" % vendor_id)
        subtypes.append("_V%d" % vendor_id)
    elif product_id is not None:
        raise ServiceFieldError("a product id needs a vendor id")
    txt.append("CM=%d" % commissioning_mode)
    if device_type is not None:
        txt.append(_number("DT", device_type, 0xFFFFFFFF))
        subtypes.append("_T%d" % device_type)
    if device_name is not None:
        txt.append(_text("DN", device_name, 32))
    if rotating_id is not None:
        rid = rotating_id if isinstance(rotating_id, str) else "".join("%02X" % b for b in rotating_id)
        txt.append(_text("RI", rid, 100))
    if pairing_hint is not None:
        txt.append(_number("PH", pairing_hint, 0xFFFFFFFF))
    if pairing_instruction is not None:
        txt.append(_text("PI", pairing_instruction, 128))
    _common_txt(txt, session_idle_ms, session_active_ms, session_active_threshold_ms, tcp, icd)
    if commissioning_mode != CM_OFF:
        subtypes.append("_CM")
    return Service(instance, COMMISSIONABLE, port, txt, subtypes)


def operational_service(
    compressed_fabric_id,
    node_id,
    port=MATTER_PORT,
    session_idle_ms=None,
    session_active_ms=None,
    session_active_threshold_ms=None,
    tcp=None,
    icd=None,
):
    """The ``_matter._tcp`` registration for one fabric (ids as 8 big-endian bytes or ints)."""
    txt = _common_txt([], session_idle_ms, session_active_ms, session_active_threshold_ms, tcp, icd)
    subtypes = ["_I" + hex_id(compressed_fabric_id)]
    return Service(operational_instance_name(compressed_fabric_id, node_id), OPERATIONAL, port, txt, subtypes)
