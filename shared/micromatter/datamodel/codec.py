"""Typed TLV encoding and decoding of data model values (attributes, command fields, stored records).

Decoding checks every value against its declared type and limits: a wrong
TLV type or a missing mandatory field raises ``StatusError(INVALID_DATA_TYPE)``,
an out-of-range value ``StatusError(CONSTRAINT_ERROR)``; callers map these to
the status their interaction uses (INVALID_COMMAND for commands).  Unknown
structure members are skipped, as the spec asks for forward compatibility.
"""

from micromatter import tlv
from micromatter.errors import TlvError
from micromatter.datamodel import types as T
from micromatter.im import status
from micromatter.im.status import StatusError


def _type_error():
    return StatusError(status.INVALID_DATA_TYPE)


def _constraint_error():
    return StatusError(status.CONSTRAINT_ERROR)


# --- encoding ---------------------------------------------------------------


def encode(w, tag, t, value, hide_sensitive=False):
    """Write ``value`` of type ``t`` under ``tag`` with a ``tlv.TlvWriter``.  None is null."""
    if value is None:
        w.null(tag)
    elif isinstance(t, int):
        if t == T.BOOL:
            w.bool(tag, value)
        elif t <= T.UINT64:
            w.uint(tag, value)
        elif t <= T.INT64:
            w.int(tag, value)
        elif t == T.UTF8:
            w.str(tag, value)
        elif t == T.OCTETS:
            w.bytes(tag, value)
        elif t == T.FLOAT:
            w.float32(tag, value)
        elif t == T.DOUBLE:
            w.float64(tag, value)
        else:
            w.put(tag, value)
    elif isinstance(t, T.List):
        w.start_array(tag)
        element = t.element
        for item in value:
            encode(w, None, element, item)
        w.end_container()
    else:
        encode_struct(w, tag, t, value, hide_sensitive)


def encode_struct(w, tag, t, value, hide_sensitive=False):
    w.start_struct(tag)
    for f in t.fields:
        if hide_sensitive and f.flags & T.SENSITIVE:
            continue
        if f.tag in value:
            encode(w, f.tag, f.type, value[f.tag])
        elif not f.flags & T.OPTIONAL:
            w.null(f.tag)
    w.end_container()


def encode_value(t, value, nullable=False, w=None):
    """The anonymous TLV bytes of one value (stored records, tests); ``w``: a growing writer to reuse."""
    if w is None:
        w = tlv.TlvWriter()
    else:
        w.rewind(w.start, 0)
    encode(w, None, t, value)
    return w.getvalue()


# --- decoding ---------------------------------------------------------------


def _check_limits(limits, n):
    if limits is not None and not limits[0] <= n <= limits[1]:
        raise _constraint_error()


def decode(r, t, nullable=False, limits=None):
    """The value of type ``t`` at the reader's current element (consumed whole)."""
    kind = r.type
    if kind == tlv.NULL:
        if not nullable:
            raise _type_error()
        return None
    if isinstance(t, int):
        if t == T.BOOL:
            if kind != tlv.BOOL:
                raise _type_error()
            return r.value
        if t <= T.INT64:
            if kind != tlv.UINT and kind != tlv.INT:
                raise _type_error()
            v = r.value
            lo, hi = T.INT_RANGES[t]
            if not lo <= v <= hi:
                raise _constraint_error()
            _check_limits(limits, v)
            return v
        if t == T.UTF8:
            if kind != tlv.UTF8:
                raise _type_error()
            _check_limits(limits, r.length)
            return r.str()
        if t == T.OCTETS:
            if kind != tlv.BYTES:
                raise _type_error()
            _check_limits(limits, r.length)
            return bytes(r.bytes())
        if t == T.FLOAT or t == T.DOUBLE:
            if kind != tlv.FLOAT:
                raise _type_error()
            return r.value
        raise _type_error()
    if isinstance(t, T.List):
        if kind != tlv.ARRAY and kind != tlv.LIST:
            raise _type_error()
        out = []
        r.enter()
        element = t.element
        while r.next():
            if t.max_items is not None and len(out) >= t.max_items:
                raise StatusError(status.RESOURCE_EXHAUSTED)
            out.append(decode(r, element))
        r.exit()
        _check_limits(limits, len(out))
        return out
    return decode_struct(r, t)


def decode_struct(r, t):
    if r.type != tlv.STRUCT:
        raise _type_error()
    out = {}
    r.enter()
    while r.next():
        tag = r.tag
        for f in t.fields:
            if f.tag == tag:
                if tag in out:
                    raise _type_error()
                out[tag] = decode(r, f.type, f.flags & T.NULLABLE, f.limits)
                break
        else:
            if r.type >= tlv.STRUCT:
                r.enter()
                r.exit()
    r.exit()
    for f in t.fields:
        if f.tag not in out and not f.flags & T.OPTIONAL and f.tag != T.FABRIC_INDEX_TAG:
            raise _type_error()
    return out


def decode_value(t, data, nullable=False, limits=None):
    """Decode the single element of ``data``; TLV errors become INVALID_DATA_TYPE."""
    try:
        r = tlv.TlvReader(data)
        if not r.next():
            raise _type_error()
        value = decode(r, t, nullable, limits)
        if r.next():
            raise _type_error()
        return value
    except TlvError:
        raise _type_error()
