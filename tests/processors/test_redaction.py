"""redaction: contrib configs give contrib's outputs (cases and expected values from contrib's
processor_test.go and README), on spans, span events, links, logs (attributes and body), data
points, resources and scopes; plus Summit's PII section."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from summitcol.component import Kind, Signal
from summitcol.components import default_registry
from summitcol.config.model import load_config
from summitcol.exceptions import ConfigError
from summitcol.pdata.codec import CODECS, to_message
from summitcol.pdata.decoded import DEFAULT_LIMITS
from summitcol.pdata.signal import SignalData
from summitcol.processors.redaction import Config, PIIConfig, Redactor

CARD = "4111111111111111"


def any_value(value: object) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def key_values(attributes: dict[str, object]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


def as_dict(kvs) -> dict[str, object]:  # type: ignore[no-untyped-def]
    out: dict[str, object] = {}
    for kv in kvs:
        which = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, which) if which else None
    return out


def run(config: Config, signal: Signal, request) -> object:  # type: ignore[no-untyped-def]
    tables, _ = CODECS[signal].from_otlp(request, DEFAULT_LIMITS)
    return to_message(Redactor(config).apply(SignalData(signal, tables)))


def span_request(attributes: dict[str, object], *, resource: dict[str, object] | None = None) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend(key_values(resource or {"service.name": "svc"}))
    ss = rs.scope_spans.add()
    ss.scope.name = "lib"
    span = ss.spans.add(name="op", trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    span.attributes.extend(key_values(attributes))
    span.events.add(name="exception").attributes.extend(key_values(attributes))
    span.links.add(trace_id=b"\x03" * 16, span_id=b"\x04" * 8).attributes.extend(key_values(attributes))
    return request


def log_request(attributes: dict[str, object], body: str = "hello") -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    record = rl.scope_logs.add().log_records.add(time_unix_nano=1)
    record.body.string_value = body
    record.attributes.extend(key_values(attributes))
    return request


def gauge_request(attributes: dict[str, object]) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="g")
    point = metric.gauge.data_points.add(as_int=1, time_unix_nano=1)
    point.attributes.extend(key_values(attributes))
    return request


def outputs(config: Config, attributes: dict[str, object]) -> list[dict[str, object]]:
    """The attributes after redaction on a span, its event, its link, a log record and a data point."""
    traces = run(config, Signal.TRACES, span_request(attributes))
    span = traces.resource_spans[0].scope_spans[0].spans[0]
    logs = run(config, Signal.LOGS, log_request(attributes))
    metrics = run(config, Signal.METRICS, gauge_request(attributes))
    return [
        as_dict(span.attributes),
        as_dict(span.events[0].attributes),
        as_dict(span.links[0].attributes),
        as_dict(logs.resource_logs[0].scope_logs[0].log_records[0].attributes),
        as_dict(metrics.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0].attributes),
    ]


def test_unknown_attributes_are_removed() -> None:
    config = Config(allowed_keys=["group", "id", "name"], ignored_keys=["safe_attribute"])
    attributes = {"group": "temporary", "id": 5, "name": "placeholder", "safe_attribute": "4111111111111112", "credit_card": CARD}
    for out in outputs(config, attributes):
        assert out == {"group": "temporary", "id": 5, "name": "placeholder", "safe_attribute": "4111111111111112"}


def test_empty_allowed_keys_removes_everything() -> None:
    for out in outputs(Config(), {"a": "1", "b": 2}):
        assert out == {}


def test_allow_all_keys_masks_values() -> None:
    config = Config(allowed_keys=["group"], allow_all_keys=True, blocked_values=["4[0-9]{12}(?:[0-9]{3})?"])
    for out in outputs(config, {"group": "temporary", "id": 5, "name": "placeholder", "credit_card": f"placeholder {CARD}"}):
        assert out == {"group": "temporary", "id": 5, "name": "placeholder", "credit_card": "placeholder ****"}


def test_summary_debug() -> None:
    config = Config(
        allowed_keys=["id", "group", "name", "group.id", "member (id)"],
        blocked_values=["4[0-9]{12}(?:[0-9]{3})?"],
        ignored_keys=["safe_attribute"],
        summary="debug",
    )
    attributes = {
        "id": 5,
        "group.id": "some.valid.id",
        "member (id)": "some other valid id",
        "name": f"placeholder {CARD}",
        "safe_attribute": "harmless 4111111111111112",
        "credit_card": CARD,
        "another_secret": "x",
    }
    for out in outputs(config, attributes):
        assert out == {
            "id": 5,
            "group.id": "some.valid.id",
            "member (id)": "some other valid id",
            "name": "placeholder ****",
            "safe_attribute": "harmless 4111111111111112",
            "redaction.redacted.keys": "another_secret,credit_card",
            "redaction.redacted.count": 2,
            "redaction.masked.keys": "name",
            "redaction.masked.count": 1,
            "redaction.ignored.count": 1,
        }


def test_summary_info_and_silent() -> None:
    base = {"allowed_keys": ["id", "name"], "blocked_values": ["4[0-9]{12}(?:[0-9]{3})?"], "ignored_keys": ["safe_attribute"]}
    attributes = {"id": 5, "name": f"placeholder {CARD}", "safe_attribute": "harmless 4111111111111141", "credit_card": CARD}
    for out in outputs(Config(**base, summary="info"), attributes):
        assert out == {
            "id": 5,
            "name": "placeholder ****",
            "safe_attribute": "harmless 4111111111111141",
            "redaction.redacted.count": 1,
            "redaction.masked.count": 1,
            "redaction.ignored.count": 1,
        }
    for out in outputs(Config(**base, summary="silent"), attributes):
        assert out == {"id": 5, "name": "placeholder ****", "safe_attribute": "harmless 4111111111111141"}


def test_allowed_values_win_over_blocked_values() -> None:
    config = Config(
        allow_all_keys=True,
        blocked_values=[r"[\w.]+@[\w.]+"],
        allowed_values=[r".+@mycompany\.com"],
        summary="debug",
    )
    for out in outputs(config, {"email": "someone@mycompany.com", "other": "alice@example.com"}):
        assert out == {
            "email": "someone@mycompany.com",
            "other": "****",
            "redaction.masked.keys": "other",
            "redaction.masked.count": 1,
            "redaction.allowed.keys": "email",
            "redaction.allowed.count": 1,
        }


def test_blocked_key_patterns_mask_whole_value_even_non_strings() -> None:
    config = Config(allow_all_keys=True, blocked_key_patterns=[".*token.*", ".*pin$"])
    for out in outputs(config, {"access_token": "abc", "pin": 1234, "name": "n"}):
        assert out == {"access_token": "****", "pin": "****", "name": "n"}


@pytest.mark.parametrize(
    ("function", "digest"),
    [
        ("md5", hashlib.md5(CARD.encode()).hexdigest()),
        ("sha1", hashlib.sha1(CARD.encode()).hexdigest()),
        ("sha3", hashlib.sha3_256(CARD.encode()).hexdigest()),
    ],
)
def test_hash_function_hashes_each_match(function: str, digest: str) -> None:
    config = Config(allow_all_keys=True, blocked_values=["4[0-9]{12}(?:[0-9]{3})?"], hash_function=function)  # type: ignore[arg-type]
    for out in outputs(config, {"card": f"paid with {CARD} today"}):
        assert out == {"card": f"paid with {digest} today"}


def test_hmac_hash_and_key_validation() -> None:
    key = "k" * 32
    config = Config(allow_all_keys=True, blocked_values=[CARD], hash_function="hmac-sha256", hmac_key=key)
    expected = hmac.new(key.encode(), CARD.encode(), hashlib.sha256).hexdigest()
    assert outputs(config, {"card": CARD})[0] == {"card": expected}
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        Config(allow_all_keys=True, hash_function="hmac-sha256", hmac_key="short").validate()


def test_redact_all_types() -> None:
    config = Config(allow_all_keys=True, blocked_values=["^4[0-9]{15}$"], redact_all_types=True)
    assert outputs(config, {"n": 4111111111111111, "s": "x"})[0] == {"n": "****", "s": "x"}
    plain = Config(allow_all_keys=True, blocked_values=["^4[0-9]{15}$"])
    assert outputs(plain, {"n": 4111111111111111})[0] == {"n": 4111111111111111}


def test_resource_and_scope_attributes_are_redacted() -> None:
    config = Config(allowed_keys=["service.name"], summary="info")
    out = run(config, Signal.TRACES, span_request({"x": 1}, resource={"service.name": "svc", "host.ip": "10.1.2.3"}))
    assert as_dict(out.resource_spans[0].resource.attributes) == {"service.name": "svc", "redaction.redacted.count": 1}


def test_log_body_is_masked_with_body_summary() -> None:
    config = Config(allow_all_keys=True, blocked_values=["4[0-9]{15}"], summary="debug")
    out = run(config, Signal.LOGS, log_request({"k": "v"}, body=f"charged card {CARD}"))
    record = out.resource_logs[0].scope_logs[0].log_records[0]
    assert record.body.string_value == "charged card ****"
    assert as_dict(record.attributes) == {"k": "v", "redaction.body.masked.keys": "body", "redaction.body.masked.count": 1}


def test_second_processor_merges_summary() -> None:
    first = Config(allowed_keys=["a", "b"], summary="debug")
    second = Config(allowed_keys=["a"], summary="debug")
    tables, _ = CODECS[Signal.TRACES].from_otlp(span_request({"a": "1", "b": "2", "c": "3"}), DEFAULT_LIMITS)
    data = Redactor(second).apply(Redactor(first).apply(SignalData(Signal.TRACES, tables)))
    span = to_message(data).resource_spans[0].scope_spans[0].spans[0]
    assert as_dict(span.attributes) == {"a": "1", "redaction.redacted.keys": "b,c", "redaction.redacted.count": 2}


def test_contrib_yaml_config_loads(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """contrib's README example, unchanged, with the HMAC key from the environment."""
    monkeypatch.setenv("REDACTION_KEY", "s" * 32)
    path = tmp_path / "config.yaml"
    path.write_text(
        """
receivers:
  otlp:
    protocols:
      grpc:
processors:
  redaction:
    allow_all_keys: false
    allowed_keys: [description, group, id, name]
    ignored_keys: [safe_attribute]
    blocked_values:
      - "4[0-9]{12}(?:[0-9]{3})?" ## Visa credit card number
      - "(5[1-5][0-9]{14})"       ## MasterCard number
    hash_function: hmac-sha256
    hmac_key: ${env:REDACTION_KEY}
    summary: debug
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [redaction]
      exporters: [debug]
"""
    )
    config, problems = load_config([str(path)], default_registry())
    assert config is not None, [str(p) for p in problems]
    redaction = next(c.config for c in config.components[Kind.PROCESSOR].values())
    assert redaction.allowed_keys == ["description", "group", "id", "name"]
    assert redaction.key() == "s" * 32


# -- Summit's pii section ------------------------------------------------------------------


def test_pii_replaces_in_attributes_events_and_bodies() -> None:
    config = Config(allow_all_keys=True, pii=PIIConfig(), summary="debug")
    attributes = {
        "user": "alice@example.com",
        "exception.message": "card 4111 1111 1111 1111 declined for 10.1.2.3",
        "db.query.text": "SELECT * FROM users WHERE ssn = '123-45-6789'",
        "url.full": "https://bob:hunter2@api.example.com/v1?token=abc123",
        "http.request.header.authorization": "Bearer abcdef",
        "gen_ai.usage.input_tokens": 42,
        "order": "4111111111111112",
    }
    span, event, link, record, point = outputs(config, attributes)
    for out in (span, event, link, record, point):
        assert out["user"] == "[email]"
        assert out["exception.message"] == "card [creditcard] declined for [ipv4]"
        assert out["db.query.text"] == "SELECT * FROM users WHERE ssn = '[us_ssn]'"
        assert out["url.full"] == "https://[url_userinfo]@api.example.com/v1?token=[password_keys]"
        assert out["http.request.header.authorization"] == "[password_keys]"
        assert out["gen_ai.usage.input_tokens"] == 42
        assert out["order"] == "4111111111111112"  # fails Luhn
        assert out["redaction.masked.count"] == 5
    logs = run(config, Signal.LOGS, log_request({}, body="login failed for alice@example.com from 2001:db8::1"))
    record = logs.resource_logs[0].scope_logs[0].log_records[0]
    assert record.body.string_value == "login failed for [email] from [ipv6]"


def test_pii_actions_hash_mask_remove_and_scope() -> None:
    config = Config(
        allow_all_keys=True,
        hash_function="sha1",
        pii=PIIConfig(
            detectors=["email", "creditcard", "ipv4"],
            actions={"email": "hash", "creditcard": "mask", "ipv4": "remove"},
            exclude_keys=["internal.email"],
        ),
    )
    out = outputs(config, {"e": "to bob@example.com", "c": "4111-1111-1111-1111", "ip": "from 10.0.0.1", "internal.email": "ops@example.com"})[0]
    assert out == {
        "e": "to " + hashlib.sha1(b"bob@example.com").hexdigest(),
        "c": "*" * 19,
        "internal.email": "ops@example.com",
    }


def test_pii_custom_detector_with_validator() -> None:
    from summitcol.processors.redaction import CustomDetector

    config = Config(
        allow_all_keys=True,
        pii=PIIConfig(detectors=[], custom=[CustomDetector(name="employee_card", regex=r"\bEMP\d{6}\b", validator="luhn")]),
    )
    # EMP000018: digits 000018 pass Luhn; EMP000017 does not.
    out = outputs(config, {"a": "badge EMP000018", "b": "badge EMP000017"})[0]
    assert out == {"a": "badge [employee_card]", "b": "badge EMP000017"}


def test_pii_status_message_is_scrubbed() -> None:
    request = span_request({})
    request.resource_spans[0].scope_spans[0].spans[0].status.message = "no user alice@example.com"
    out = run(Config(allow_all_keys=True, pii=PIIConfig()), Signal.TRACES, request)
    assert out.resource_spans[0].scope_spans[0].spans[0].status.message == "no user [email]"


def test_pii_config_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="unknown detector"):
        PIIConfig(detectors=["emial"]).validate()
    with pytest.raises(ConfigError, match="invalid regular expression"):
        Config(blocked_values=["(unclosed"]).validate()


def test_scope_attributes_are_redacted_on_every_signal() -> None:
    """Scope attributes carry PII as any others do (issue #13 item 3: no test set one, and a
    redactor skipping ScopeAttributes passed every test)."""
    config = Config(allow_all_keys=True, blocked_values=[r"4[0-9]{15}"], pii=PIIConfig(detectors=["email"]))
    scope = {"lib.owner": "dev@example.com", "lib.card": CARD, "lib.version": "1.2"}
    expected = {"lib.owner": "[email]", "lib.card": "****", "lib.version": "1.2"}

    traces = span_request({"k": "v"})
    traces.resource_spans[0].scope_spans[0].scope.attributes.extend(key_values(scope))
    out = run(config, Signal.TRACES, traces)
    assert as_dict(out.resource_spans[0].scope_spans[0].scope.attributes) == expected  # type: ignore[attr-defined]

    logs = log_request({"k": "v"})
    logs.resource_logs[0].scope_logs[0].scope.attributes.extend(key_values(scope))
    out = run(config, Signal.LOGS, logs)
    assert as_dict(out.resource_logs[0].scope_logs[0].scope.attributes) == expected  # type: ignore[attr-defined]

    metrics = gauge_request({"k": "v"})
    metrics.resource_metrics[0].scope_metrics[0].scope.attributes.extend(key_values(scope))
    out = run(config, Signal.METRICS, metrics)
    assert as_dict(out.resource_metrics[0].scope_metrics[0].scope.attributes) == expected  # type: ignore[attr-defined]


def test_exemplar_filtered_attributes_are_redacted() -> None:
    """An exemplar's filtered attributes are the measurement's dropped attributes, often a user id
    or e-mail address (issue #13 item 3)."""
    config = Config(allow_all_keys=True, blocked_values=[r"4[0-9]{15}"], pii=PIIConfig(detectors=["email"]))
    request = gauge_request({"route": "/cart"})
    point = request.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0]
    exemplar = point.exemplars.add(time_unix_nano=1, as_double=2.5, trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    exemplar.filtered_attributes.extend(key_values({"user": "ann@example.com", "card": CARD, "n": 3}))
    out = run(config, Signal.METRICS, request)
    [kept] = out.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0].exemplars  # type: ignore[attr-defined]
    assert as_dict(kept.filtered_attributes) == {"user": "[email]", "card": "****", "n": 3}
    assert kept.as_double == 2.5


# Exact config errors and digests (checks the mutation run, `make mutation`, asked for).


@pytest.mark.parametrize("name", ["ignored_key_patterns", "blocked_key_patterns", "blocked_values", "allowed_values"])
def test_an_invalid_regex_names_its_setting(name: str) -> None:
    with pytest.raises(ConfigError) as error:
        Config(**{name: ["ok", "(unclosed"]}).validate()  # type: ignore[arg-type]
    assert str(error.value).startswith(f"{name}: invalid regular expression '(unclosed': ")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hmac_key": "a" * 32, "hash_key": "b" * 32, "hash_function": "hmac-sha256"}, "set hmac_key or hash_key (the same setting), not both"),
        ({"hmac_key": "k" * 31, "hash_function": "hmac-sha256"},
         "hash_function hmac-sha256 needs hmac_key of at least 32 bytes (got 31); load it from a secret, e.g. hmac_key: ${env:REDACTION_HMAC_KEY}"),
        ({"hash_key": "k" * 63, "hash_function": "hmac-sha512"},
         "hash_function hmac-sha512 needs hmac_key of at least 64 bytes (got 63); load it from a secret, e.g. hmac_key: ${env:REDACTION_HMAC_KEY}"),
        ({"hmac_key": "é" * 15 + "k", "hash_function": "hmac-sha256"},
         "hash_function hmac-sha256 needs hmac_key of at least 32 bytes (got 31); load it from a secret, e.g. hmac_key: ${env:REDACTION_HMAC_KEY}"),
        ({"hmac_key": "k" * 64}, "hmac_key is only used with hash_function hmac-sha256 or hmac-sha512"),
        ({"hash_key": "k" * 64, "hash_function": "sha1"}, "hmac_key is only used with hash_function hmac-sha256 or hmac-sha512"),
    ],
)
def test_hash_key_errors(fields: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as error:
        Config(**fields).validate()
    assert str(error.value) == message


@pytest.mark.parametrize(
    "fields",
    [{"hmac_key": "k" * 32, "hash_key": "k" * 32, "hash_function": "hmac-sha256"}, {"hash_key": "é" * 16, "hash_function": "hmac-sha256"},
     {"hmac_key": "k" * 64, "hash_function": "hmac-sha512"}, {"hash_function": "md5"}, {}],
)
def test_hash_key_boundaries_that_are_valid(fields: dict) -> None:  # type: ignore[type-arg]
    Config(**fields).validate()


def test_the_key_is_hmac_key_or_hash_key() -> None:
    assert Config(hmac_key="a").key() == "a" and Config(hash_key="b").key() == "b" and Config().key() == ""


@pytest.mark.parametrize(
    ("function", "key", "expected"),
    [
        ("", "", hashlib.sha256(CARD.encode()).hexdigest()),
        ("md5", "", hashlib.md5(CARD.encode()).hexdigest()),
        ("sha1", "", hashlib.sha1(CARD.encode()).hexdigest()),
        ("sha3", "", hashlib.sha3_256(CARD.encode()).hexdigest()),
        ("hmac-sha256", "s" * 32, hmac.new(b"s" * 32, CARD.encode(), hashlib.sha256).hexdigest()),
        ("hmac-sha512", "s" * 64, hmac.new(b"s" * 64, CARD.encode(), hashlib.sha512).hexdigest()),
    ],
)
def test_each_hash_function_digests_whole_values(function: str, key: str, expected: str) -> None:
    from summitcol.processors.redaction import make_hasher

    assert make_hasher(function, key)(CARD) == expected
    config = Config(allow_all_keys=True, blocked_key_patterns=["^card$"], hash_function=function, hmac_key=key)  # type: ignore[arg-type]
    masked = expected if function else "****"  # without a hash function a blocked key's value is masked
    assert outputs(config, {"card": CARD, "other": CARD}) == [{"card": masked, "other": CARD}] * 5


@pytest.mark.parametrize(
    ("detector", "message"),
    [
        ({"name": "Card", "regex": "x"}, "pii.custom: name 'Card' must be lowercase letters, digits and _ (it is written as [Card])"),
        ({"name": "1card", "regex": "x"}, "pii.custom: name '1card' must be lowercase letters, digits and _ (it is written as [1card])"),
        ({"name": "card-no", "regex": "x"}, "pii.custom: name 'card-no' must be lowercase letters, digits and _ (it is written as [card-no])"),
        ({"name": "email", "regex": "x"}, "pii.custom: 'email' is a built-in detector; pick another name"),
    ],
)
def test_custom_detector_errors(detector: dict, message: str) -> None:  # type: ignore[type-arg]
    from summitcol.processors.redaction import CustomDetector

    with pytest.raises(ConfigError) as error:
        CustomDetector(**detector).validate()
    assert str(error.value) == message


def test_custom_detector_regex_error_and_valid_names() -> None:
    from summitcol.processors.redaction import CustomDetector

    with pytest.raises(ConfigError) as error:
        CustomDetector(name="ticket", regex="(unclosed").validate()
    assert str(error.value).startswith("pii.custom 'ticket' regex: invalid regular expression '(unclosed': ")
    CustomDetector(name="ticket_2", regex="T-[0-9]+").validate()


def test_pii_config_exact_errors() -> None:
    from summitcol.pii.detectors import BUILTIN_NAMES
    from summitcol.processors.redaction import CustomDetector

    with pytest.raises(ConfigError) as error:
        PIIConfig(detectors=["email", "emial", "phoen"]).validate()
    assert str(error.value) == f"pii.detectors: unknown detector(s) emial, phoen; built-ins are {', '.join(BUILTIN_NAMES)}"
    with pytest.raises(ConfigError) as error:
        PIIConfig(detectors=["email"], actions={"zeta": "mask", "alpha": "hash", "email": "mask"}).validate()
    assert str(error.value) == "pii.actions: alpha, zeta is not an enabled detector"
    PIIConfig(detectors=["email"], actions={"email": "mask", "ticket": "hash"}, custom=[CustomDetector(name="ticket", regex="T-[0-9]+")]).validate()
    PIIConfig().validate()
    assert PIIConfig().detectors == list(BUILTIN_NAMES) and PIIConfig().signals == ["traces", "logs", "metrics"]
    assert (PIIConfig().action, PIIConfig().actions, PIIConfig().include_keys, PIIConfig().exclude_keys) == ("replace", {}, [], [])


@pytest.mark.parametrize(
    ("action", "expected"),
    [("replace", "[password_keys]"), ("mask", "*" * 9), ("hash", hashlib.sha256(b"hunter2!!").hexdigest()), ("remove", None)],
)
def test_password_keys_take_their_action_on_the_whole_value(action: str, expected: str | None) -> None:
    config = Config(allow_all_keys=True, pii=PIIConfig(detectors=["password_keys"], actions={"password_keys": action}))  # type: ignore[dict-item]
    for out in outputs(config, {"db.password": "hunter2!!", "x-api-key": "hunter2!!", "user": "hunter2!!"}):
        if expected is None:
            assert out == {"user": "hunter2!!"}
        else:
            assert out == {"db.password": expected, "x-api-key": expected, "user": "hunter2!!"}


def test_include_keys_limit_pii_to_those_keys_and_exclude_keys_win() -> None:
    pii = PIIConfig(detectors=["email"], include_keys=["a", "b", "body"], exclude_keys=["b"])
    config = Config(allow_all_keys=True, pii=pii)
    attributes = {"a": "x@example.com", "b": "y@example.com", "c": "z@example.com"}
    for out in outputs(config, attributes):
        assert out == {"a": "[email]", "b": "y@example.com", "c": "z@example.com"}
    logs = run(config, Signal.LOGS, log_request({}, body="mail x@example.com"))
    assert logs.resource_logs[0].scope_logs[0].log_records[0].body.string_value == "mail [email]"
    request = span_request({})
    request.resource_spans[0].scope_spans[0].spans[0].status.message = "no user x@example.com"
    out = run(config, Signal.TRACES, request)  # status.message is not among include_keys
    assert out.resource_spans[0].scope_spans[0].spans[0].status.message == "no user x@example.com"
    excluded = Config(allow_all_keys=True, pii=PIIConfig(detectors=["email"], exclude_keys=["body"]))
    logs = run(excluded, Signal.LOGS, log_request({}, body="mail x@example.com"))
    assert logs.resource_logs[0].scope_logs[0].log_records[0].body.string_value == "mail x@example.com"


def test_the_processor_counts_detections_per_detector() -> None:
    import asyncio

    from summitcol.component import ComponentID, CreateSettings
    from summitcol.processors.redaction import FACTORY, RedactionProcessor
    from summitcol.telemetry import Telemetry

    class Sink:
        def __init__(self) -> None:
            self.data: list[SignalData] = []

        async def consume(self, data: SignalData) -> None:
            self.data.append(data)

    sink, telemetry = Sink(), Telemetry()
    config = Config(allow_all_keys=True, pii=PIIConfig(detectors=["email", "password_keys"]))
    processor = FACTORY.create(CreateSettings(id=ComponentID("redaction", "pii"), telemetry=telemetry), config, next_consumer=sink)
    assert isinstance(processor, RedactionProcessor) and processor.redactor.config is config
    tables, _ = CODECS[Signal.TRACES].from_otlp(span_request({"e": "a@example.com b@example.com", "token": "s3cret"}), DEFAULT_LIMITS)
    asyncio.run(processor.consume(SignalData(Signal.TRACES, tables)))
    span = to_message(sink.data[0]).resource_spans[0].scope_spans[0].spans[0]
    assert as_dict(span.attributes) == {"e": "[email] [email]", "token": "[password_keys]"}
    value = telemetry.value
    # values with a detection (two addresses in one value count once), on the span, its event and its link
    assert value("summitcol_processor_redaction_pii_detections_total", processor="redaction/pii", detector="email") == 3
    assert value("summitcol_processor_redaction_pii_detections_total", processor="redaction/pii", detector="password_keys") == 3


def test_pii_runs_only_on_its_signals() -> None:
    config = Config(allow_all_keys=True, pii=PIIConfig(detectors=["email"], signals=["logs"]))
    out = outputs(config, {"e": "x@example.com"})
    assert out[:3] == [{"e": "x@example.com"}] * 3 and out[4] == {"e": "x@example.com"}  # traces, metrics
    assert out[3] == {"e": "[email]"}  # the log record
    logs = run(config, Signal.LOGS, log_request({}, body="mail x@example.com"))
    assert logs.resource_logs[0].scope_logs[0].log_records[0].body.string_value == "mail [email]"
    traces_only = Config(allow_all_keys=True, pii=PIIConfig(detectors=["email"], signals=["traces"]))
    logs = run(traces_only, Signal.LOGS, log_request({}, body="mail x@example.com"))
    assert logs.resource_logs[0].scope_logs[0].log_records[0].body.string_value == "mail x@example.com"


def test_removed_password_keys_and_keys_not_allowed_both_go() -> None:
    config = Config(allowed_keys=["db.password", "user"], pii=PIIConfig(detectors=["password_keys"], actions={"password_keys": "remove"}))
    for out in outputs(config, {"db.password": "hunter2", "user": "bob", "other": "x"}):
        assert out == {"user": "bob"}


def test_an_allowed_value_keeps_the_log_body_a_blocked_one_masks_it() -> None:
    config = Config(allow_all_keys=True, blocked_values=["4[0-9]{15}"], allowed_values=["^keep "])
    for body, expected in [("paid 4111111111111111", "paid ****"), ("keep 4111111111111111", "keep 4111111111111111"), ("plain", "plain")]:
        logs = run(config, Signal.LOGS, log_request({}, body=body))
        assert logs.resource_logs[0].scope_logs[0].log_records[0].body.string_value == expected
