"""Adapters: the formats force IT systems already emit, turned into contract events.

>>> from adapters import create
>>> adapter = create("m365")
>>> result = adapter.convert_record(
...     b'{"Id":"5b1c","RecordType":6,"CreationTime":"2026-03-02T09:15:02",'
...     b'"Operation":"FileDownloaded","Workload":"OneDrive","UserId":"jo.bloggs@force.example",'
...     b'"ObjectId":"https://force-my.sharepoint.com/personal/jo/Documents/nominals.xlsx"}',
...     "doc", 1)
>>> result.event.kind, result.event.actor, result.event.time.isoformat()
('file.downloaded', 'jo.bloggs@force.example', '2026-03-02T09:15:02+00:00')
"""

from adapters.base import Adapter, AdapterConfig, Converted, Reject
from adapters.registry import create, formats_available, registered

__all__ = [
    "Adapter",
    "AdapterConfig",
    "Converted",
    "Reject",
    "create",
    "formats_available",
    "registered",
]
