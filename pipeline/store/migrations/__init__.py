"""Alembic migrations of the warehouse schema (run through ``escalation db upgrade``)."""
