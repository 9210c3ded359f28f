"""Helpers for the session tests (both runtimes): fabrics, managers, paired sessions, messages."""

from micromatter.fabric import Fabric
from micromatter.message import ProtocolHeader
from micromatter.session.manager import SessionManager
from micromatter.session.secure import HEADER_LENGTH
from micromatter.storage import MemoryStorage
from support import Rng, port

ROOT_KEY = b"\x04" + bytes(range(1, 65))


def fabric(index=1, fabric_id=None, node_id=None):
    return Fabric(index, fabric_id or (0x1000 + index), node_id or (0x100 + index), ROOT_KEY)


class Clockless:
    """A context with the port's crypto and deterministic randomness (``Rng``)."""

    def __init__(self, seed=1):
        self.crypto = port().crypto
        self._rng = Rng(seed)

    def random_bytes(self, n):
        return self._rng.bytes(n)


def manager(storage=None, seed=1, **kwargs):
    return SessionManager(Clockless(seed), MemoryStorage() if storage is None else storage, **kwargs)


def open_session(m, f, peer, now_ms=0, is_initiator=False, peer_session_id=0x4242, secret=None, **kwargs):
    """A CASE (or PASE if ``f`` is None) session in ``m``, through the public API."""
    sid = m.get_next_available_session_id(now_ms, f, peer if f is not None else None)
    return m.create_secure_session(
        sid, f, peer, peer_session_id, secret or bytes(range(32)), b"salt", is_initiator, False, now_ms=now_ms, **kwargs
    )


def pair(shared_secret=None, salt=b"salt", resumption=False, seed=1):
    """Two managers, a device (responder) and a controller (initiator), with one session between them."""
    device_fabric = Fabric(1, 0xFAB, 0x1111, ROOT_KEY)
    controller_fabric = Fabric(1, 0xFAB, 0x2222, ROOT_KEY)
    device = manager(seed=seed)
    controller = manager(seed=seed + 100)
    secret = shared_secret or bytes(range(100, 132))
    d_id = device.get_next_available_session_id(0, device_fabric, 0x2222)
    c_id = controller.get_next_available_session_id(0, controller_fabric, 0x1111)
    d = device.create_secure_session(d_id, device_fabric, 0x2222, c_id, secret, salt, False, resumption, now_ms=0)
    c = controller.create_secure_session(c_id, controller_fabric, 0x1111, d_id, secret, salt, True, resumption, now_ms=0)
    return device, d, controller, c


def write_message(buf, payload, header_length=HEADER_LENGTH, opcode=0x05, exchange_id=7, protocol_id=1,
                  initiator=True, reliable=True, ack_counter=None):
    """Protocol header and payload at ``buf[header_length:]``; returns the end offset."""
    p = ProtocolHeader()
    p.initiator = initiator
    p.reliable = reliable
    p.ack_counter = ack_counter
    p.opcode = opcode
    p.exchange_id = exchange_id
    p.protocol_id = protocol_id
    n = header_length + p.encode(buf, header_length)
    buf[n : n + len(payload)] = payload
    return n + len(payload)


def send(session, payload, now_ms=0, size=256, **kwargs):
    """An encoded message from ``session`` carrying ``payload``: (buffer, length)."""
    buf = bytearray(size)
    end = write_message(buf, payload, **kwargs)
    return buf, session.encode(buf, end, now_ms)
