"""Maps a source's ``kind`` in sources.yaml to the collector class that reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collectors.base import Collector
from collectors.counts import CountsCollector
from collectors.csv_folder import CsvFolderCollector
from collectors.feed import FeedCollector
from collectors.http_api import HttpApiCollector
from collectors.simulator import SimulatorCollector
from collectors.sql_query import SqlCollector
from config.sources import SourceConfig

# Each class takes its own member of SourceConfig; a dict cannot tie a kind to that member, so
# the parameter is Any here and build_collector is typed against the union.
COLLECTOR_KINDS: dict[str, Callable[[Any], Collector]] = {
    "simulator": SimulatorCollector,
    "csv_folder": CsvFolderCollector,
    "sql": SqlCollector,
    "http_api": HttpApiCollector,
    "feed": FeedCollector,
    "counts": CountsCollector,
}


def build_collector(source_config: SourceConfig) -> Collector:
    try:
        factory = COLLECTOR_KINDS[source_config.kind]
    except KeyError:
        raise ValueError(f"no collector for source kind {source_config.kind!r}") from None
    return factory(source_config)
