"""Helpers shared by the escalation DAGs (not a DAG file: listed in .airflowignore).

Settings come from ESCALATION_* env vars, and Airflow connections override them when defined:
escalation_warehouse (postgres: host/login/password/schema/port), escalation_webhook and
escalation_slack (the URL in the password or extra "url"), escalation_smtp (host/port/login/password,
extra {"from": ..., "to": "a@x,b@y", "starttls": true}).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def task_settings():
    """The pipeline Settings for a running task (env vars, then Airflow connections)."""
    from airflow.sdk import Connection

    from pipeline.config import CONNECTION_IDS, ConnectionFields, apply_connections, load_settings

    found = {}
    for conn_id in CONNECTION_IDS:
        try:
            conn = Connection.get(conn_id)
        except Exception:  # not defined (AirflowNotFoundException) or no API here: env vars decide
            continue
        if conn is None:
            continue
        found[conn_id] = ConnectionFields(
            conn_type=conn.conn_type,
            host=conn.host,
            login=conn.login,
            password=conn.password,
            schema=conn.schema,
            port=conn.port,
            extra=conn.extra_dejson or {},
        )
    if found:
        log.info("settings from Airflow connections: %s", ", ".join(sorted(found)))  # ids only
    return apply_connections(load_settings(), found)
