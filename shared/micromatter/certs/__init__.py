"""Certificates: ASN.1 DER, X.509, Matter operational certificates (TLV and DER), chain
validation, PKCS#10 CSRs and device attestation material (DAC, PAI, certification declaration).

Import the submodules directly (``from micromatter.certs import opcert``); nothing is loaded here.
"""
