"""The CPython twin's port of micromatter: the same core, with host crypto, files and sockets."""
