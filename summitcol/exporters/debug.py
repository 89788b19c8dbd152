"""The `debug` exporter: writes what passes through to stderr, like otelcol's.

`basic` logs one summary line per batch, `normal` one line per record, `detailed` every field
(as OTLP/JSON). `sampling_initial`/`sampling_thereafter` thin out the log lines per second.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import Literal

import orjson

from summitcol.component import CreateSettings, Exporter, Factory, Kind, Signal, Stability
from summitcol.exceptions import ConfigError
from summitcol.pdata import otlp_json
from summitcol.pdata.codec import to_message
from summitcol.pdata.signal import SignalData

log = logging.getLogger("summitcol.exporter.debug")

_SUMMARY = {
    Signal.TRACES: ("Traces", "resource spans", "spans"),
    Signal.METRICS: ("Metrics", "resource metrics", "data points"),
    Signal.LOGS: ("Logs", "resource logs", "log records"),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    verbosity: Literal["basic", "normal", "detailed"] = "basic"
    sampling_initial: int = 2
    sampling_thereafter: int = 1
    use_internal_logger: bool = True

    def validate(self) -> None:
        if self.sampling_initial < 0 or self.sampling_thereafter < 0:
            raise ConfigError("sampling_initial and sampling_thereafter must be 0 or more")


class DebugExporter(Exporter):
    def __init__(self, settings: CreateSettings, config: Config) -> None:
        self.config = config
        self.label = str(settings.id)
        self._second = 0
        self._in_second = 0

    def _sampled(self) -> bool:
        now = int(time.monotonic())
        if now != self._second:
            self._second, self._in_second = now, 0
        self._in_second += 1
        initial, thereafter = self.config.sampling_initial, self.config.sampling_thereafter
        if self._in_second <= initial:
            return True
        return thereafter > 0 and (self._in_second - initial) % thereafter == 0

    async def consume(self, data: SignalData) -> None:
        if not self._sampled():
            return
        title, containers, unit = _SUMMARY[data.signal]
        resources = {r for b in data.tables.values() for r in b.column("ResourceIndex").unique().to_pylist()}
        self._emit(f'{title}\t{{"{containers}": {len(resources)}, "{unit}": {data.item_count()}}}')
        if self.config.verbosity == "basic":
            return
        if self.config.verbosity == "detailed":
            self._emit(orjson.dumps(otlp_json.to_dict(to_message(data)), option=orjson.OPT_INDENT_2).decode())
            return
        for line in _record_lines(data):
            self._emit(line)

    def _emit(self, text: str) -> None:
        if self.config.use_internal_logger:
            log.info("%s %s", self.label, text)
        else:
            print(text, file=sys.stderr)


def _record_lines(data: SignalData) -> list[str]:
    """One line per record for `normal` verbosity (display only, not a hot path)."""
    lines: list[str] = []
    if data.signal is Signal.TRACES:
        for batch in data.tables.values():
            lines.extend(
                f"{name} {trace} {span}"
                for name, trace, span in zip(
                    batch.column("SpanName").to_pylist(),
                    batch.column("TraceId").to_pylist(),
                    batch.column("SpanId").to_pylist(),
                    strict=True,
                )
            )
    elif data.signal is Signal.LOGS:
        for batch in data.tables.values():
            lines.extend(batch.column("Body").to_pylist())
    else:
        for kind, batch in data.tables.items():
            lines.extend(f"{name} {kind}" for name in batch.column("MetricName").to_pylist())
    return lines


def _create(settings: CreateSettings, config: Config) -> DebugExporter:
    return DebugExporter(settings, config)


FACTORY = Factory(
    type="debug",
    kind=Kind.EXPORTER,
    config_type=Config,
    create=_create,
    signals=frozenset(Signal),
    stability=Stability.DEVELOPMENT,
    description="logs data to stderr (basic, normal or detailed)",
)
