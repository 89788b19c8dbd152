"""OpenTelemetry consistent-probability sampling arithmetic (OTel spec "TraceState: Probability
Sampling"), matching contrib's pkg/sampling: 56-bit thresholds and randomness, t-values.

A span is kept when its randomness R ≥ the threshold T (both in [0, 2^56)). T = 2^56 × (1 − p);
the t-value is T in 14 hex digits with trailing zeros removed (`ot=th:c` is 25%).
"""

from __future__ import annotations

MAX_ADJUSTED_COUNT = 1 << 56
NUM_HEX_DIGITS = 14
MIN_PROBABILITY = 1.0 / MAX_ADJUSTED_COUNT
ALWAYS_SAMPLE = 0
NEVER_SAMPLE = MAX_ADJUSTED_COUNT


def probability_to_threshold(probability: float, precision: int = 0) -> int | None:
    """The threshold for `probability` rounded to `precision` significant hex digits (0 = all);
    None when the probability is below the smallest representable one."""
    if not MIN_PROBABILITY <= probability <= 1:
        return None
    scaled = round(probability * MAX_ADJUSTED_COUNT)
    if precision == 0:
        return MAX_ADJUSTED_COUNT - scaled
    if probability == 1:
        return ALWAYS_SAMPLE
    reject = 1 - probability
    while reject * 16 < 1:
        reject *= 16
        precision += 1
    if precision > NUM_HEX_DIGITS:
        return None
    rscaled = MAX_ADJUSTED_COUNT - scaled
    shift = 4 * (NUM_HEX_DIGITS - precision)
    if shift == 0:
        return rscaled
    half = 1 << (shift - 1)
    return ((rscaled + half) >> shift) << shift


def threshold_probability(threshold: int) -> float:
    return (MAX_ADJUSTED_COUNT - threshold) / MAX_ADJUSTED_COUNT


def tvalue(threshold: int) -> str:
    """`th` encoding: 14 hex digits, trailing zeros removed; "0" for always-sample."""
    if threshold == ALWAYS_SAMPLE:
        return "0"
    return format(threshold, "014x").rstrip("0")


def parse_tvalue(text: str) -> int | None:
    if not 0 < len(text) <= NUM_HEX_DIGITS:
        return None
    try:
        value = int(text, 16)
    except ValueError:
        return None
    return value << (4 * (NUM_HEX_DIGITS - len(text)))


def parse_rvalue(text: str) -> int | None:
    if len(text) != NUM_HEX_DIGITS:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None
