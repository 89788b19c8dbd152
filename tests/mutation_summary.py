"""Per-module summary of a mutmut run (`make mutation`), read from mutmut's mutants/*.meta files.

mutmut's own summary is one line for every module together; issue #13 asks for >= 90% killed in
each delivery-critical module, so this prints one row per module group, the numbers the README's
Development section records. Run from the checkout: `python -m tests.mutation_summary`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

# The module groups of issue #13, as mutmut names their mutants (dotted path prefixes).
GROUPS = [
    "summitcol.exporters.helper",
    "summitcol.processors.batch",
    "summitcol.processors.tail_sampling",
    "summitcol.processors.redaction",
    "summitcol.processors.memory_limiter",
    "summitcol.extensions.file_storage",
]

# mutmut's exit codes (mutmut/stats.py status_by_exit_code); anything else is "suspicious".
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          37: "killed", None: "not checked"}


def counts(root: Path = Path("mutants")) -> dict[str, Counter[str]]:
    """Status counts per module group over every .meta file mutmut wrote."""
    result: dict[str, Counter[str]] = {group: Counter() for group in GROUPS}
    for meta in sorted(root.rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text("utf-8"))["exit_code_by_key"].items():
            group = next((g for g in GROUPS if name.startswith(g + ".")), None)
            if group is not None:
                result[group][STATUS.get(code, "suspicious")] += 1
    return result


def main() -> None:
    columns = ["killed", "timeout", "survived", "no tests", "not checked", "suspicious"]
    print(f"{'module':38} {'mutants':>7} " + " ".join(f"{c:>11}" for c in columns) + f" {'kill rate':>9}")
    for group, count in counts().items():
        total = sum(count.values())
        if not total:
            print(f"{group:38} not run")
            continue
        # A timeout counts as killed: the mutant hung the tests, a change they noticed.
        rate = (count["killed"] + count["timeout"]) / total
        print(f"{group:38} {total:7} " + " ".join(f"{count[c]:11}" for c in columns) + f" {rate:9.1%}")


if __name__ == "__main__":
    main()
