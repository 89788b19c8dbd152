"""Per-detector precision and recall of the built-in PII detectors on a labelled corpus.

    python -m summitcol.pii.evaluate tests/data/pii/corpus.jsonl

The corpus is JSON lines `{"text": …, "pii": [{"detector": name, "value": secret}, …]}`. Every
text is scrubbed with all detectors (action `replace`), as one Arrow column. For each detector:

* predicted: the output contains its `[name]` marker;
* a true positive is a predicted text labelled with that detector whose labelled values are all
  gone from the output; a labelled text that is not predicted, or still shows a labelled value,
  is a false negative; a predicted text not labelled with the detector is a false positive.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from summitcol.pii.detectors import BUILTIN, IBAN_LENGTHS, Detector
from summitcol.pii.scrubber import Rule, Scrubber

# Sentry Relay's value rules (relay-pii `regexes.rs`, ../shared/reference/grouping_pii.md §3), under
# our detector names, as the baseline. Relay's IBAN list has ~95 countries (ours: the registry
# above); its IPv6 alternation is not reproduced, and it has no rule for phone numbers, JWTs,
# Basic credentials, cloud or chat tokens, or `key=value` secrets in free text.
RELAY: tuple[Detector, ...] = (
    Detector("private_key", r"-----BEGIN[A-Z ]+(PRIVATE|PUBLIC) KEY-----([\s\S]+?)-----END[A-Z ]+(PRIVATE|PUBLIC) KEY-----", group=2),
    Detector("url_userinfo", r"\b(?:(?:[a-z0-9+-]+:)?//([a-zA-Z0-9%_.-]+(?::[a-zA-Z0-9%_.-]+)?))@", group=1),
    Detector("bearer", r"(?i)\b(Bearer\s+)([^\s]+)", group=2),
    Detector("email", r"\b[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*\.[a-zA-Z]{2,}\b"),
    Detector("iban", r"\b(?:" + "|".join(IBAN_LENGTHS) + r")\d{2}[a-zA-Z0-9]{11,29}\b"),
    Detector("creditcard", r"\b((?:3[47]\d|4\d{3}|5[1-5]\d\d|65\d\d|6011)([-\s]?\d){12})\b"),
    Detector("us_ssn", r"\b([0-9]{3}-[0-9]{2}-[0-9]{4})\b"),
    Detector("mac", r"\b([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}\b"),
    Detector("ipv4", r"\b(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)(\.(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)){3}\b"),
    Detector(
        "user_path",
        r"(?i)(?:\b(?:[a-zA-Z]:[\\/])?(?:users|home|documents and settings|[^/\\]+[/\\]profiles)[\\/]|/(?:home|users)/)([^/\\\r\n]+)",
        group=1,
    ),
)


@dataclass(slots=True)
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(records: list[dict], detectors: tuple[Detector, ...] = BUILTIN) -> tuple[dict[str, Score], list[str]]:
    """Scores per built-in detector name, and a readable line for each mistake."""
    scrubber = Scrubber([Rule(d, "replace") for d in detectors], lambda s: hashlib.sha256(s.encode()).hexdigest())
    outputs = scrubber.scrub(pa.array([r["text"] for r in records], pa.string())).values.to_pylist()
    scores = {d.name: Score() for d in BUILTIN}
    mistakes: list[str] = []
    for record, output in zip(records, outputs, strict=True):
        labels: dict[str, list[str]] = {}
        for item in record["pii"]:
            labels.setdefault(item["detector"], []).append(item["value"])
        for name, score in scores.items():
            predicted = f"[{name}]" in output
            if name in labels:
                leaked = [v for v in labels[name] if v in output]
                if predicted and not leaked:
                    score.tp += 1
                else:
                    score.fn += 1
                    mistakes.append(f"FN {name}: {record['text']!r} -> {output!r}")
            elif predicted:
                score.fp += 1
                mistakes.append(f"FP {name}: {record['text']!r} -> {output!r}")
    return scores, mistakes


def load(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--show-mistakes", action="store_true")
    parser.add_argument("--baseline", choices=["relay"], help="score Sentry Relay's rules instead of Summit's")
    args = parser.parse_args(argv)
    records = load(args.corpus)
    scores, mistakes = evaluate(records, RELAY if args.baseline == "relay" else BUILTIN)
    positives = sum(1 for r in records if r["pii"])
    print(f"{len(records)} texts: {positives} with PII, {len(records) - positives} without")
    print(f"{'detector':<16} {'TP':>5} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>8}")
    total = Score()
    for name, s in scores.items():
        total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
        print(f"{name:<16} {s.tp:>5} {s.fp:>4} {s.fn:>4} {s.precision:>10.4f} {s.recall:>8.4f}")
    print(f"{'all':<16} {total.tp:>5} {total.fp:>4} {total.fn:>4} {total.precision:>10.4f} {total.recall:>8.4f}")
    if args.show_mistakes:
        print("\n".join(mistakes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
