"""Operational Credentials cluster (0x003E): the shell whose behaviour the commissioning code supplies.

The ids, attributes, command arguments and their decoding live here; what the
commands do (attestation, CSR, AddNOC, fabric removal) needs certificates,
fabrics and the fail-safe, and is handed in as a ``delegate``.  Without one,
the attributes read as an empty node and the commands answer FAILURE.  The nonces and the certificate type
carry no limits here: a malformed one is INVALID_COMMAND (spec 11.18.6), which the delegate answers, not the
CONSTRAINT_ERROR of a field's limits."""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, Cmd, FABRIC_SCOPED, FABRIC_COMMAND
from micromatter.im.acl import ADMINISTER
from micromatter.im import status
from micromatter.im.status import StatusError

# NodeOperationalCertStatusEnum
OK = 0
INVALID_PUBLIC_KEY = 1
INVALID_NODE_OP_ID = 2
INVALID_NOC = 3
MISSING_CSR = 4
TABLE_FULL = 5
INVALID_ADMIN_SUBJECT = 6
FABRIC_CONFLICT = 9
LABEL_CONFLICT = 10
INVALID_FABRIC_INDEX = 11

NOCS = 0x0000
FABRICS = 0x0001
COMMISSIONED_FABRICS = 0x0003
TRUSTED_ROOTS = 0x0004

NOC_STRUCT = T.Struct((T.Field(1, T.OCTETS, T.SENSITIVE), T.Field(2, T.OCTETS, T.NULLABLE | T.SENSITIVE)), fabric_scoped=True)
FABRIC_DESCRIPTOR = T.Struct(
    (
        T.Field(1, T.OCTETS),
        T.Field(2, T.VENDOR_ID),
        T.Field(3, T.UINT64),
        T.Field(4, T.NODE_ID),
        T.Field(5, T.UTF8),
    ),
    fabric_scoped=True,
)
NOC_RESPONSE = T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.FABRIC_INDEX, T.OPTIONAL), T.Field(2, T.UTF8, T.OPTIONAL)))


class OperationalCredentialsDelegate:
    """What the commissioning code implements.  Each ``cmd_*`` gets the decoded fields and the context and
    returns the response struct (or raises ``StatusError``); the list methods give the attribute values."""

    supported_fabrics = 5

    def nocs(self):
        return []  # [{1: noc, 2: icac or None, 254: fabric index}]

    def fabrics(self):
        return []  # [{1: root public key, 2: vendor id, 3: fabric id, 4: node id, 5: label, 254: index}]

    def trusted_roots(self):
        return []  # [root certificate bytes]

    def __getattr__(self, name):
        if name.startswith("cmd_"):
            return _unimplemented
        raise AttributeError(name)


def _unimplemented(fields, ctx):
    raise StatusError(status.FAILURE)


class OperationalCredentials(Cluster):
    ID = 0x003E
    REVISION = 1
    ATTRIBUTES = (
        Attr(NOCS, "nocs", T.List(NOC_STRUCT), FABRIC_SCOPED, read=ADMINISTER),
        Attr(FABRICS, "fabrics", T.List(FABRIC_DESCRIPTOR), FABRIC_SCOPED),
        Attr(0x0002, "supported_fabrics", T.UINT8),
        Attr(COMMISSIONED_FABRICS, "commissioned_fabrics", T.UINT8),
        Attr(TRUSTED_ROOTS, "trusted_root_certificates", T.List(T.OCTETS)),
        Attr(0x0005, "current_fabric_index", T.FABRIC_INDEX),
    )
    COMMANDS = (
        Cmd(
            0x00,
            "cmd_attestation_request",
            T.Struct((T.Field(0, T.OCTETS),)),
            0x01,
            T.Struct((T.Field(0, T.OCTETS), T.Field(1, T.OCTETS))),
            ADMINISTER,
        ),
        Cmd(
            0x02,
            "cmd_certificate_chain_request",
            T.Struct((T.Field(0, T.ENUM8),)),
            0x03,
            T.Struct((T.Field(0, T.OCTETS),)),
            ADMINISTER,
        ),
        Cmd(
            0x04,
            "cmd_csr_request",
            T.Struct((T.Field(0, T.OCTETS), T.Field(1, T.BOOL, T.OPTIONAL))),
            0x05,
            T.Struct((T.Field(0, T.OCTETS), T.Field(1, T.OCTETS))),
            ADMINISTER,
        ),
        Cmd(
            0x06,
            "cmd_add_noc",
            T.Struct(
                (
                    T.Field(0, T.OCTETS, limits=(0, 400)),
                    T.Field(1, T.OCTETS, T.OPTIONAL, limits=(0, 400)),
                    T.Field(2, T.OCTETS, limits=(16, 16)),
                    T.Field(3, T.UINT64),
                    T.Field(4, T.VENDOR_ID),
                )
            ),
            0x08,
            NOC_RESPONSE,
            ADMINISTER,
        ),
        Cmd(
            0x07,
            "cmd_update_noc",
            T.Struct((T.Field(0, T.OCTETS, limits=(0, 400)), T.Field(1, T.OCTETS, T.OPTIONAL, limits=(0, 400)))),
            0x08,
            NOC_RESPONSE,
            ADMINISTER,
            FABRIC_COMMAND,
        ),
        Cmd(
            0x09,
            "cmd_update_fabric_label",
            T.Struct((T.Field(0, T.UTF8, limits=(0, 32)),)),
            0x08,
            NOC_RESPONSE,
            ADMINISTER,
            FABRIC_COMMAND,
        ),
        Cmd(0x0A, "cmd_remove_fabric", T.Struct((T.Field(0, T.FABRIC_INDEX, limits=(1, 254)),)), 0x08, NOC_RESPONSE, ADMINISTER),
        Cmd(0x0B, "cmd_add_trusted_root_certificate", T.Struct((T.Field(0, T.OCTETS, limits=(0, 400)),)), invoke=ADMINISTER),
    )

    def __init__(self, delegate=None):
        Cluster.__init__(self)
        self.delegate = delegate if delegate is not None else OperationalCredentialsDelegate()

    def read(self, attr, ctx):
        d = self.delegate
        aid = attr.id
        if aid == NOCS:
            return d.nocs()
        if aid == FABRICS:
            return d.fabrics()
        if aid == 0x0002:
            return d.supported_fabrics
        if aid == COMMISSIONED_FABRICS:
            return len(d.fabrics())
        if aid == TRUSTED_ROOTS:
            return d.trusted_roots()
        if aid == 0x0005:
            return ctx.subject.fabric_index
        return Cluster.read(self, attr, ctx)

    def fabrics_changed(self):
        """The commissioning code calls this after the fabric table changed (reports, data version)."""
        self.changed(None)

    def invoke(self, cmd, fields, ctx):
        return getattr(self.delegate, cmd.name)(fields, ctx)
