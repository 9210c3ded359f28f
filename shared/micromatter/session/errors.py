"""Exceptions of the session layer: each bad input or refused operation has its own type."""

from micromatter.errors import SessionError

# Secure-channel general status codes the caller answers with (Matter Core spec, secure channel).
STATUS_BUSY = 4
STATUS_SESSION_NOT_FOUND = 5


class SessionArgumentError(SessionError):
    """An argument has the wrong type or is out of range (session id, node id, key length...)."""


class UnknownSessionError(SessionError):
    """No session has that id (or it is not in a state that allows the operation)."""

    status = STATUS_SESSION_NOT_FOUND


class SessionBusyError(SessionError):
    """The session table is full and no session may be evicted: answer with a Busy status report."""

    status = STATUS_BUSY


class SessionStateError(SessionError):
    """The session is not in a state that allows the operation (closed, establishing, exhausted)."""


class CounterExhaustedError(SessionStateError):
    """The session's outgoing message counter reached 0xFFFFFFFF: it must be replaced, never reused."""


class MessageRejectedError(SessionError):
    """A received message was dropped: not for this session, bad flags, or a counter behind the window."""


class ReplayError(MessageRejectedError):
    """The message counter is behind the replay window (older than the 32 messages tracked)."""


class SessionParameterError(SessionArgumentError):
    """A session parameter (interval, threshold, revision) is out of its range."""


class ResumptionRecordError(SessionError):
    """A resumption record is malformed or cannot be saved (unknown fabric, bad lengths)."""
