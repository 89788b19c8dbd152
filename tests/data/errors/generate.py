"""Generate the error-grouping corpus by running real programs in Python, Node.js and Java and
capturing their real exceptions, each labelled with the bug that raised it.

    python tests/data/errors/generate.py [--out tests/data/errors/corpus.jsonl.gz] [--only BUG]

Every bug is a crash site in a small shop application written in each language (bugs.py lists
them). The application is written out once per release — 1.0, then 1.1 and 1.2 with code
inserted above every crash site, so every line number shifts — into two temporary directories
(so absolute paths differ), and each copy runs one process that raises every planned exception
and prints it as the OpenTelemetry SDK records it (`exception.type` / `exception.message` /
`exception.stacktrace`). Each occurrence varies, by a seeded plan: its message parameters, the
call path that reaches the crash site (an HTTP handler, a background job, a CLI command, with 0–2
middleware frames between), the recursion depth for recursive bugs, the host, the release and
the directory. Near misses are bugs of one `family`: the same exception type and message
template at another site, or another exception type at the same site. The split holds whole
families out: `split: test` bugs are never trained on.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from programs import java_program, node_program, python_program  # noqa: E402
from programs.bugs import BUGS, Bug  # noqa: E402

SEED = 20261203
EVENTS_PER_BUG = 26
RELEASES = {"1.0.0": 0, "1.1.0": 7, "1.2.0": 23}  # lines inserted above every crash site
DIRS = ("/tmp/summit-corpus/a1", "/tmp/summit-corpus/b7/x")
HOSTS = ("web-1", "web-2", "worker-7", "batch-3", "api-eu-2")
ENTRIES = ("http", "job", "cli")
SERVICE = {"python": "shop-py", "node": "shop-node", "java": "shop-java"}
SDK_LANGUAGE = {"python": "python", "node": "nodejs", "java": "java"}
TEST_SHARE = 0.3
WRITERS = {"python": python_program, "node": node_program, "java": java_program}


def held_out_families() -> set[str]:
    """~TEST_SHARE of each language's families, chosen by a hash of their names (stable when bugs
    are added elsewhere); a family's near misses are all in the same split."""
    held: set[str] = set()
    for language in sorted({b.language for b in BUGS}):
        families = sorted({b.family for b in BUGS if b.language == language}, key=lambda f: zlib.crc32(f.encode()))
        held.update(families[: round(len(families) * TEST_SHARE)])
    return held


def plan(bug: Bug, rng: random.Random) -> list[dict]:  # type: ignore[type-arg]
    """The bug's occurrences: which copy runs each, and how it is reached."""
    out = []
    for i in range(EVENTS_PER_BUG):
        release = list(RELEASES)[i % 3] if i >= 3 else "1.0.0"
        directory = 0 if i < 6 else rng.randrange(len(DIRS))
        entry = ENTRIES[0] if i < 2 else rng.choice(ENTRIES)
        wrappers = 0 if i < 4 else rng.randrange(3)
        depth = rng.choice((3, 10, 50)) if bug.recursive else 0
        variations = ["params"]
        if release != "1.0.0":
            variations.append("release")
        if entry != "http" or wrappers:
            variations.append("call-path")
        if bug.recursive and depth != 3:
            variations.append("recursion")
        if directory:
            variations.append("tempdir")
        host = HOSTS[0] if i == 0 else rng.choice(HOSTS)
        if host != HOSTS[0]:
            variations.append("host")
        if bug.library:
            variations.append("library-frames")
        if bug.chained:
            variations.append("chained")
        out.append({"bug": bug.name, "arg": bug.argument(rng), "entry": entry, "wrappers": wrappers, "depth": depth,
                    "release": release, "dir": directory, "host": host, "variation": ",".join(variations)})
    return out


def run_copy(language: str, release: str, directory: int, invocations: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    root = Path(DIRS[directory]) / f"{language}-{release}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    bugs = [b for b in BUGS if b.language == language]
    command = WRITERS[language].write(root, bugs, RELEASES[release])
    if language == "java":  # the Java driver reads tab-separated lines (no JSON parser in the JDK)
        lines = [f"{i['bug']}\t{i['entry']}\t{i['wrappers']}\t{i['depth']}\t{java_program.java_arg(i['arg'])}\n" for i in invocations]
    else:
        lines = [json.dumps(i) + "\n" for i in invocations]
    done = subprocess.run(command, cwd=root, input="".join(lines), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{language} {release} failed:\n{done.stderr[-3000:]}")
    captured = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if len(captured) != len(invocations):
        raise RuntimeError(f"{language} {release}: {len(captured)} exceptions for {len(invocations)} invocations:\n{done.stderr[-2000:]}")
    return captured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "corpus.jsonl.gz"))
    parser.add_argument("--only", default="", help="only this bug (prints its lines instead of writing the corpus)")
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    plans = {bug.name: plan(bug, rng) for bug in BUGS}  # drawn for every bug, so --only reproduces the same lines
    chosen = [b for b in BUGS if not args.only or b.name == args.only]
    if not chosen:
        parser.error(f"no bug named {args.only!r}")
    by_copy: dict[tuple[str, str, int], list[dict]] = {}  # type: ignore[type-arg]
    for bug in chosen:
        for invocation in plans[bug.name]:
            by_copy.setdefault((bug.language, invocation["release"], invocation["dir"]), []).append(invocation)
    held = held_out_families()
    events = []
    for n, ((language, release, directory), invocations) in enumerate(sorted(by_copy.items()), 1):
        print(f"[{n}/{len(by_copy)}] {language} {release} in {DIRS[directory]}: {len(invocations)} exceptions", file=sys.stderr, flush=True)
        for invocation, got in zip(invocations, run_copy(language, release, directory, invocations), strict=True):
            bug = next(b for b in BUGS if b.name == invocation["bug"])
            events.append({
                "group": bug.name, "family": bug.family, "language": language, "sdk_language": SDK_LANGUAGE[language],
                "service": SERVICE[language], "release": release, "host": invocation["host"],
                "variation": invocation["variation"], "split": "test" if bug.family in held else "train",
                "type": got["type"], "message": got["message"], "stacktrace": got["stacktrace"],
            })
    events.sort(key=lambda e: (e["group"], e["release"], e["stacktrace"], e["message"], e["host"]))
    for i, event in enumerate(events):
        event["id"] = f"{event['group']}-{i:04d}" if args.only else ""
    if args.only:
        for event in events:
            print(json.dumps({k: v for k, v in event.items() if k != "id"}, sort_keys=True))
        return 0
    lines = [json.dumps({**{k: v for k, v in e.items() if k != "id"}, "id": f"e{i:05d}"}, sort_keys=True) for i, e in enumerate(events)]
    Path(args.out).write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    groups = {e["group"] for e in events}
    print(f"wrote {len(events)} events of {len(groups)} bugs to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
