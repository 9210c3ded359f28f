"""Root-node clusters: Basic Information, Descriptor, Identify, Access Control persistence, Group Key
Management, Network Commissioning, and the Operational Credentials / Administrator Commissioning shells."""

from support import raises
from test_im_helpers import setup, make_light, admin, commissioner, read_all, values, FABRIC
from test_im_invoke import invoke, code
from test_im_write import write, data
from micromatter.storage import MemoryStorage
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.engine import Engine
from micromatter.im.paths import AttributePath
from micromatter.im.acl import Entry, CASE, VIEW
from micromatter.clusters.light import build_light
from micromatter.clusters import network_commissioning as ncm
from micromatter.clusters.operational_credentials import OperationalCredentialsDelegate
from micromatter.datamodel import codec


def test_basic_information_values():
    light, engine = setup()
    v = values(read_all(engine, msg.ReadRequest([AttributePath(0, 0x28, None)])))
    assert v[(0, 0x28, 0)] == 17 and v[(0, 0x28, 0x15)] == 0x01030000
    assert v[(0, 0x28, 2)] == 0xFFF1 and v[(0, 0x28, 4)] == 0x8000
    assert v[(0, 0x28, 0x13)] == {0: 3, 1: 3}
    assert v[(0, 0x28, 0x16)] == 1
    assert v[(0, 0x28, 6)] == "XX"


def test_location_is_persisted():
    storage = MemoryStorage()
    light, engine = setup(storage=storage)
    assert write(engine, [data(0, 0x28, 6, "FR")]) == [0]
    assert make_light(storage).basic.location == "FR"


def test_a_corrupt_persisted_value_falls_back_to_the_default():
    storage = MemoryStorage()
    light, engine = setup(storage=storage)
    write(engine, [data(0, 0x28, 5, "label")])
    storage.set("a0_28_5", b"\x15\x15")
    assert make_light(storage).basic.node_label == ""
    storage.set("a0_28_5", b"\x24\x00\x01")  # an int where a string belongs
    assert make_light(storage).basic.node_label == ""


def test_identify_counts_down():
    light, engine = setup()
    calls = []
    light.identify.on_identify = calls.append
    assert code(invoke(engine, 1, 3, 0, {0: 3}, now=1000)) == 0
    v = values(read_all(engine, msg.ReadRequest([AttributePath(1, 3, 0)]), now=1500))
    assert v[(1, 3, 0)] == 3
    v = values(read_all(engine, msg.ReadRequest([AttributePath(1, 3, 0)]), now=3100))
    assert v[(1, 3, 0)] == 1
    assert engine.next_deadline() == 4000
    engine.poll(4000)
    assert calls == [3, 0] and light.identify.remaining(4000) == 0
    assert write(engine, [data(1, 3, 0, 10)], now=5000) == [0]
    assert light.identify.remaining(5000) == 10 and calls[-1] == 10
    assert code(invoke(engine, 1, 3, 0x40, {0: 5, 1: 0})) == status.CONSTRAINT_ERROR
    effects = []
    light.identify.on_effect = lambda e, v: effects.append((e, v))
    assert code(invoke(engine, 1, 3, 0x40, {0: 1, 1: 0})) == 0 and effects == [(1, 0)]


def test_acl_records_survive_and_corrupt_ones_are_dropped():
    storage = MemoryStorage()
    light = make_light(storage)
    light.acl.add(Entry(2, VIEW, CASE, (0x55,)))
    storage.set("acl3", b"\x16\x15\x24\x01\x09\x18\x18")  # a bad privilege
    again = build_light(storage=storage)
    assert again.acl.entries(1) == light.acl.entries(1) and again.acl.entries(2) == light.acl.entries(2)
    assert again.acl.entries(3) == [] and "acl3" not in storage.keys()
    light.acl.remove_fabric(2)
    assert "acl2" not in storage.keys()


def _key_set(ks_id, key=b"\x01" * 16, start=1, extra=None):
    ks = {0: ks_id, 1: 0, 2: key, 3: start, 4: None, 5: None, 6: None, 7: None}
    ks.update(extra or {})
    return {0: ks}


def test_group_key_sets():
    storage = MemoryStorage()
    light, engine = setup(storage=storage)
    keys = light.group_keys
    keys.set_ipk(FABRIC, b"\x11" * 16)
    assert keys.ipk(FABRIC) == b"\x11" * 16 and keys.ipk(2) is None
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(5))) == 0
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(6, key=b"\x01" * 15))) == status.CONSTRAINT_ERROR
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(6, key=None))) == status.INVALID_COMMAND
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(6, extra={4: b"\x02" * 16}))) == status.INVALID_COMMAND
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(6, extra={6: b"\x02" * 16, 7: 5}))) == status.INVALID_COMMAND
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(6, extra={4: b"\x02" * 16, 5: 1}))) == status.INVALID_COMMAND
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(6, extra={1: 1}))) == status.CONSTRAINT_ERROR
    r = invoke(engine, 0, 0x3F, 1, {0: 5})
    got = r.value()[0]
    assert got[0] == 5 and got[2] is None and got[3] == 1  # keys never leave the node
    assert invoke(engine, 0, 0x3F, 4, {}).value() == {0: [0, 5]}
    assert code(invoke(engine, 0, 0x3F, 1, {0: 9})) == status.NOT_FOUND
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(7))) == 0
    assert code(invoke(engine, 0, 0x3F, 0, _key_set(8))) == status.RESOURCE_EXHAUSTED  # IPK + 2 per fabric
    # The group key map must name key sets of the fabric, never the IPK.
    assert write(engine, [data(0, 0x3F, 0, [{1: 0x0101, 2: 5, 254: 0}])]) == [0]
    assert write(engine, [data(0, 0x3F, 0, [{1: 0x0102, 2: 0, 254: 0}])]) == [status.CONSTRAINT_ERROR]
    assert write(engine, [data(0, 0x3F, 0, [{1: 0x0102, 2: 9, 254: 0}])]) == [status.NOT_FOUND]
    assert code(invoke(engine, 0, 0x3F, 3, {0: 0})) == status.INVALID_COMMAND
    assert code(invoke(engine, 0, 0x3F, 3, {0: 5})) == 0
    assert keys.group_key_map == []  # the mapping went with its key set
    again = make_light(storage)
    assert again.group_keys.ipk(FABRIC) == b"\x11" * 16
    assert [ks[0] for ks in again.group_keys.key_sets(FABRIC)] == [0, 7]
    keys.remove_fabric(FABRIC)
    assert keys.ipk(FABRIC) is None and make_light(storage).group_keys.key_sets(FABRIC) == []


def test_ethernet_network_commissioning():
    light, engine = setup()
    v = values(read_all(engine, msg.ReadRequest([AttributePath(0, 0x31, None)])))
    assert v[(0, 0x31, 0xFFFC)] == ncm.FEATURE_ETHERNET
    assert v[(0, 0x31, 1)] == [{0: b"eth0", 1: True}] and v[(0, 0x31, 0)] == 1
    assert v[(0, 0x31, 5)] is None and v[(0, 0x31, 0xFFF9)] == []


def test_wifi_network_commissioning_statuses():
    light = build_light(wifi_ssid=b"home")
    light.acl.add_admin(FABRIC, 0x1122)
    engine = Engine(light.node, light.acl)
    assert light.network.FEATURES == ncm.FEATURE_WIFI
    assert code(invoke(engine, 0, 0x31, 2, {0: b"home", 1: b"secret"})) == status.FAILSAFE_REQUIRED
    assert invoke(engine, 0, 0x31, 0, {}).value()[0] == ncm.UNKNOWN_ERROR  # no scan while connected
    invoke(engine, 0, 0x30, 0, {0: 60, 1: 0})
    r = invoke(engine, 0, 0x31, 2, {0: b"home", 1: b"secret", 2: 4})
    assert r.path.command == 5 and r.value() == {0: ncm.SUCCESS, 2: 0}
    assert light.general_commissioning.breadcrumb == 4
    assert invoke(engine, 0, 0x31, 2, {0: b"other", 1: b"x"}).value()[0] == ncm.BOUNDS_EXCEEDED
    assert invoke(engine, 0, 0x31, 6, {0: b"other"}).value()[0] == ncm.NETWORK_ID_NOT_FOUND
    assert invoke(engine, 0, 0x31, 6, {0: b"home"}).value() == {0: ncm.SUCCESS, 2: None}
    assert invoke(engine, 0, 0x31, 8, {0: b"home", 1: 1}).value()[0] == ncm.OUT_OF_RANGE
    assert invoke(engine, 0, 0x31, 4, {0: b"home"}).value()[0] == ncm.SUCCESS
    assert light.network.networks == []
    invoke(engine, 0, 0x30, 0, {0: 0, 1: 0})  # disarm: the removal is rolled back
    assert light.network.networks == [{0: b"home", 1: True}]


class _Credentials(OperationalCredentialsDelegate):
    def __init__(self):
        self.calls = []

    def fabrics(self):
        return [{1: b"\x04" * 65, 2: 0xFFF1, 3: 1, 4: 0x1122, 5: "home", 254: 1},
                {1: b"\x04" * 65, 2: 0xFFF2, 3: 9, 4: 0x77, 5: "other", 254: 2}]

    def cmd_add_noc(self, fields, ctx):
        self.calls.append(fields)
        return {0: 0, 1: 3}


def test_operational_credentials_shell():
    light, engine = setup()
    r = invoke(engine, 0, 0x3E, 0, {0: b"n" * 32}, subject=commissioner())
    assert code(r) == status.FAILURE  # no delegate yet
    # The nonce's length is the delegate's to judge (INVALID_COMMAND there): the shell sets no limits on it.
    assert code(invoke(engine, 0, 0x3E, 0, {0: b"n" * 31}, subject=commissioner())) == status.FAILURE
    delegate = _Credentials()
    light.credentials.delegate = delegate
    fields = {0: b"noc", 2: b"i" * 16, 3: 0x1122, 4: 0xFFF1}
    r = invoke(engine, 0, 0x3E, 6, fields, subject=commissioner())
    assert r.path.command == 8 and r.value() == {0: 0, 1: 3}
    assert delegate.calls == [fields]
    assert code(invoke(engine, 0, 0x3E, 6, {0: b"noc", 2: b"i" * 15, 3: 1, 4: 1})) == status.CONSTRAINT_ERROR
    v = values(read_all(engine, msg.ReadRequest([AttributePath(0, 0x3E, None)])))
    assert [f[254] for f in v[(0, 0x3E, 1)]] == [1]  # fabric-filtered
    assert v[(0, 0x3E, 3)] == 2 and v[(0, 0x3E, 5)] == 1 and v[(0, 0x3E, 2)] == 5
    assert v[(0, 0x3E, 0xFFF9)] == [0, 2, 4, 6, 7, 9, 10, 11] and v[(0, 0x3E, 0xFFF8)] == [1, 3, 5, 8]


def test_administrator_commissioning_revoke():
    light, engine = setup()
    from test_im_helpers import send

    send(engine, msg.TIMED_REQUEST, msg.TimedRequest(1000), exchange="t")
    r = invoke(engine, 0, 0x3C, 2, exchange="t", timed_request=True)
    assert code(r) == status.FAILURE and r.cluster_status == 4  # WindowNotOpen
    revoked = []
    light.admin_commissioning.on_revoke = lambda: revoked.append(1)
    light.admin_commissioning._set(1, 1, 0xFFF1)
    send(engine, msg.TIMED_REQUEST, msg.TimedRequest(1000), exchange="t")
    assert code(invoke(engine, 0, 0x3C, 2, exchange="t", timed_request=True)) == 0
    assert revoked == [1] and light.admin_commissioning.window_status == 0


def test_codec_rejects_what_a_type_does_not_allow():
    from micromatter.datamodel import types as T
    from micromatter.im.status import StatusError

    assert codec.decode_value(T.List(T.UINT8), codec.encode_value(T.List(T.UINT8), [1, 2])) == [1, 2]
    e = raises(StatusError, codec.decode_value, T.UINT8, b"\x05\x00\x01")
    assert e.status == status.CONSTRAINT_ERROR  # 256 does not fit a uint8
    e = raises(StatusError, codec.decode_value, T.List(T.UINT8, max_items=1), b"\x16\x04\x01\x04\x02\x18")
    assert e.status == status.RESOURCE_EXHAUSTED
    e = raises(StatusError, codec.decode_value, T.UTF8, b"\x0c\x02\xc3\x28")
    assert e.status == status.INVALID_DATA_TYPE  # invalid UTF-8
    e = raises(StatusError, codec.decode_value, T.Struct((T.Field(0, T.BOOL),)), b"\x15\x28\x00\x29\x00\x18")
    assert e.status == status.INVALID_DATA_TYPE  # a duplicated member


def test_removing_a_fabric_drops_its_state():
    storage = MemoryStorage()
    light, engine = setup(storage=storage)
    light.group_keys.set_ipk(FABRIC, b"\x22" * 16)
    from test_im_subscribe import subscribe

    subscribe(engine, [AttributePath(1, 6, 0)])
    light.remove_fabric(FABRIC)
    engine.remove_fabric(FABRIC)
    assert light.acl.entries() == [] and light.group_keys.ipk(FABRIC) is None and engine.subscriptions == []
    again = make_light(storage, with_admin=False)
    assert again.acl.entries() == [] and again.group_keys.ipk(FABRIC) is None
