"""Access control (Matter Core spec chapter 9): subject descriptors, ACL entries and the access check.

Every attribute read/write, command and event is checked against the entries
of the accessing fabric.  A PASE session that commissions the node holds an
implicit Administer grant (the ``commissioner`` flag of its subject); the
admin subject given to AddNOC gets an Administer entry through ``add_admin``.
Entries are validated on the way in, so a stored ACL is always well formed.
"""

from micromatter.compat import const
from micromatter.im import status
from micromatter.im.status import StatusError

# Privileges (AccessControlEntryPrivilegeEnum).
VIEW = const(1)
PROXY_VIEW = const(2)
OPERATE = const(3)
MANAGE = const(4)
ADMINISTER = const(5)

# Authentication modes (AccessControlEntryAuthModeEnum).
PASE = const(1)
CASE = const(2)
GROUP = const(3)

# Operational node ids end below this; CASE Authenticated Tags live in 0xFFFFFFFD_xxxx_yyyy.
MAX_OPERATIONAL_NODE_ID = 0xFFFFFFEFFFFFFFFF
CAT_PREFIX = 0xFFFFFFFD


class Subject:
    """The subject descriptor of a session, as the IM sees it.

    ``node_id`` is the peer's operational node id (CASE), the group id (GROUP)
    or the passcode id (PASE).  ``cats`` holds up to three 32-bit CASE
    Authenticated Tags from the peer's NOC.  ``session`` is an opaque handle
    the engine keys subscriptions on.  ``commissioner`` grants the implicit
    Administer privilege of a commissioning PASE session."""

    def __init__(self, auth_mode, fabric_index=0, node_id=0, cats=(), session=None, commissioner=False):
        self.auth_mode = auth_mode
        self.fabric_index = fabric_index
        self.node_id = node_id
        self.cats = cats
        self.session = session
        self.commissioner = commissioner

    def same_peer(self, other):
        return (
            self.auth_mode == other.auth_mode
            and self.fabric_index == other.fabric_index
            and self.node_id == other.node_id
        )


def grants(granted, required):
    """True if holding ``granted`` gives ``required`` (Administer > Manage > Operate > View, ProxyView > View)."""
    if granted == required or granted == ADMINISTER:
        return True
    if required == VIEW:
        return granted in (PROXY_VIEW, OPERATE, MANAGE)
    return granted == MANAGE and required == OPERATE


def is_cat(value):
    return (value >> 32) == CAT_PREFIX


def is_operational_node_id(value):
    return 1 <= value <= MAX_OPERATIONAL_NODE_ID


def _valid_cluster_id(value):
    prefix, suffix = value >> 16, value & 0xFFFF
    return prefix <= 0xFFFE and (suffix <= 0x7FFF or 0xFC00 <= suffix <= 0xFFFE) and (prefix == 0 or suffix >= 0xFC00)


def _valid_device_type(value):
    return (value >> 16) <= 0xFFFE and (value & 0xFFFF) <= 0xBFFF


class Entry:
    """One access control entry.  ``targets`` holds ``(cluster, endpoint, device_type)`` tuples, None meaning any;
    empty ``subjects`` / ``targets`` match everything."""

    def __init__(self, fabric_index, privilege, auth_mode, subjects=(), targets=()):
        self.fabric_index = fabric_index
        self.privilege = privilege
        self.auth_mode = auth_mode
        self.subjects = tuple(subjects)
        self.targets = tuple(targets)

    def __eq__(self, other):
        return (
            isinstance(other, Entry)
            and self.fabric_index == other.fabric_index
            and self.privilege == other.privilege
            and self.auth_mode == other.auth_mode
            and self.subjects == other.subjects
            and self.targets == other.targets
        )

    def __repr__(self):
        return "Entry(%d, %d, %d, %r, %r)" % (
            self.fabric_index,
            self.privilege,
            self.auth_mode,
            self.subjects,
            self.targets,
        )

    def matches_subject(self, subject):
        if not self.subjects:
            return True
        if self.auth_mode == GROUP:
            return subject.node_id in self.subjects
        for s in self.subjects:
            if s == subject.node_id:
                return True
            if is_cat(s):
                cat_id = (s >> 16) & 0xFFFF
                version = s & 0xFFFF
                for cat in subject.cats:
                    if (cat >> 16) == cat_id and (cat & 0xFFFF) >= version:
                        return True
        return False

    def matches_target(self, endpoint, cluster, device_types):
        if not self.targets:
            return True
        for t_cluster, t_endpoint, t_device_type in self.targets:
            if t_cluster is not None and t_cluster != cluster:
                continue
            if t_endpoint is not None and t_endpoint != endpoint:
                continue
            if t_device_type is not None and t_device_type not in device_types:
                continue
            return True
        return False


class AccessControl:
    """The node's ACL: a bounded table of entries per fabric and the access check.

    ``listener(fabric_index)`` is called after every change (the Access
    Control cluster uses it for data versions, persistence and reports)."""

    def __init__(self, entries_per_fabric=4, subjects_per_entry=4, targets_per_entry=3, max_fabrics=5):
        self.entries_per_fabric = entries_per_fabric
        self.subjects_per_entry = subjects_per_entry
        self.targets_per_entry = targets_per_entry
        self.max_fabrics = max_fabrics
        self._entries = []
        self.listeners = []

    # --- the check -------------------------------------------------------

    def check(self, subject, endpoint, cluster, required, device_types=()):
        """True if ``subject`` holds ``required`` on ``endpoint``/``cluster`` (an endpoint of ``device_types``)."""
        if subject.auth_mode == PASE:
            return subject.commissioner
        if subject.fabric_index == 0:
            return False
        for e in self._entries:
            if (
                e.fabric_index == subject.fabric_index
                and e.auth_mode == subject.auth_mode
                and grants(e.privilege, required)
                and e.matches_subject(subject)
                and e.matches_target(endpoint, cluster, device_types)
            ):
                return True
        return False

    # --- the table -------------------------------------------------------

    def entries(self, fabric_index=None):
        """Entries of one fabric (or all), in table order."""
        if fabric_index is None:
            return list(self._entries)
        return [e for e in self._entries if e.fabric_index == fabric_index]

    def fabrics(self):
        out = []
        for e in self._entries:
            if e.fabric_index not in out:
                out.append(e.fabric_index)
        return out

    def validate(self, entry):
        """Raise ``StatusError(CONSTRAINT_ERROR)`` unless ``entry`` is a well-formed entry."""
        bad = StatusError(status.CONSTRAINT_ERROR)
        if not 1 <= entry.fabric_index <= 254:
            raise bad
        if entry.auth_mode not in (CASE, GROUP):
            raise bad  # PASE grants are implicit, never stored
        if not VIEW <= entry.privilege <= ADMINISTER:
            raise bad
        if entry.auth_mode == GROUP and entry.privilege == ADMINISTER:
            raise bad
        if len(entry.subjects) > self.subjects_per_entry or len(entry.targets) > self.targets_per_entry:
            raise StatusError(status.RESOURCE_EXHAUSTED)
        for s in entry.subjects:
            if not isinstance(s, int):
                raise bad
            if entry.auth_mode == CASE:
                if not (is_operational_node_id(s) or (is_cat(s) and (s & 0xFFFF) != 0)):
                    raise bad
            elif not 1 <= s <= 0xFFFF:
                raise bad
        for t in entry.targets:
            if len(t) != 3:
                raise bad
            cluster, endpoint, device_type = t
            if cluster is None and endpoint is None and device_type is None:
                raise bad
            if endpoint is not None and device_type is not None:
                raise bad
            if cluster is not None and not _valid_cluster_id(cluster):
                raise bad
            if endpoint is not None and not 0 <= endpoint <= 0xFFFE:
                raise bad
            if device_type is not None and not _valid_device_type(device_type):
                raise bad

    def replace_fabric(self, fabric_index, entries, notify=True):
        """Replace all entries of ``fabric_index`` (validated first; nothing changes if one is bad)."""
        entries = list(entries)
        if len(entries) > self.entries_per_fabric:
            raise StatusError(status.RESOURCE_EXHAUSTED)
        for e in entries:
            if e.fabric_index != fabric_index:
                raise StatusError(status.CONSTRAINT_ERROR)
            self.validate(e)
        if entries and fabric_index not in self.fabrics() and len(self.fabrics()) >= self.max_fabrics:
            raise StatusError(status.RESOURCE_EXHAUSTED)
        kept = [e for e in self._entries if e.fabric_index != fabric_index]
        self._entries = kept + entries
        if notify:
            self._changed(fabric_index)

    def add(self, entry, notify=True):
        """Append one entry to its fabric (validated; RESOURCE_EXHAUSTED when the fabric is full)."""
        self.validate(entry)
        if len(self.entries(entry.fabric_index)) >= self.entries_per_fabric:
            raise StatusError(status.RESOURCE_EXHAUSTED)
        if entry.fabric_index not in self.fabrics() and len(self.fabrics()) >= self.max_fabrics:
            raise StatusError(status.RESOURCE_EXHAUSTED)
        self._entries.append(entry)
        if notify:
            self._changed(entry.fabric_index)

    def add_admin(self, fabric_index, subject_id):
        """The Administer entry AddNOC creates for its CaseAdminSubject (a node id or a CAT)."""
        self.add(Entry(fabric_index, ADMINISTER, CASE, (subject_id,)))

    def remove_fabric(self, fabric_index):
        before = len(self._entries)
        self._entries = [e for e in self._entries if e.fabric_index != fabric_index]
        if len(self._entries) != before:
            self._changed(fabric_index)

    def _changed(self, fabric_index):
        for listener in self.listeners:
            listener(fabric_index)
