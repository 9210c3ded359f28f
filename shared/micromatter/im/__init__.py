"""The Interaction Model: message codecs, status codes, access control and the sans-I/O engine.

The IM never touches sessions, exchanges or sockets: the exchange layer hands
it a subject descriptor, an opcode, a payload and the time, and sends what it
returns.
"""
