"""Tampering with the monitoring that watches staff (ids ``audit.*``)."""
