"""Basic Information cluster (0x0028): the node's identity, versions and capability minima.

NodeLabel and Location are writable and persisted; everything else is fixed
at construction from the device's configuration."""

from micromatter import log
from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, Event, FIXED, WRITABLE, PERSIST, CRITICAL, INFO
from micromatter.errors import StorageError
from micromatter.im.acl import MANAGE, ADMINISTER

# The data model this node implements: Matter 1.3.
DATA_MODEL_REVISION = 17
SPECIFICATION_VERSION = 0x01030000

CAPABILITY_MINIMA = T.Struct((T.Field(0, T.UINT16), T.Field(1, T.UINT16)))


UNIQUE_ID_KEY = "uid"  # the generated UniqueID, in the data model's storage context
UNIQUE_ID_BYTES = 16  # 32 hex characters: the attribute's maximum length
_HEX_DIGITS = b"0123456789ABCDEF"


def stored_unique_id(storage, random_bytes):
    """The UniqueID of a device that was given none: made at random on first run and kept in ``storage`` (the
    data model's context), so that a factory reset, which clears that context, gives a new one (the spec wants
    it renewed then, and not derived from the MAC or serial number, so the device cannot be tracked)."""
    try:
        stored = storage.get(UNIQUE_ID_KEY)
    except StorageError as e:
        log.warning("basic", "cannot read the UniqueID: %s" % e)
        stored = None
    if stored is not None and len(stored) == 2 * UNIQUE_ID_BYTES:
        for c in stored:
            if c not in _HEX_DIGITS:
                break
        else:
            return bytes(stored).decode()
    text = "".join("%02X" % b for b in random_bytes(UNIQUE_ID_BYTES))
    try:
        storage.set(UNIQUE_ID_KEY, text.encode())
    except StorageError as e:
        log.warning("basic", "the UniqueID is not stored (a new one at the next start): %s" % e)
    return text


START_UP = 0x00
SHUT_DOWN = 0x01
LEAVE = 0x02


class BasicInformation(Cluster):
    ID = 0x0028
    REVISION = 3
    EVENTS = (
        Event(START_UP, "start_up", T.Struct((T.Field(0, T.UINT32),)), CRITICAL),
        Event(SHUT_DOWN, "shut_down", T.EMPTY, CRITICAL),
        Event(LEAVE, "leave", T.Struct((T.Field(0, T.FABRIC_INDEX),)), INFO),
    )
    ATTRIBUTES = (
        Attr(0x0000, "data_model_revision", T.UINT16, FIXED),
        Attr(0x0001, "vendor_name", T.UTF8, FIXED),
        Attr(0x0002, "vendor_id", T.VENDOR_ID, FIXED),
        Attr(0x0003, "product_name", T.UTF8, FIXED),
        Attr(0x0004, "product_id", T.UINT16, FIXED),
        Attr(0x0005, "node_label", T.UTF8, WRITABLE | PERSIST, write=MANAGE, limits=(0, 32)),
        Attr(0x0006, "location", T.UTF8, WRITABLE | PERSIST, write=ADMINISTER, limits=(2, 2)),
        Attr(0x0007, "hardware_version", T.UINT16, FIXED),
        Attr(0x0008, "hardware_version_string", T.UTF8, FIXED),
        Attr(0x0009, "software_version", T.UINT32, FIXED),
        Attr(0x000A, "software_version_string", T.UTF8, FIXED),
        Attr(0x000F, "serial_number", T.UTF8, FIXED),
        Attr(0x0012, "unique_id", T.UTF8, FIXED),
        Attr(0x0013, "capability_minima", CAPABILITY_MINIMA, FIXED),
        Attr(0x0015, "specification_version", T.UINT32, FIXED),
        Attr(0x0016, "max_paths_per_invoke", T.UINT16, FIXED),
    )

    def __init__(
        self,
        vendor_id=0xFFF1,
        product_id=0x8000,
        vendor_name="micromatter",
        product_name="micromatter light",
        hardware_version=0,
        hardware_version_string="0",
        software_version=1,
        software_version_string="0.1.0",
        serial_number="",
        unique_id="",
        case_sessions_per_fabric=3,
        subscriptions_per_fabric=3,
        max_paths_per_invoke=1,
    ):
        Cluster.__init__(self)
        self.data_model_revision = DATA_MODEL_REVISION
        self.vendor_name = vendor_name
        self.vendor_id = vendor_id
        self.product_name = product_name
        self.product_id = product_id
        self.node_label = ""
        self.location = "XX"
        self.hardware_version = hardware_version
        self.hardware_version_string = hardware_version_string
        self.software_version = software_version
        self.software_version_string = software_version_string
        self.serial_number = serial_number
        self.unique_id = unique_id
        self.capability_minima = {0: case_sessions_per_fabric, 1: subscriptions_per_fabric}
        self.specification_version = SPECIFICATION_VERSION
        self.max_paths_per_invoke = max_paths_per_invoke

    # --- events the device runtime emits ------------------------------------------

    def start_up(self, now_ms):
        """The node has booted (call once, when it starts serving)."""
        return self.emit(START_UP, {0: self.software_version}, now_ms)

    def shut_down(self, now_ms):
        return self.emit(SHUT_DOWN, {}, now_ms)

    def leave(self, fabric_index, now_ms):
        """A fabric is being removed (RemoveFabric): recorded before its data goes."""
        return self.emit(LEAVE, {0: fabric_index}, now_ms)
