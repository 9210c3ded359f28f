"""The session core: secure (CASE/PASE) and unsecured sessions in fixed tables, message counters and the
replay window, eviction when the table is full, and resumption records kept in flash slots.

``SessionManager`` (``micromatter.session.manager``) is the entry point; it is sans-I/O: it takes buffers,
``now_ms`` times and storage, and returns the messages the transport must send.
"""
