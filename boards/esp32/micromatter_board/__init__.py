"""Board support for micromatter on ESP32 (frozen into the firmware or copied as .mpy): the board's JSON
configuration, the provisioned attestation record, Wi-Fi and the light's GPIO."""
