"""The secure channel protocol (protocol id 0x0000): opcodes, status reports and the session handshakes.

``opcodes`` and ``status`` are shared by every handshake; ``session_params`` is the session-parameter
struct PASE and CASE carry; ``pase_messages`` and ``pase`` are the commissioning handshake (SPAKE2+ from
``micromatter.crypto.spake2p``).  The handshakes are sans-I/O: they take message payloads and times and
return the payload to send and an ``Established``/``Failed`` event; ``dispatch`` binds them to exchanges.
"""
