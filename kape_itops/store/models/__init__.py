"""All ORM classes; importing this package registers every table on ``Base.metadata``."""

from kape_itops.store.models.base import Base, UTCDateTime
from kape_itops.store.models.discovery import DiscoveryHostRow, DiscoverySweepRow
from kape_itops.store.models.inventory import ChangeRow, DeviceRow, RoomRow, SchoolRow
from kape_itops.store.models.probes import (
    DeviceStateRow,
    PingResultRow,
    PingRunRow,
    ProbeResultRow,
    ProbeRunRow,
)
from kape_itops.store.models.procurement import (
    RfqDecisionRow,
    RfqEvaluationRow,
    RfqFileRow,
    RfqRow,
)
from kape_itops.store.models.quotes import EvaluationRow
from kape_itops.store.models.report_cache import ReportCacheRow
from kape_itops.store.models.rollups import (
    AlertCursorRow,
    AlertStateRow,
    ProbeRollupRow,
    RollupRedoRow,
)
from kape_itops.store.models.ssh import ConfigBackupRow
from kape_itops.store.models.sync import (
    ConflictRow,
    EnrolmentRow,
    SiteRow,
    SyncCursorRow,
    SyncEventRow,
    SyncLocalRow,
    SyncMarkRow,
)
from kape_itops.store.models.users import UserRow

__all__ = [
    "AlertCursorRow",
    "AlertStateRow",
    "Base",
    "ChangeRow",
    "ConfigBackupRow",
    "ConflictRow",
    "DeviceRow",
    "DeviceStateRow",
    "DiscoveryHostRow",
    "DiscoverySweepRow",
    "EnrolmentRow",
    "EvaluationRow",
    "PingResultRow",
    "PingRunRow",
    "ProbeResultRow",
    "ProbeRollupRow",
    "ProbeRunRow",
    "ReportCacheRow",
    "RfqDecisionRow",
    "RfqEvaluationRow",
    "RfqFileRow",
    "RfqRow",
    "RollupRedoRow",
    "RoomRow",
    "SchoolRow",
    "SiteRow",
    "SyncCursorRow",
    "SyncEventRow",
    "SyncLocalRow",
    "SyncMarkRow",
    "UTCDateTime",
    "UserRow",
]
