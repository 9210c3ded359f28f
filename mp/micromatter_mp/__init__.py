"""The MicroPython port of micromatter: what the core needs from the unix port or an ESP32 board."""
