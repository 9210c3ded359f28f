"""What decoding a message yields, in one reused object (no allocation per message).

``decode`` returns the manager's ``Received``; it is overwritten by the next
decode, so callers copy what they keep.  The payload (application data after
the protocol header) is ``buf[payload_start:payload_end]`` of the buffer that
was decoded, decrypted in place.
"""

from micromatter.message import MessageHeader, ProtocolHeader


class Received:
    """``session``, ``duplicate`` (MRP must still acknowledge it, the exchange layer must not process it),
    ``header`` (``MessageHeader``), ``protocol`` (``ProtocolHeader``), ``payload_start``, ``payload_end``."""

    def __init__(self):
        self.session = None
        self.duplicate = False
        self.header = MessageHeader()
        self.protocol = ProtocolHeader()
        self.payload_start = 0
        self.payload_end = 0

    def fill(self, session, buf, start, end, duplicate):
        """The message in ``buf`` is ``session``'s (checked, decrypted): decode the protocol header at
        ``buf[start:end]``, note the payload after it; returns this object."""
        # Eleven locals and stack slots at most: a larger frame would be allocated on the heap on MicroPython.
        self.session = session
        self.duplicate = duplicate
        self.payload_end = end
        self.payload_start = self.protocol.decode(buf, start, end)
        self.payload_start += start
        return self

    def payload(self, buf):
        """A copy of the payload bytes (allocates; for handshakes and tests)."""
        return bytes(buf[self.payload_start : self.payload_end])
