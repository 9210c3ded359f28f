"""Schema descriptors (datamodel.model, datamodel.types): every value they are built with reads back, defaults
included (defaults live on the classes; an instance keeps only what differs)."""

from micromatter.datamodel import model as M
from micromatter.datamodel import types as T
from micromatter.im.acl import ADMINISTER, MANAGE, OPERATE, VIEW


def test_attr_values_and_defaults():
    a = M.Attr(5, "level", T.UINT8)
    assert (a.id, a.name, a.type, a.flags, a.read, a.write, a.limits) == (5, "level", T.UINT8, 0, VIEW, OPERATE, None)
    assert not a.is_list
    b = M.Attr(6, "acl", T.List(T.UINT8), M.WRITABLE | M.FABRIC_SCOPED, read=ADMINISTER, write=ADMINISTER,
               limits=(0, 4))
    assert (b.flags, b.read, b.write, b.limits) == (M.WRITABLE | M.FABRIC_SCOPED, ADMINISTER, ADMINISTER, (0, 4))
    assert b.is_list
    # values equal to the defaults, given explicitly, read the same; one object never changes another
    c = M.Attr(7, "x", T.BOOL, 0, read=VIEW, write=OPERATE, limits=None)
    assert (c.flags, c.read, c.write, c.limits) == (0, VIEW, OPERATE, None)
    assert (a.flags, a.read, a.limits) == (0, VIEW, None)


def test_cmd_values_and_defaults():
    c = M.Cmd(1, "cmd_toggle")
    assert (c.id, c.name, c.request, c.response_id, c.response, c.invoke, c.flags) == (
        1, "cmd_toggle", T.EMPTY, None, None, OPERATE, 0)
    request = T.Struct((T.Field(0, T.UINT16),))
    response = T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.UTF8, T.OPTIONAL, (0, 128))))
    d = M.Cmd(2, "cmd_arm", request, 3, response, invoke=MANAGE, flags=M.TIMED | M.FABRIC_COMMAND)
    assert (d.request, d.response_id, d.response, d.invoke, d.flags) == (
        request, 3, response, MANAGE, M.TIMED | M.FABRIC_COMMAND)
    assert c.request is T.EMPTY and c.response is None


def test_field_values_and_defaults():
    f = T.Field(3, T.OCTETS)
    assert (f.tag, f.type, f.flags, f.limits) == (3, T.OCTETS, 0, None)
    g = T.Field(4, T.UTF8, T.OPTIONAL | T.NULLABLE, (1, 32))
    assert (g.tag, g.type, g.flags, g.limits) == (4, T.UTF8, T.OPTIONAL | T.NULLABLE, (1, 32))
    s = T.Struct((f, g), fabric_scoped=True)
    assert s.fields[:2] == (f, g) and s.fields[2].tag == T.FABRIC_INDEX_TAG and s.fabric_scoped
