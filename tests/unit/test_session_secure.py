"""Secure sessions: keys, nonce and AAD, encode/decode in place, replay and duplicates, states."""

from micromatter.errors import AuthenticationError, MessageError
from micromatter.message import MessageHeader
from micromatter.session.errors import (
    CounterExhaustedError,
    MessageRejectedError,
    ReplayError,
    SessionArgumentError,
    SessionStateError,
    UnknownSessionError,
)
from micromatter.session.params import DEFAULT
from micromatter.session.secure import (
    ACTIVE,
    DEFUNCT,
    HEADER_LENGTH,
    TAG_LENGTH,
    derive_session_keys,
)
from sessionkit import manager, open_session, pair, send, write_message, fabric
from support import port, raises, unhex

# matter.js SecureSessionTest: a PASE session (node ids 0) as initiator with raw keys.
MJS_DECRYPT_KEY = unhex("bacb178b2588443d5d5b1e4559e7accc")
MJS_ENCRYPT_KEY = unhex("66951379d0a6d151cf5472cccf13f360")
MJS_MESSAGE_ENCRYPTED = unhex(
    "001d350022145300ec2b931025dada82ed67521c966d2454d131a271023be699e4e2796650f568e590fd9b65f456c720a60a0da127"
    "eaa53974c5d41d3d933ed7b58a9ce5b5cb96ad94a7762611c48774cf75458327e74c34668a45dc9943546f8a6aa1dcd40bd4b8014b"
    "efb49954a097a60cbdff333ee3f2fd1f49"
)
MJS_DECRYPTED = unhex(
    "153600172403312504fcff18172402002403302404001817240200240330240401181724020024033024040218172402002403302404"
    "031817240200240328240402181724020024032824040418172403312404031818290324ff0118"
)
MJS_PAYLOAD = unhex(
    "1536011535012600799ac60c37012402002403312404031824021418181535012600b771f32f3701240200240328240404182502018018"
    "181535012600b771f32f3701240200240328240402182502f1ff18181535012600ddad82d637012402002403302404031824020218181535"
    "012600ddad82d637012402002403302404021824020018181535012600ddad82d6370124020024033024040118350224003c1818181535"
    "012600ddad82d637012402002403302404001824020018181535012600799ac60c37012402002403312504fcff18240201181818290424ff0118"
)
MJS_ENCRYPTED = unhex(
    "1f9c4e278a2e2a755ebb4fcb9478211efb09aa9518fcafb56d74f135544636037c16fb6b62347794da0c5bde142e1a8b1cc96575e9e554"
    "71c08b58f7640b7d7f4173c8ff967c39e9961f30a29cb1f64f68df4b5bc1e742587f778eeb9ec586c162ff384558596792a2c1e43c150c"
    "d0e9ec1484c50950f17cd6c084d07caed94ce45c20004210cbde48da44ebcf7d931657f03e07e3ea29ae41868b804bf39e628323cd0255"
    "07773f07268301aa1e77a82927fce041241839cee4114f6307b6befe3befde87a2d3f13eeef96b27b36e788d907b44bef2d195aa802692"
    "f4f12acc015aede3cd29da272d1e4b7f3f59683d25bf08f0e29fba2a8a9b"
)


def mjs_session():
    """The matter.js test session: local id 0x351d, peer id 0x8d4b, initiator, PASE, given keys."""
    m = manager(secure_capacity=32)
    t = m.secure
    i = 0x351D & t.mask
    t.local_id[i] = 0x351D
    s = t.activate(i, None, 0, 0x8D4B, (MJS_ENCRYPT_KEY, MJS_DECRYPT_KEY, bytes(16)), True, False, DEFAULT, (), None, None, 0)
    return m, s


def test_matter_js_vector_decrypt():
    m, s = mjs_session()
    buf = bytearray(MJS_MESSAGE_ENCRYPTED)
    r = m.decode(buf, len(buf), 5)
    assert r.session is s and not r.duplicate
    assert r.payload(buf) == MJS_DECRYPTED
    assert r.header.counter == 0x00531422
    assert s.active_timestamp == 5


def test_matter_js_vector_encrypt():
    m, s = mjs_session()
    m.secure.tx[s._i] = 12519906
    buf = bytearray(8 + 10 + len(MJS_PAYLOAD) + TAG_LENGTH)  # protocol header: 6 + 4 (ack)
    end = write_message(buf, MJS_PAYLOAD, opcode=0x05, exchange_id=0x048D, protocol_id=1, initiator=False,
                        reliable=True, ack_counter=0x00531422)
    n = s.encode(buf, end, 0)
    assert n == len(buf)
    assert bytes(buf[HEADER_LENGTH:n]) == MJS_ENCRYPTED
    h = MessageHeader()
    h.decode(buf, 0, n)
    assert (h.session_id, h.counter, h.source_node_id, h.dest_node_id) == (0x8D4B, 12519906, None, None)


def test_keys_nonce_and_aad_match_a_hand_built_message():
    # Derive the keys and build nonce and AAD by hand with the raw crypto primitives.
    crypto = port().crypto
    secret = bytes(range(100, 132))
    keys = crypto.hkdf_sha256(secret, b"salt", b"SessionKeys", 48)
    assert derive_session_keys(crypto, secret, b"salt", False) == (keys[:16], keys[16:32], keys[32:])
    device, d, controller, c = pair(secret)
    assert c.attestation_challenge == d.attestation_challenge == keys[32:]
    counter = c.message_counter
    buf, n = send(c, b"hello", now_ms=3)
    plain = bytearray(64)
    end = write_message(plain, b"hello")
    header = bytes(buf[:8])
    assert header == bytes([0, d.id & 0xFF, d.id >> 8, 0]) + bytes(
        [counter & 0xFF, (counter >> 8) & 0xFF, (counter >> 16) & 0xFF, counter >> 24]
    )
    nonce = header[3:8] + (0x2222).to_bytes(8, "little")  # sender's (the controller's) node id
    expected = crypto.aes_ccm(keys[:16]).encrypt(nonce, header, bytes(plain[8:end]))  # I2R
    assert bytes(buf[8:n]) == expected
    # And the device answers with R2I, its own node id in the nonce.
    counter = d.message_counter
    buf, n = send(d, b"world")
    nonce = bytes(buf[3:8]) + (0x1111).to_bytes(8, "little")
    assert crypto.aes_ccm(keys[16:32]).decrypt(nonce, bytes(buf[:8]), bytes(buf[8:n]))[-5:] == b"world"


def test_resumption_keys_differ():
    crypto = port().crypto
    secret = bytes(32)
    fresh = derive_session_keys(crypto, secret, b"s", False)
    resumed = derive_session_keys(crypto, secret, b"s", True)
    assert resumed[0] == crypto.hkdf_sha256(secret, b"s", b"SessionResumptionKeys", 48)[:16]
    assert fresh[0] != resumed[0]
    device, d, controller, c = pair(resumption=True)
    assert d.is_resumption and c.is_resumption and c.is_initiator and not d.is_initiator
    buf, n = send(c, b"resumed")
    assert device.decode(buf, n, 0).payload(buf)[-7:] == b"resumed"


def test_round_trip_both_ways_with_headers():
    device, d, controller, c = pair()
    buf, n = send(c, b"ping", opcode=0x02, exchange_id=0x1234, protocol_id=1, ack_counter=None)
    r = device.decode(buf, n, 10)
    assert r.session is d and not r.duplicate
    assert (r.protocol.opcode, r.protocol.exchange_id, r.protocol.protocol_id, r.protocol.reliable) == (2, 0x1234, 1, True)
    assert r.payload(buf) == b"ping"
    ping_counter = r.header.counter
    assert ping_counter == c.last_message_counter
    buf, n = send(d, b"pong", initiator=False, ack_counter=ping_counter)
    r = controller.decode(buf, n, 11)
    assert r.session is c and r.payload(buf) == b"pong"
    assert r.protocol.ack_counter == ping_counter and not r.protocol.initiator


def test_counters_increase_and_start_random():
    device, d, controller, c = pair()
    first = c.message_counter
    assert 1 <= first <= 1 << 28
    send(c, b"a")
    assert c.last_message_counter == first
    send(c, b"b")
    assert c.last_message_counter == first + 1 and c.message_counter == first + 2
    _, d2, _, c2 = pair(seed=7)
    assert c2.message_counter != first


def test_tampering_is_detected_and_changes_nothing():
    device, d, controller, c = pair()
    buf, n = send(c, b"secret payload")
    original = bytes(buf[:n])
    for pos in (1, 3, 4, 7, 8, 12, n - 17, n - 16, n - 1):
        bad = bytearray(original)
        bad[pos] ^= 0x01
        snapshot = bytes(bad)
        try:
            device.decode(bad, n, 0)
            raise AssertionError("tampered byte %d accepted" % pos)
        except (AuthenticationError, MessageError, MessageRejectedError, UnknownSessionError):
            pass
        if pos >= 4:  # past the session id: reached decryption, which leaves the buffer as it was
            assert bytes(bad) == snapshot
    # The genuine message is still new: nothing was committed by the failures.
    r = device.decode(bytearray(original), n, 0)
    assert not r.duplicate


def test_duplicates_are_reported_and_late_messages_accepted():
    device, d, controller, c = pair()
    msgs = []
    for k in range(5):
        buf, n = send(c, bytes([k]))
        msgs.append(bytes(buf[:n]))
    r = device.decode(bytearray(msgs[4]), len(msgs[4]), 1)
    assert not r.duplicate
    r = device.decode(bytearray(msgs[4]), len(msgs[4]), 2)
    assert r.duplicate and r.session is d
    assert r.protocol.reliable  # MRP can acknowledge it
    for k in (1, 0, 3, 2):
        assert not device.decode(bytearray(msgs[k]), len(msgs[k]), 3).duplicate
        assert device.decode(bytearray(msgs[k]), len(msgs[k]), 3).duplicate


def test_counter_behind_the_window_is_rejected():
    device, d, controller, c = pair()
    old = []
    buf, n = send(c, b"old")
    old = bytes(buf[:n])
    for _ in range(33):
        buf, n = send(c, b"x")
    device.decode(buf, n, 0)
    raises(ReplayError, device.decode, bytearray(old), len(old), 0)


def test_exhausted_session_refuses_to_send():
    device, d, controller, c = pair()
    controller.secure.tx[c._i] = 0xFFFFFFFE
    buf, n = send(c, b"last")
    assert device.decode(buf, n, 0).header.counter == 0xFFFFFFFE
    raises(CounterExhaustedError, send, c, b"one too many")
    raises(CounterExhaustedError, send, c, b"still no")


def test_decode_through_the_wrong_session():
    device, d, controller, c = pair()
    other = open_session(device, fabric(2), 0x77)
    buf, n = send(c, b"x")
    raises(MessageRejectedError, other.decode, buf, n, 0)
    assert not d.decode(buf, n, 0).duplicate


def test_flags_a_unicast_session_refuses():
    device, d, controller, c = pair()
    for security_flags in (0x80, 0x40):  # privacy, control
        buf, n = send(c, b"x")
        buf[3] = security_flags
        raises(MessageRejectedError, device.decode, buf, n, 0)
    buf, n = send(c, b"x")
    raises(MessageRejectedError, device.decode, buf, HEADER_LENGTH + 10, 0)  # shorter than header + tag


def test_encode_and_decode_arguments():
    device, d, controller, c = pair()
    buf = bytearray(40)
    raises(SessionArgumentError, c.encode, buf, 7, 0)
    raises(SessionArgumentError, c.encode, buf, 30, 0)  # no room for the tag
    raises(SessionArgumentError, c.encode, buf, "20", 0)
    raises(SessionArgumentError, d.decode, buf, 41, 0)
    raises(SessionArgumentError, d.decode, buf, -1, 0)
    raises(MessageError, d.decode, buf, 3, 0)


def test_timestamps():
    device, d, controller, c = pair()
    buf, n = send(c, b"x", now_ms=100)
    assert c.timestamp == 100 and c.active_timestamp == 0  # sending is not hearing from the peer
    device.decode(buf, n, 250)
    assert d.timestamp == 250 and d.active_timestamp == 250
    assert d.is_peer_active(250 + 3999) and not d.is_peer_active(250 + 4000)


def test_defunct_session_becomes_active_on_a_new_message():
    device, d, controller, c = pair()
    d.mark_defunct()
    assert d.state == DEFUNCT and d.state_name == "defunct"
    buf, n = send(c, b"x")
    device.decode(buf, n, 0)
    assert d.state == ACTIVE


def test_stale_handle_raises():
    device, d, controller, c = pair()
    sid = d.id
    device.remove_session(sid)
    assert not d.is_live()
    raises(SessionStateError, lambda: d.id)
    raises(SessionStateError, d.encode, bytearray(64), 20, 0)
    raises(SessionStateError, d.decode, bytearray(64), 40, 0)
    # The slot's next session is not reachable through the old handle.
    s = open_session(device, fabric(1), 0x2222)
    assert s.is_live() and not d.is_live()
    assert "ended" in repr(d)


def test_establishing_session_cannot_carry_messages():
    device, d, controller, c = pair()
    sid = device.get_next_available_session_id(0)
    assert device.get_session(sid) is None
    buf, n = send(c, b"x")
    buf[1] = sid & 0xFF
    buf[2] = sid >> 8
    raises(SessionStateError, device.decode, buf, n, 0)


def test_pase_session_properties():
    m = manager()
    s = open_session(m, None, 0)
    assert s.is_pase and s.fabric is None and s.node_id == 0 and s.fabric_index == 0
    assert m.get_pase_session() is s
    assert s.name == "secure/" + str(s.id)


def test_subscriptions_and_callback():
    changes = []
    m = manager()
    s = open_session(m, fabric(1), 5, subscription_changed_callback=lambda session: changes.append(session.subscription_count))
    s.add_subscription()
    s.add_subscription()
    s.remove_subscription()
    s.clear_subscriptions()
    s.clear_subscriptions()  # nothing to clear: no callback
    assert changes == [1, 2, 1, 0]
    raises(SessionStateError, s.remove_subscription)


def test_holds():
    m = manager()
    s = open_session(m, fabric(1), 5)
    s.hold()
    s.hold()
    assert s.holds == 2
    s.release()
    s.release()
    raises(SessionStateError, s.release)


def test_parameters_and_overrides():
    m = manager()
    s = open_session(m, fabric(1), 5, idle_retransmission_timeout_ms=5000)
    assert (s.idle_interval_ms, s.active_interval_ms, s.active_threshold_ms) == (5000, 300, 4000)
    t = open_session(m, fabric(1), 6, active_retransmission_timeout_ms=200)
    assert (t.idle_interval_ms, t.active_interval_ms) == (500, 200)


def test_caller_may_resize_its_buffer_between_messages():
    device, d, controller, c = pair()
    buf = bytearray(64)
    for k in range(3):
        end = write_message(buf, b"abc" * (k + 1))
        n = c.encode(buf, end, 0)
        assert device.decode(buf, n, 0).payload(buf) == b"abc" * (k + 1)
        buf.extend(bytes(100))  # the transport grows its buffer (its storage moves): nothing holds a view on it


def test_long_header_with_message_extensions_is_the_aad():
    # A sender that adds a 70-byte message extensions block: the whole header (over the 64-byte scratch)
    # is the AAD.  Built by hand with the raw primitives.
    crypto = port().crypto
    secret = bytes(range(100, 132))
    i2r = crypto.hkdf_sha256(secret, b"salt", b"SessionKeys", 48)[:16]
    device, d, controller, c = pair(secret)
    h = MessageHeader()
    h.session_id = d.id
    h.counter = 5000
    h.extensions = bytes(range(70))
    buf = bytearray(200)
    hl = h.encode(buf, 0)
    assert hl == 8 + 2 + 70
    end = write_message(buf, b"with extensions", header_length=hl)
    nonce = bytes(buf[3:8]) + (0x2222).to_bytes(8, "little")
    sealed = crypto.aes_ccm(i2r).encrypt(nonce, bytes(buf[:hl]), bytes(buf[hl:end]))
    buf[hl : hl + len(sealed)] = sealed
    n = hl + len(sealed)
    r = device.decode(buf, n, 0)
    assert r.payload(buf) == b"with extensions" and bytes(r.header.extensions) == bytes(range(70))
