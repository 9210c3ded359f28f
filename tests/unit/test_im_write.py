"""Write interactions through the engine: statuses, constraints, list writes, timed writes, access control."""

from test_im_helpers import setup, send, admin, stranger, commissioner, status_of, make_light, FABRIC
from micromatter.storage import MemoryStorage
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.acl import Entry, CASE, OPERATE, MANAGE
from micromatter.im.engine import Engine
from micromatter.im.paths import AttributePath, APPEND
from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, WRITABLE, TIMED_WRITE
from micromatter.datamodel.node import Endpoint


def write(engine, writes, subject=None, exchange="w", now=0, **kw):
    reply = send(engine, msg.WRITE_REQUEST, msg.WriteRequest(writes, **kw), subject, exchange, now)
    if reply is None:
        return None
    assert reply.opcode == msg.WRITE_RESPONSE, reply.opcode
    return [s.status for s in msg.decode_write_response(reply.payload).statuses]


def data(ep, cl, at, value, **kw):
    return msg.AttributeData(AttributePath(ep, cl, at, list_index=kw.pop("list_index", -1)), value, **kw)


def test_write_node_label_is_stored_persisted_and_versioned():
    storage = MemoryStorage()
    light, engine = setup(storage=storage)
    basic = light.basic
    version = basic.data_version
    assert write(engine, [data(0, 0x28, 5, "kitchen")]) == [status.SUCCESS]
    assert basic.node_label == "kitchen" and basic.data_version == version + 1
    again = make_light(storage)
    assert again.basic.node_label == "kitchen"


def test_write_statuses():
    light, engine = setup()
    codes = write(
        engine,
        [
            data(0, 0x28, 5, "x" * 33),  # longer than 32
            data(0, 0x28, 5, 7),  # not a string
            data(0, 0x28, 1, "vendor"),  # read-only
            data(0, 0x28, 6, "USA"),  # location is 2 characters
            data(9, 0x28, 5, "a"),
            data(0, 0x99, 5, "a"),
            data(0, 0x28, 0x99, "a"),
            msg.AttributeData(AttributePath(None, 0x28, 5), "a"),  # wildcard
            data(0, 0x28, 5, "b", data_version=light.basic.data_version + 5),
            data(1, 6, 0x4003, 3),  # StartUpOnOff beyond its enum
            data(0, 0x28, 5, "ok", list_index=APPEND),  # not a list
        ],
    )
    assert codes == [
        status.CONSTRAINT_ERROR,
        status.CONSTRAINT_ERROR,
        status.UNSUPPORTED_WRITE,
        status.CONSTRAINT_ERROR,
        status.UNSUPPORTED_ENDPOINT,
        status.UNSUPPORTED_CLUSTER,
        status.UNSUPPORTED_ATTRIBUTE,
        status.INVALID_ACTION,
        status.DATA_VERSION_MISMATCH,
        status.CONSTRAINT_ERROR,
        status.INVALID_ACTION,
    ]
    assert light.basic.node_label == "" and light.on_off.start_up_on_off is None


def test_matching_data_version_and_nullable_writes():
    light, engine = setup()
    v = light.on_off.data_version
    assert write(engine, [data(1, 6, 0x4003, 2, data_version=v)]) == [status.SUCCESS]
    assert light.on_off.start_up_on_off == 2
    assert write(engine, [data(1, 6, 0x4003, None)]) == [status.SUCCESS]
    assert light.on_off.start_up_on_off is None
    assert write(engine, [data(0, 0x28, 5, None)]) == [status.CONSTRAINT_ERROR]  # not nullable


def test_denied_writes_change_nothing():
    light, engine = setup()
    version = light.basic.data_version
    assert write(engine, [data(0, 0x28, 5, "x")], stranger()) == [status.UNSUPPORTED_ACCESS]
    assert light.basic.node_label == "" and light.basic.data_version == version
    # Operate is not enough for NodeLabel (Manage), Manage is not enough for Location (Administer).
    light.acl.add(Entry(FABRIC, OPERATE, CASE, (0x99,)))
    assert write(engine, [data(0, 0x28, 5, "x")], stranger()) == [status.UNSUPPORTED_ACCESS]
    assert write(engine, [data(1, 6, 0x4001, 5)], stranger()) == [status.SUCCESS]  # OnTime: Operate
    light.acl.add(Entry(FABRIC, MANAGE, CASE, (0x99,)))
    assert write(engine, [data(0, 0x28, 5, "x"), data(0, 0x28, 6, "FR")], stranger()) == [
        status.SUCCESS,
        status.UNSUPPORTED_ACCESS,
    ]
    assert light.basic.location == "XX"


def _acl_entry(privilege, subjects, targets=None):
    return {1: privilege, 2: CASE, 3: subjects, 4: targets, 254: 0}


def test_acl_list_write_replace_then_append_and_persist():
    storage = MemoryStorage()
    light, engine = setup(storage=storage)
    codes = write(
        engine,
        [
            data(0, 0x1F, 0, [_acl_entry(5, [0x1122])]),
            data(0, 0x1F, 0, _acl_entry(3, [0x99], [{0: 6, 1: 1, 2: None}]), list_index=APPEND),
        ],
    )
    assert codes == [status.SUCCESS, status.SUCCESS]
    entries = light.acl.entries(FABRIC)
    assert entries == [Entry(1, 5, CASE, (0x1122,)), Entry(1, 3, CASE, (0x99,), ((6, 1, None),))]
    again = make_light(storage, with_admin=False)
    assert again.acl.entries() == entries
    # The grant works at once.
    assert light.acl.check(stranger(), 1, 6, OPERATE)


def test_acl_writes_are_validated_and_fabric_scoped():
    light, engine = setup()
    before = light.acl.entries()
    bad = [_acl_entry(5, [0x1122]), {1: 5, 2: 1, 3: None, 4: None}]  # a PASE entry
    assert write(engine, [data(0, 0x1F, 0, bad)]) == [status.CONSTRAINT_ERROR]
    assert write(engine, [data(0, 0x1F, 0, [{1: 5}])]) == [status.CONSTRAINT_ERROR]  # missing fields
    assert light.acl.entries() == before
    # Without a fabric (a PASE session before AddNOC) a fabric-scoped list cannot be written.
    assert write(engine, [data(0, 0x1F, 0, [])], commissioner()) == [status.UNSUPPORTED_ACCESS]
    assert light.acl.entries() == before
    # The FabricIndex written is ignored: entries land on the writer's fabric.
    light.acl.add(Entry(2, 1, CASE))
    entry = _acl_entry(5, [0x1122])
    entry[254] = 2
    assert write(engine, [data(0, 0x1F, 0, [entry])]) == [status.SUCCESS]
    assert light.acl.entries(2) == [Entry(2, 1, CASE)]


class _Locked(Cluster):
    """A test cluster with an attribute that needs a timed write."""

    ID = 0xFFF1FC01
    ATTRIBUTES = (Attr(0, "code", T.UINT32, WRITABLE | TIMED_WRITE),)

    def __init__(self):
        Cluster.__init__(self)
        self.code = 0


def _locked_setup():
    light = make_light()
    light.node.add(Endpoint(2, ((0x000A, 1),)).add(_Locked()))
    return light, Engine(light.node, light.acl)


def test_timed_write():
    light, engine = _locked_setup()
    locked = light.node.cluster(2, 0xFFF1FC01)
    assert write(engine, [data(2, 0xFFF1FC01, 0, 42)]) == [status.NEEDS_TIMED_INTERACTION]
    assert status_of(send(engine, msg.TIMED_REQUEST, msg.TimedRequest(500), exchange="t", now=1000)) == 0
    assert write(engine, [data(2, 0xFFF1FC01, 0, 42)], exchange="t", now=1400, timed_request=True) == [0]
    assert locked.code == 42
    # Too late: the timed window closed.
    send(engine, msg.TIMED_REQUEST, msg.TimedRequest(500), exchange="t", now=2000)
    reply = send(engine, msg.WRITE_REQUEST, msg.WriteRequest([data(2, 0xFFF1FC01, 0, 1)], True), exchange="t", now=2600)
    assert status_of(reply) == status.TIMEOUT and locked.code == 42
    # The flag and the TimedRequest must agree.
    reply = send(engine, msg.WRITE_REQUEST, msg.WriteRequest([data(2, 0xFFF1FC01, 0, 1)], True), exchange="u")
    assert status_of(reply) == status.TIMED_REQUEST_MISMATCH
    send(engine, msg.TIMED_REQUEST, msg.TimedRequest(500), exchange="v")
    reply = send(engine, msg.WRITE_REQUEST, msg.WriteRequest([data(2, 0xFFF1FC01, 0, 1)], False), exchange="v")
    assert status_of(reply) == status.TIMED_REQUEST_MISMATCH
    assert locked.code == 42
    # Only a write or an invoke may follow a TimedRequest.
    send(engine, msg.TIMED_REQUEST, msg.TimedRequest(500), exchange="w2")
    assert status_of(send(engine, msg.READ_REQUEST, msg.ReadRequest([AttributePath()]), exchange="w2")) == (
        status.INVALID_ACTION
    )


def test_suppressed_and_chunked_writes():
    light, engine = setup()
    assert write(engine, [data(0, 0x28, 5, "quiet")], suppress_response=True) is None
    assert light.basic.node_label == "quiet"
    reply = send(engine, msg.WRITE_REQUEST, msg.WriteRequest([data(0, 0x1F, 0, [])], more_chunks=True), exchange="c")
    assert reply.expect_reply and light.acl.entries() == []
    codes = write(engine, [data(0, 0x1F, 0, _acl_entry(5, [0x1122]), list_index=APPEND)], exchange="c",
                  subject=commissioner())
    # The second chunk rides on the first one's exchange; a commissioner has no fabric, so it is refused.
    assert codes == [status.UNSUPPORTED_ACCESS]


def test_malformed_writes():
    light, engine = setup()
    for payload in (b"", b"\x15\x18", b"\x15\x36\x02\x15\x18\x18\x18", b"\x15\x28\x01\x36\x02\x18"):
        assert status_of(send(engine, msg.WRITE_REQUEST, payload)) in (status.INVALID_ACTION,
                                                                        status.TIMED_REQUEST_MISMATCH)
    assert light.basic.node_label == ""


def test_appends_after_a_replace_all_carry_the_version_from_before_it():
    light, engine = setup()
    acl = light.node.cluster(0, 0x1F)
    v = acl.data_version
    admin_entry = _acl_entry(5, [0x1122])
    codes = write(
        engine,
        [
            data(0, 0x1F, 0, [admin_entry], data_version=v),
            data(0, 0x1F, 0, _acl_entry(1, [0x55]), list_index=APPEND, data_version=v),
        ],
        exchange="dv",
        more_chunks=True,
    )
    assert codes == [0, 0]
    # The next chunk of the same write still continues that list.
    codes = write(engine, [data(0, 0x1F, 0, _acl_entry(1, [0x56]), list_index=APPEND, data_version=v)], exchange="dv")
    assert codes == [0] and len(light.acl.entries(FABRIC)) == 3
    # A new write with the old version is stale.
    codes = write(engine, [data(0, 0x1F, 0, _acl_entry(1, [0x57]), list_index=APPEND, data_version=v)])
    assert codes == [status.DATA_VERSION_MISMATCH]
