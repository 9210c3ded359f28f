"""mDNS / DNS-SD for Matter discovery, sans-I/O.

``wire`` is the DNS message codec, ``address`` turns IP address text into
bytes, ``responder`` the mDNS responder state machine (bytes, source and time
in; packets and destinations out), ``matter`` builds the commissionable
(``_matterc._udp``) and operational (``_matter._tcp``) registrations.
"""
