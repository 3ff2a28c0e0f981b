"""The store layer: the only part of the pipeline that builds SQL or holds a database connection.

Everything else receives a `Warehouse` and asks it (tests/test_layers.py keeps it that way).
"""

from pipeline.actors import ALL_ACTORS
from pipeline.store.alerts import Alert, alert_to_dict
from pipeline.store.engine import ConcurrentWriteError, MissingWarehouseError, WarehouseError
from pipeline.store.feeds import FeedWriter, FetchRecord, StoreResult
from pipeline.store.incidents import AlertContext, IncidentPage, StoredIncident
from pipeline.store.pages import PageRecord, PendingPage
from pipeline.store.warehouse import Warehouse

__all__ = [
    "ALL_ACTORS",
    "Alert",
    "AlertContext",
    "ConcurrentWriteError",
    "FeedWriter",
    "FetchRecord",
    "IncidentPage",
    "MissingWarehouseError",
    "PageRecord",
    "PendingPage",
    "StoreResult",
    "StoredIncident",
    "Warehouse",
    "WarehouseError",
    "alert_to_dict",
]
