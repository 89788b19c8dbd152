"""The W3C `tracestate` with its OpenTelemetry `ot` member (`ot=rv:…;th:…`), as contrib parses
and serializes it: other vendors' members are kept in order after `ot`, `rv` before `th` before
other `ot` sub-keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from summitcol.sampling.threshold import parse_rvalue, parse_tvalue, tvalue


@dataclass(slots=True)
class TraceState:
    rvalue: str = ""
    tvalue: str = ""
    ot_extra: list[tuple[str, str]] = field(default_factory=list)
    vendors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def randomness(self) -> int | None:
        return parse_rvalue(self.rvalue) if self.rvalue else None

    @property
    def threshold(self) -> int | None:
        return parse_tvalue(self.tvalue) if self.tvalue else None

    def set_threshold(self, threshold: int) -> None:
        self.tvalue = tvalue(threshold)

    def serialize(self) -> str:
        ot = [f"rv:{self.rvalue}"] if self.rvalue else []
        if self.tvalue:
            ot.append(f"th:{self.tvalue}")
        ot.extend(f"{k}:{v}" for k, v in self.ot_extra)
        members = [f"ot={';'.join(ot)}"] if ot else []
        members.extend(f"{k}={v}" for k, v in self.vendors)
        return ",".join(members)


def parse_element(text: str) -> TraceState | None:
    """Parse one tracestate (a per-element helper: only rows whose tracestate is not empty get
    here); None when it is malformed, which the sampler treats like contrib does (fail_closed)."""
    state = TraceState()
    if not text:
        return state
    for member in text.split(","):
        member = member.strip(" \t")
        if not member:
            continue
        key, sep, value = member.partition("=")
        if not sep or not key or not value:
            return None
        if key != "ot":
            state.vendors.append((key, value))
            continue
        for item in value.split(";"):
            sub, colon, sub_value = item.partition(":")
            if not colon or not sub:
                return None
            if sub == "rv":
                state.rvalue = sub_value if parse_rvalue(sub_value) is not None else ""
            elif sub == "th":
                state.tvalue = sub_value if parse_tvalue(sub_value) is not None else ""
            else:
                state.ot_extra.append((sub, sub_value))
    return state
