"""The `audit` extension in a running collector: its start (the config's digest), a refused
OTLP credential, queries and a refused query password land in the ledger;
`summitcol audit verify --config` passes, then fails once one byte of one record is changed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import orjson
import requests

from tests.helpers import Collector, free_port, wait_for


def records(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def verify_cli(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "summitcol.cli", "audit", "verify", "--config", str(config)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_ledger_records_and_verify_catches_one_changed_byte(tmp_path: Path) -> None:
    http_port, ch_port = free_port(), free_port()
    ledger = tmp_path / "audit" / "audit.jsonl"
    config = f"""
extensions:
  audit:
    path: {ledger}
    storage: chdb
    flush_interval: 100ms
  bearertokenauth:
    token: ingest-token
  chdb:
    path: {tmp_path / "clickhouse"}
    users: [{{name: reader, password: reader-pass}}]
    http:
      endpoint: 127.0.0.1:{ch_port}
receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:{http_port}", auth: {{authenticator: bearertokenauth}}}}
exporters:
  debug: {{}}
service:
  extensions: [audit, bearertokenauth, chdb]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [debug]}}
"""
    with Collector(tmp_path, config) as collector:
        reply = requests.post(f"http://127.0.0.1:{http_port}/v1/traces", data=b"",
                              headers={"Content-Type": "application/x-protobuf", "Authorization": "Bearer guess"}, timeout=10)
        assert reply.status_code == 401
        chdb = f"http://127.0.0.1:{ch_port}/"
        assert requests.post(chdb, data="SELECT 1", auth=("reader", "reader-pass"), timeout=30).status_code == 200
        assert requests.post(chdb, data="SELECT 1", auth=("reader", "wrong"), timeout=30).status_code == 403
        reply = requests.post(chdb, data="SELECT * FROM nowhere.no_such_table", auth=("reader", "reader-pass"), timeout=30)
        assert reply.status_code == 404
        assert wait_for(lambda: len(records(ledger)) >= 5)

        def copied() -> int:
            reply = requests.post(chdb, data="SELECT count() FROM otel.audit_v1", auth=("reader", "reader-pass"), timeout=30)
            return int(reply.text) if reply.status_code == 200 else 0

        assert wait_for(lambda: copied() >= 5, timeout=30)  # each look is a query in the ledger too
        config_path = collector.config_path
    got = [(r["actor"], r["action"], r["target"], r["outcome"]) for r in records(ledger)][:5]
    assert got[0][1:] == ("config.load", str(config_path), "ok")
    assert records(ledger)[0]["details"]["sha256"] == {str(config_path): hashlib.sha256(config_path.read_bytes()).hexdigest()}
    assert got[1:] == [
        ("127.0.0.1", "auth.failure", "otlp", "invalid_credentials"),
        ("reader", "query", "chdb http", "ok"),
        ("reader", "auth.failure", "chdb http", "invalid_credentials"),
        ("reader", "query", "chdb http", "error 81"),  # UNKNOWN_DATABASE
    ]
    assert records(ledger)[2]["details"] == {"sha256": hashlib.sha256(b"SELECT 1").hexdigest(), "keyword": "SELECT"}
    total = len(records(ledger))
    done = verify_cli(config_path)
    assert (done.returncode, done.stdout.strip()) == (0, f"{ledger}: {total} record(s), chain intact"), done.stderr
    # cut short at its end: the chain still holds, the table's copy says what is missing
    whole = ledger.read_bytes()
    ledger.write_bytes(b"".join(whole.splitlines(keepends=True)[:4]))
    done = verify_cli(config_path)
    assert done.returncode == 1 and "records were removed from its end" in done.stderr, done.stderr
    ledger.write_bytes(whole)
    data = bytearray(ledger.read_bytes())
    data[data.index(b'"reader"') + 2] ^= 0x01  # one bit of one byte of record 3's actor
    ledger.write_bytes(bytes(data))
    done = verify_cli(config_path)
    assert done.returncode == 1
    assert f"{ledger}: line 3: record 3 was changed: its hash does not match its content" in done.stderr
