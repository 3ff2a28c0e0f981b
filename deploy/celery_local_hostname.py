"""Airflow `[core] hostname_callable` for the Celery workers that deploy/celery-local starts.

Several workers on one machine share its hostname, so task instance records could not tell them
apart; each worker process gets CELERY_LOCAL_WORKER_HOSTNAME (its Celery node name) instead, the
way each machine of a multi-machine deployment reports its own name.
"""

from __future__ import annotations

import os
import socket

WORKER_HOSTNAME_ENV = "CELERY_LOCAL_WORKER_HOSTNAME"


def worker_hostname() -> str:
    """The worker's own name, or the machine's name outside deploy/celery-local."""
    return os.environ.get(WORKER_HOSTNAME_ENV) or socket.getfqdn()
