"""Escalation-signal pipeline: news feeds -> scored sentences -> daily actor signals -> alerts."""

__version__ = "0.1.0"
