"""Invoke interactions through the engine: commands, responses, statuses, timed invokes, access control."""

from support import unhex
from test_im_helpers import setup, send, admin, stranger, commissioner, status_of, FABRIC
from test_im_messages import CHIP_TOOL_SET_REGULATORY_CONFIG
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.acl import Entry, CASE, OPERATE
from micromatter.im.paths import CommandPath


def invoke(engine, ep, cl, cmd, fields=None, subject=None, exchange="i", now=0, ref=None, **kw):
    req = msg.InvokeRequest([msg.CommandData(CommandPath(ep, cl, cmd), fields, ref)], **kw)
    reply = send(engine, msg.INVOKE_REQUEST, req, subject, exchange, now)
    if reply is None:
        return None
    assert reply.opcode == msg.INVOKE_RESPONSE, reply.opcode
    (r,) = msg.decode_invoke_response(reply.payload).responses
    return r


def code(r):
    assert isinstance(r, msg.CommandStatus), r
    return r.status


def test_toggle_on_off():
    light, engine = setup()
    seen = []
    light.on_off.on_change = seen.append
    r = invoke(engine, 1, 6, 2, ref=7)
    assert code(r) == status.SUCCESS and r.path == CommandPath(1, 6, 2) and r.ref == 7
    assert light.on_off.on_off is True
    assert code(invoke(engine, 1, 6, 2)) == status.SUCCESS
    assert light.on_off.on_off is False and seen == [True, False]
    assert code(invoke(engine, 1, 6, 1, {})) == status.SUCCESS and light.on_off.on_off
    assert code(invoke(engine, 1, 6, 0)) == status.SUCCESS and not light.on_off.on_off


def test_chip_tool_set_regulatory_config_gets_the_expected_response_bytes():
    light, engine = setup()
    reply = engine.on_request("x", commissioner(), msg.INVOKE_REQUEST, CHIP_TOOL_SET_REGULATORY_CONFIG, 0)
    assert reply.payload == unhex(
        "15 28 00 36 01 15 35 00 37 00 24 00 00 24 01 30 24 02 03 18 35 01 24 00 00 2c 01 00 18 18 18 18"
        "24 ff 0b 18"
    )
    gc = light.general_commissioning
    assert gc.regulatory_config == 0 and gc.country_code == "WW" and gc.breadcrumb == 3


def test_command_path_statuses():
    light, engine = setup()
    assert code(invoke(engine, 9, 6, 2)) == status.UNSUPPORTED_ENDPOINT
    assert code(invoke(engine, 1, 8, 2)) == status.UNSUPPORTED_CLUSTER
    assert code(invoke(engine, 1, 6, 0x30)) == status.UNSUPPORTED_COMMAND
    assert code(invoke(engine, 0, 0x31, 0)) == status.UNSUPPORTED_COMMAND  # Ethernet: no commands


def test_invalid_command_fields():
    light, engine = setup()
    assert code(invoke(engine, 1, 3, 0, {})) == status.INVALID_COMMAND  # IdentifyTime missing
    assert code(invoke(engine, 1, 3, 0, {0: "ten"})) == status.INVALID_COMMAND  # wrong type
    assert code(invoke(engine, 1, 3, 0, None)) == status.INVALID_COMMAND  # no fields at all
    assert code(invoke(engine, 1, 3, 0, 5)) == status.INVALID_COMMAND  # fields not a structure
    assert code(invoke(engine, 1, 3, 0, {0: 70000})) == status.CONSTRAINT_ERROR  # beyond uint16
    assert code(invoke(engine, 1, 6, 0x42, {0: 0xFE, 1: 10, 2: 10})) == status.CONSTRAINT_ERROR
    assert not light.on_off.on_off
    assert code(invoke(engine, 1, 3, 0, {0: 10, 9: "extra"})) == status.SUCCESS  # unknown fields are ignored


def test_access_control_on_invokes():
    light, engine = setup()
    assert code(invoke(engine, 1, 6, 2, subject=stranger())) == status.UNSUPPORTED_ACCESS
    assert light.on_off.on_off is False
    light.acl.add(Entry(FABRIC, OPERATE, CASE, (0x99,), ((6, 1, None),)))
    assert code(invoke(engine, 1, 6, 2, subject=stranger())) == status.SUCCESS
    assert light.on_off.on_off is True
    # Identify needs Manage.
    assert code(invoke(engine, 1, 3, 0, {0: 5}, subject=stranger())) == status.UNSUPPORTED_ACCESS
    # Fabric-scoped commands need a fabric: a commissioner over PASE has none.
    ks = {0: 1, 1: 0, 2: b"k" * 16, 3: 1, 4: None, 5: None, 6: None, 7: None}
    assert code(invoke(engine, 0, 0x3F, 0, {0: ks}, subject=commissioner())) == status.UNSUPPORTED_ACCESS
    assert code(invoke(engine, 0, 0x3F, 0, {0: ks})) == status.SUCCESS


def test_command_with_response():
    light, engine = setup()
    r = invoke(engine, 0, 0x30, 0, {0: 60, 1: 5}, ref=3)
    assert isinstance(r, msg.CommandData) and r.path == CommandPath(0, 0x30, 1) and r.ref == 3
    assert r.value() == {0: 0, 1: ""}
    assert light.failsafe.armed and light.general_commissioning.breadcrumb == 5


def test_timed_invoke():
    light, engine = setup()
    fields = {0: 300, 1: b"v" * 97, 2: 0xF00, 3: 1000, 4: b"s" * 16}
    assert code(invoke(engine, 0, 0x3C, 0, fields)) == status.NEEDS_TIMED_INTERACTION
    assert light.admin_commissioning.window_status == 0
    assert status_of(send(engine, msg.TIMED_REQUEST, msg.TimedRequest(1000), exchange="t", now=10)) == 0
    r = invoke(engine, 0, 0x3C, 0, {0: 300, 1: b"v" * 96, 2: 0xF00, 3: 1000, 4: b"s" * 16}, exchange="t",
               now=20, timed_request=True)
    assert code(r) == status.FAILURE and r.cluster_status == 3  # PAKEParameterError: bad verifier length
    opened = []
    light.admin_commissioning.on_open = lambda *a: opened.append(a)
    send(engine, msg.TIMED_REQUEST, msg.TimedRequest(1000), exchange="t", now=30)
    r = invoke(engine, 0, 0x3C, 0, fields, exchange="t", now=40, timed_request=True)
    assert code(r) == status.SUCCESS and len(opened) == 1
    assert light.admin_commissioning.window_status == 1 and light.admin_commissioning.admin_fabric_index == 1
    # Timed flag without a TimedRequest.
    reply = send(engine, msg.INVOKE_REQUEST, msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None)], True))
    assert status_of(reply) == status.TIMED_REQUEST_MISMATCH
    # A timed invoke of a command that does not need it is fine.
    send(engine, msg.TIMED_REQUEST, msg.TimedRequest(1000), exchange="u")
    assert code(invoke(engine, 1, 6, 2, exchange="u", timed_request=True)) == status.SUCCESS


def test_invoke_request_shapes():
    light, engine = setup()
    two = msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None), msg.CommandData(CommandPath(1, 6, 2), None)])
    assert status_of(send(engine, msg.INVOKE_REQUEST, two)) == status.INVALID_ACTION
    wildcard = msg.InvokeRequest([msg.CommandData(CommandPath(None, 6, 2), None)])
    assert status_of(send(engine, msg.INVOKE_REQUEST, wildcard)) == status.INVALID_ACTION
    assert status_of(send(engine, msg.INVOKE_REQUEST, b"\x15\x18")) == status.INVALID_ACTION
    assert light.on_off.on_off is False
    assert invoke(engine, 1, 6, 2, suppress_response=True) is None
    assert light.on_off.on_off is True


def test_a_failing_handler_becomes_a_failure_status():
    light, engine = setup()

    def broken(on):
        raise RuntimeError("LED driver fault")

    light.on_off.on_change = broken
    assert status_of(send(engine, msg.INVOKE_REQUEST, msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None)]))) == (
        status.FAILURE
    )


def test_group_messages_are_neither_served_nor_answered():
    from micromatter.im.acl import Subject, GROUP

    light, engine = setup()
    light.acl.add(Entry(FABRIC, OPERATE, GROUP, (0x0101,)))
    group = Subject(GROUP, FABRIC, 0x0101)
    req = msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None)], suppress_response=True)
    assert send(engine, msg.INVOKE_REQUEST, req, group) is None
    assert light.on_off.on_off is False
