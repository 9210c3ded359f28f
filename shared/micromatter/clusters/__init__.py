"""Cluster implementations, one module per cluster (Matter Application Cluster spec and Core spec 9, 11)."""
