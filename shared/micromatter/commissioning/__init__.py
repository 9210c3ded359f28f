"""Commissioning: the device configuration, its attestation material, the Operational Credentials
behaviour (fabrics, certificates, the fail-safe's pending state) and the commissioning window."""
