"""Generate the error-grouping corpus (`corpus.jsonl.gz`) by running real programs.

    python tests/data/errors_independent/generate.py --out tests/data/errors_independent/corpus.jsonl.gz
    python tests/data/errors_independent/generate.py --only py.tree/weight-none --out -      # one group, to stdout

Three small applications under `programs/` (a Python shop, a Node.js gateway, a Java ledger, each
with a vendored "library" in site-packages / node_modules / its own jar) contain one bug per true
group. The generator copies a program into a temporary directory, writes versioned copies of it
(v1.1 and v1.2 insert lines of real code at the top of every application file, so every line
number shifts), and runs one process per (language, release, directory) batch. That process
raises every planned exception in a loop, through the planned entry point (HTTP handler,
background job, CLI) and wrapper depth, and prints exception.type / exception.message /
exception.stacktrace exactly as that language's OpenTelemetry SDK records them.

Deterministic: message parameters come from a random.Random seeded per group, ids and the split
from hashes of the seed and the label, and the only rewriting of the output is the temporary-dir
variation itself: the real temporary directory (and the Python standard library's directory) are
replaced by the variation's deployment root, so the same seed gives the same bytes on every run.
Same bytes assume the same runtimes (RUNTIMES below): the standard library's line numbers and the
JDK's / V8's frames are part of the traces.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import string
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
DEFAULT_SEED = 20261203
TEST_FRACTION = 0.3
# The runtimes the committed corpus was generated with; other versions give other frames/lines.
RUNTIMES = {"python": "3.11.7", "node": "v20.20.2", "java": "17.0.15"}

# ------------------------------------------------------------------ variations

# release -> lines of code inserted at every `@release-insert` marker (0 for the base release)
RELEASES = {"v1.0": 0, "v1.1": 7, "v1.2": 19}
# Variation kinds, in the order they appear in an event's `variation` field.
VARIATION_KINDS = ("params", "args", "release", "callpath", "wrappers", "depth", "host", "tmpdir")
# Message-parameter kinds a group's `param_kinds` may name.
PARAM_KINDS = ("id", "number", "uuid", "path", "email", "username", "hex", "duration", "name")
# Near-miss kinds: pairs of groups that must stay apart.
NEAR_MISS_KINDS = ("same-type-and-message-other-site", "other-type-same-site", "same-function-other-module")
BASE_DEPTH = 3
DEPTHS = (10, 50)


@dataclass(frozen=True)
class Language:
    name: str  # corpus `language`
    sdk_language: str  # telemetry.sdk.language
    service: str
    marker: str  # the release-insert marker line (stripped)
    insert_line: Callable[[str, int], str]  # (release, i) -> one line of real code


LANGUAGES = {
    "python": Language("python", "python", "orders-service", "# @release-insert",
                       lambda rel, i: f'_RELEASE_NOTE_{i} = "{rel}: change {i}"'),
    "node": Language("node", "nodejs", "web-gateway", "// @release-insert",
                     lambda rel, i: f"const RELEASE_NOTE_{i} = '{rel}: change {i}';"),
    "java": Language("java", "java", "ledger-service", "// @release-insert",
                     lambda rel, i: f'static final String RELEASE_NOTE_{i} = "{rel}: change {i}";'),
}
LANG_PREFIX = {"py": "python", "node": "node", "java": "java"}


@dataclass(frozen=True)
class Group:
    """One true bug: a scenario in one program, with the message parameters it varies."""

    label: str  # "<family>/<name>"; the family keeps near misses in one split
    scenario: str
    params: Callable[[random.Random, int], Any]  # (rng, depth) -> the scenario's arguments
    param_kinds: tuple[str, ...] = ()
    recursive: bool = False
    near_miss: tuple[str, str] | None = None  # (other label, kind from NEAR_MISS_KINDS)
    traits: tuple[str, ...] = ()  # "library" (library frames on top), "chained"
    bug: str = ""

    @property
    def language(self) -> str:
        return LANG_PREFIX[self.label.split(".", 1)[0]]

    @property
    def family(self) -> str:
        return self.label.split("/", 1)[0]


@dataclass(frozen=True)
class Planned:
    """One event to produce: where it runs and how it differs from its group's base event."""

    group: Group
    index: int
    release: str = "v1.0"
    root: str = "A"
    host: int = 0
    entry: str = "http"
    wrappers: int = 0
    depth: int = BASE_DEPTH
    fresh_params: bool = False

    @property
    def event_id(self) -> str:
        return f"{self.group.label}#{self.index:02d}"


def plan_group(group: Group) -> list[Planned]:
    """The events of one group: a base event, then each variation alone, then a few combined."""
    specs: list[dict[str, Any]] = [
        {},
        *({"fresh_params": True} for _ in range(5)),
        {"release": "v1.1"}, {"release": "v1.1", "fresh_params": True},
        {"release": "v1.2"}, {"release": "v1.2", "fresh_params": True},
        {"entry": "job"}, {"entry": "cli"}, {"entry": "job", "fresh_params": True},
        {"wrappers": 1}, {"wrappers": 3}, {"wrappers": 5, "entry": "cli", "fresh_params": True},
        {"host": 1}, {"host": 2, "fresh_params": True},
        {"root": "B"}, {"root": "C"},
        {"release": "v1.2", "root": "B", "host": 3, "entry": "job", "wrappers": 2, "fresh_params": True},
        {"release": "v1.1", "root": "C", "host": 4, "entry": "cli", "wrappers": 4, "fresh_params": True},
    ]
    if group.recursive:
        specs += [{"depth": 10}, {"depth": 10, "entry": "job"}, {"depth": 50}, {"depth": 50, "release": "v1.2"}]
    return [Planned(group=group, index=i, **spec) for i, spec in enumerate(specs)]


# ------------------------------------------------------------------ parameter helpers

def _pick(rng: random.Random, items: Iterable[Any]) -> Any:
    return rng.choice(list(items))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_pick(rng, '89ab')}{h[17:20]}-{h[20:]}"


USERNAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
             "oscar", "peggy", "trent", "victor", "wendy", "li.wei", "maria.rossi", "k.tanaka", "o.okafor"]
DOMAINS = ["example.com", "mail.example.org", "corp-internal.io", "shop.example.net"]


def _user(rng: random.Random) -> str:
    return _pick(rng, USERNAMES)


def _order(rng: random.Random) -> str:
    return f"ORD-{_digits(rng, 6)}"


def _sku(rng: random.Random) -> str:
    return f"SKU-{rng.randint(2000, 99999)}"


def _account(rng: random.Random) -> str:
    return f"ACC-{_digits(rng, 8)}"


def _last4(rng: random.Random) -> str:
    return _digits(rng, 4)


def _bad_email(rng: random.Random) -> str:
    user = _user(rng)
    return _pick(rng, [f"{user}@{_pick(rng, DOMAINS).split('.')[0]}", f"{user}@@{_pick(rng, DOMAINS)}",
                       f"{user}.{_pick(rng, DOMAINS)}", f"{user} @{_pick(rng, DOMAINS)}"])


def _bad_json(rng: random.Random) -> str:
    key = _pick(rng, ["rollout", "checkout_v2", "dark_mode", "beta_users", "max_items"])
    return f'{{"{key}": {rng.randint(1, 500)}, "{_pick(rng, ["owner", "stage", "ttl"])}": }}'


def _missing(required: tuple[str, ...], rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    drop = _pick(rng, required)
    return {k: v for k, v in base.items() if k != drop}


def _timeout(rng: random.Random) -> float:
    return _pick(rng, [0.5, 2.5, 5, 10, 15, 30, 60])


# ------------------------------------------------------------------ the groups

SAME_SITE = "other-type-same-site"
OTHER_SITE = "same-type-and-message-other-site"
OTHER_MODULE = "same-function-other-module"

PY_ORDER_REQUIRED = ("order_id", "customer", "lines")
PY_USER_REQUIRED = ("username", "email", "password")

GROUPS: list[Group] = [
    # ---------------------------------------------------------------- Python (shop)
    Group("py.inventory/reserve-unknown-sku", "inventory.reserve",
          lambda r, d: {"order_id": _order(r), "sku": _sku(r), "qty": r.randint(1, 9)}, ("id",),
          bug="inventory.reserve indexes STOCK with an unknown SKU"),
    Group("py.inventory/release-unknown-sku", "inventory.release",
          lambda r, d: {"order_id": _order(r), "sku": _sku(r), "qty": r.randint(1, 9)}, ("id",),
          near_miss=("py.inventory/reserve-unknown-sku", OTHER_SITE),
          bug="inventory.release indexes STOCK with an unknown SKU"),
    Group("py.orders/quantity-not-numeric", "orders.add_line",
          lambda r, d: {"order_id": _order(r), "sku": _sku(r),
                        "quantity": f"{r.randint(1, 99)}{_pick(r, ['x', ' pcs', 'kg', '.5', ',0'])}"}, ("number",),
          bug="orders.parse_quantity calls int() on free text"),
    Group("py.orders/quantity-missing", "orders.add_line",
          lambda r, d: {"order_id": _order(r), "sku": _sku(r),
                        "quantity": _pick(r, [None, [r.randint(1, 9)], {"n": r.randint(1, 9)}])}, ("name",),
          near_miss=("py.orders/quantity-not-numeric", SAME_SITE),
          bug="orders.parse_quantity calls int() on a missing / structured quantity"),
    Group("py.payments/charge-declined", "payments.charge",
          lambda r, d: {"order_id": _order(r), "card_last4": _last4(r), "amount_cents": r.randint(100, 90000)},
          ("id", "number"), bug="payments.charge raises PaymentDeclined"),
    Group("py.payments/refund-declined", "payments.refund",
          lambda r, d: {"order_id": _order(r), "card_last4": _last4(r), "amount_cents": r.randint(100, 90000)},
          ("id", "number"), near_miss=("py.payments/charge-declined", OTHER_SITE),
          bug="payments.refund raises PaymentDeclined with the same message"),
    Group("py.validate/users-missing-field", "users.register",
          lambda r, d: {"payload": _missing(PY_USER_REQUIRED, r, {"username": _user(r), "email": "x@example.com",
                                                                 "password": "hunter2"})}, ("name",),
          bug="users.validate rejects a registration without a required field"),
    Group("py.validate/orders-missing-field", "orders.submit",
          lambda r, d: {"payload": _missing(PY_ORDER_REQUIRED, r, {"order_id": _order(r), "customer": _user(r),
                                                                  "lines": []})}, ("name",),
          near_miss=("py.validate/users-missing-field", OTHER_MODULE),
          bug="orders.validate (same name as users.validate) rejects an order without a required field"),
    Group("py.users/notify-unknown-user", "users.notify",
          lambda r, d: {"user_id": r.randint(1000, 99999), "template": _pick(r, ["welcome", "reset", "invoice"])},
          bug="users.notify dereferences find() == None"),
    Group("py.auth/token-expired", "auth.check",
          lambda r, d: {"user": _user(r), "age_seconds": 3600 + r.randint(1, 86400), "ttl_seconds": 3600,
                        "roles": ["reader"], "needed": "reader"}, ("username", "duration"),
          bug="auth.check: expired token"),
    Group("py.auth/missing-role", "auth.check",
          lambda r, d: {"user": _user(r), "age_seconds": r.randint(0, 3000), "ttl_seconds": 3600,
                        "roles": ["reader"], "needed": _pick(r, ["admin", "billing", "support", "writer"])},
          ("username", "name"), near_miss=("py.auth/token-expired", SAME_SITE),
          bug="auth.check: PermissionDenied raised in the same function as the expired-token error"),
    Group("py.config/include-unknown-section", "config.load",
          lambda r, d: {"depth": d, "missing": _pick(r, ["database", "cache", "smtp", "feature_flags", "tls"])},
          ("name",), recursive=True, bug="config.expand recurses through includes to an unknown section"),
    Group("py.tree/weight-none", "tree.weigh", lambda r, d: {"depth": d}, recursive=True,
          bug="tree.total_weight recurses one level past the last node"),
    Group("py.storage/save-order-timeout", "storage.save",
          lambda r, d: {"order_id": _order(r), "host": f"db-{r.randint(1, 9)}.internal", "timeout_s": _timeout(r)},
          ("id", "duration"), traits=("chained",), bug="storage.save_order: StorageError from TimeoutError"),
    Group("py.storage/archive-order-timeout", "storage.archive",
          lambda r, d: {"order_id": _order(r), "host": f"db-{r.randint(1, 9)}.internal", "timeout_s": _timeout(r)},
          ("id", "duration"), traits=("chained",), near_miss=("py.storage/save-order-timeout", OTHER_SITE),
          bug="storage.archive_order: the same StorageError from the same TimeoutError, another caller"),
    Group("py.importer/malformed-json", "importer.load",
          lambda r, d: {"batch_id": f"B-{_digits(r, 5)}", "text": _bad_json(r)}, ("number",),
          bug="importer.parse: json.loads on a malformed partner file (stdlib frames on top)"),
    Group("py.importer/fallback-missing", "importer.load_with_fallback",
          lambda r, d: {"batch_id": f"B-{_digits(r, 5)}", "text": _bad_json(r)}, ("id",), traits=("chained",),
          bug="importer.load_with_fallback: KeyError while handling JSONDecodeError (implicit chain)"),
    Group("py.reports/average-no-baskets", "reports.average",
          lambda r, d: {"day": f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}", "baskets": []},
          bug="reports.average divides by len([])"),
    Group("py.reports/ratio-no-visits", "reports.ratio",
          lambda r, d: {"day": f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}", "visits": 0,
                        "orders": r.randint(0, 50)},
          near_miss=("py.reports/average-no-baskets", OTHER_SITE), bug="reports.conversion_ratio divides by 0 visits"),
    Group("py.reports/top-products-no-price", "reports.top",
          lambda r, d: {"rows": [{"name": f"p{i}", "sold": r.randint(1, 99)} for i in range(r.randint(1, 4))],
                        "limit": 5}, bug="the sort-key lambda in reports.top_products reads a missing 'price'"),
    Group("py.files/export-template-missing", "files.export",
          lambda r, d: {"path": f"/var/lib/shop/templates/{_pick(r, ['daily', 'weekly', 'vat'])}-"
                                f"{r.randint(2024, 2026)}{r.randint(1, 12):02d}.tmpl", "rows": r.randint(1, 500)},
          ("path",), bug="files._read_template opens a template that is not deployed"),
    Group("py.queue/cache-evict-empty", "cache.evict",
          lambda r, d: (lambda n: {"keys": [f"/p/{i}" for i in range(n)], "count": n + 1})(r.randint(0, 3)),
          bug="PageCache.evict_oldest pops from an empty list"),
    Group("py.queue/next-job-empty", "jobs.next",
          lambda r, d: (lambda n: {"jobs": [f"job-{i}" for i in range(n)], "count": n + 1})(r.randint(0, 3)),
          near_miss=("py.queue/cache-evict-empty", OTHER_SITE), bug="WorkQueue.next_job pops from an empty list"),
    Group("py.integrity/checksum-mismatch", "integrity.verify",
          lambda r, d: {"blob_id": _hex(r, 12), "expected": _hex(r, 16), "content": _hex(r, 20)}, ("hex",),
          bug="integrity.verify: stored checksum does not match"),
    Group("py.lib/codec-unserializable", "integrations.publish",
          lambda r, d: {"order_id": _order(r), **_pick(r, [
              {"field": "total", "kind": "decimal", "raw": f"{r.randint(1, 999)}.{r.randint(0, 99):02d}"},
              {"field": "tags", "kind": "set", "raw": ["gift", "express"][: r.randint(1, 2)]},
              {"field": "shipped_on", "kind": "datetime", "raw": f"2026-{r.randint(1, 12):02d}-0{r.randint(1, 9)}"}])},
          ("name",), traits=("library",),
          bug="integrations.publish_order hands acmelib.codec a value json cannot encode"),
    Group("py.lib/retry-exhausted", "integrations.sync",
          lambda r, d: {"url": f"https://catalog.partner{r.randint(1, 40)}.example/v2/items?page={r.randint(1, 300)}",
                        "attempts": r.randint(2, 6)}, ("id", "number"), traits=("library", "chained"),
          bug="acmelib.http.with_retries gives up; the cause is the app's ConnectionResetError"),
    Group("py.quotes/unknown-symbol", "quotes.refresh",
          lambda r, d: {"symbols": ["EURUSD", "".join(r.choice(string.ascii_uppercase) for _ in range(6))]},
          ("id",), bug="quotes._load (asyncio) raises for an unknown symbol"),
    # ---------------------------------------------------------------- Node.js (gateway)
    Group("node.cart/off-by-one", "cart.summarize",
          lambda r, d: {"items": [{"price": r.randint(1, 90), "qty": r.randint(1, 3)} for _ in range(r.randint(1, 4))],
                        "pageSize": 10}, bug="cart.summarize loops to i <= items.length"),
    Group("node.cart/bad-page-size", "cart.summarize",
          lambda r, d: (lambda n: {"items": [{"price": 5, "qty": 1}] * n, "pageSize": r.randint(-n, 0)})(r.randint(1, 4)),
          near_miss=("node.cart/off-by-one", SAME_SITE), bug="cart.summarize: new Array() with a negative length"),
    Group("node.users/user-not-found", "users.get", lambda r, d: {"userId": r.randint(2, 999999)}, ("number",),
          bug="users.getUser: unknown id"),
    Group("node.users/session-owner-not-found", "sessions.owner",
          lambda r, d: {"sessionId": _uuid(r), "userId": r.randint(2, 999999)}, ("number",),
          near_miss=("node.users/user-not-found", OTHER_SITE),
          bug="sessions.loadOwner throws the same NotFoundError text as users.getUser"),
    Group("node.json/config-parse", "config.load", lambda r, d: {"text": _bad_json(r)}, ("number", "name"),
          bug="config.parse: JSON.parse on a malformed flag document"),
    Group("node.json/webhook-parse", "webhook.receive", lambda r, d: {"raw": _bad_json(r)}, ("number", "name"),
          near_miss=("node.json/config-parse", OTHER_SITE), bug="webhook.parseBody: JSON.parse on a malformed body"),
    Group("node.lib/invalid-email", "signup.create",
          lambda r, d: {"username": _user(r), "email": _bad_email(r)}, ("email",), traits=("library",),
          bug="acme-validate (node_modules) rejects the sign-up email"),
    Group("node.lib/upstream-status", "inventory.stock",
          lambda r, d: {"sku": _sku(r), "status": _pick(r, [500, 502, 503, 504]), "requestId": _hex(r, 12)},
          ("id", "number", "hex"), traits=("library",), bug="acme-http (node_modules) throws on a 5xx (async)"),
    Group("node.quotes/fetch-timeout", "quotes.fetch",
          lambda r, d: {"symbol": _pick(r, ["EURUSD", "GBPUSD", "USDJPY", "BTCEUR"]),
                        "timeoutMs": _pick(r, [250, 500, 1000, 2500, 5000])}, ("duration", "id"),
          bug="quotes.fetchQuote times out (async frames)"),
    Group("node.tree/walk-null-child", "tree.count", lambda r, d: {"depth": d}, recursive=True,
          bug="tree.walk recurses into a null child"),
    Group("node.menu/unknown-widget", "menu.render",
          lambda r, d: {"depth": d, "widget": _pick(r, ["carousel", "accordion", "tabs", "marquee"])}, ("name",),
          recursive=True, bug="menu.render recurses to a widget type with no renderer"),
    Group("node.format/invoice-amount-string", "invoices.format",
          lambda r, d: {"invoiceId": f"INV-{_digits(r, 5)}", "amount": f"{r.randint(1, 999)}.{r.randint(0, 99):02d}"},
          ("number",), bug="invoices.format gets the amount as a string"),
    Group("node.format/receipt-amount-string", "receipts.format",
          lambda r, d: {"receiptId": f"R-{_digits(r, 5)}", "amount": f"{r.randint(1, 999)}.{r.randint(0, 99):02d}"},
          ("number",), near_miss=("node.format/invoice-amount-string", OTHER_MODULE),
          bug="receipts.format (same name as invoices.format) gets the amount as a string"),
    Group("node.pricing/tax-rate-undefined", "pricing.tax",
          lambda r, d: {"lines": [{"net": r.randint(1, 500)} for _ in range(r.randint(1, 3))]},
          bug="an arrow callback in pricing.withTax uses an undefined variable"),
    Group("node.payments/charge-declined", "payments.charge",
          lambda r, d: {"orderId": _order(r), "last4": _last4(r), "cents": r.randint(100, 90000)}, ("id", "number"),
          bug="PaymentService.charge declines"),
    Group("node.payments/refund-declined", "payments.refund",
          lambda r, d: {"orderId": _order(r), "last4": _last4(r), "cents": r.randint(100, 90000)}, ("id", "number"),
          near_miss=("node.payments/charge-declined", OTHER_SITE),
          bug="PaymentService.refund declines with the same message"),
    Group("node.sessions/save-failed", "sessions.save",
          lambda r, d: {"sessionId": _uuid(r), "shard": f"redis-{r.randint(1, 12)}"}, ("uuid",),
          bug="sessions.saveSession wraps ECONNRESET (Error cause; err.stack shows only the outer error)"),
    Group("node.queue/unhandled-type", "queue.consume",
          lambda r, d: {"type": _pick(r, ["order.cancelled", "invoice.paid", "user.deleted", "refund.created"]),
                        "producer": f"{_pick(r, ['billing', 'crm', 'erp'])}-{r.randint(1, 9)}"}, ("name", "id"),
          bug="the queue's EventEmitter listener has no handler for the type"),
    Group("node.links/invalid-url", "links.normalize",
          lambda r, d: {"url": _pick(r, [f"shop/items/{r.randint(1, 9999)}", f"http//example.com/p/{r.randint(1, 99)}",
                                         f"//cdn/{_hex(r, 6)}.png", f"www.example.com/{_user(r)}"])},
          bug="links.canonical: new URL() on a relative link (node:internal frame on top)"),
    # ---------------------------------------------------------------- Java (ledger)
    Group("java.accounts/deposit-null-balance", "accounts.deposit",
          lambda r, d: [_account(r), str(r.randint(1, 5000))],
          bug="AccountService.deposit: balance of an unknown account is null (helpful NPE)"),
    Group("java.accounts/withdraw-frozen", "accounts.withdraw",
          lambda r, d: [_account(r), str(r.randint(1, 5000))], ("id",), bug="AccountService.withdraw: frozen"),
    Group("java.accounts/transfer-frozen", "transfers.transfer",
          lambda r, d: [_account(r), _account(r), str(r.randint(1, 5000))], ("id",),
          near_miss=("java.accounts/withdraw-frozen", OTHER_SITE),
          bug="TransferService.transfer: the same IllegalStateException text"),
    Group("java.amounts/not-a-number", "amounts.parse",
          lambda r, d: [_pick(r, [f"{r.randint(1, 99)},{r.randint(0, 99):02d}", f"{r.randint(1, 9)}O0",
                                  f"EUR{r.randint(1, 99)}", f"{r.randint(1, 99)}.5"])], ("number",),
          bug="AmountParser.parseCents: Integer.parseInt on text (NumberFormatException)"),
    Group("java.amounts/not-positive", "amounts.parse", lambda r, d: [str(-r.randint(0, 9999))], ("number",),
          near_miss=("java.amounts/not-a-number", SAME_SITE),
          bug="AmountParser.parseCents: IllegalArgumentException for <= 0 in the same method"),
    Group("java.repo/account-query-failed", "repo.account",
          lambda r, d: [_account(r), f"db-{r.randint(1, 9)}"], ("id",), traits=("chained",),
          bug="AccountRepository.findById: DataAccessException caused by SQLException"),
    Group("java.repo/statement-query-failed", "repo.statement",
          lambda r, d: [_account(r), f"db-{r.randint(1, 9)}"], ("id",), traits=("chained",),
          near_miss=("java.repo/account-query-failed", OTHER_SITE),
          bug="StatementRepository.findOwner: the same wrapper and cause, another repository"),
    Group("java.lib/jsonlite-unexpected-char", "imports.json",
          lambda r, d: [f"B-{_digits(r, 5)}", _bad_json(r)], ("number",), traits=("library",),
          bug="com.vendor.jsonlite (separate jar) rejects a malformed import"),
    Group("java.lib/retry-exhausted", "imports.sync",
          lambda r, d: [f"rates{r.randint(1, 30)}.example.net", str(r.randint(2, 6))], ("number", "id"),
          traits=("library", "chained"), bug="com.vendor.retry gives up; the cause is ConnectException from a lambda"),
    Group("java.tree/sum-null-parent", "tree.sum", lambda r, d: [str(d)], recursive=True,
          bug="TreeSum.sum recurses past the root"),
    Group("java.reports/average-divide-by-zero", "reports.average",
          lambda r, d: [f"{r.randint(1, 999)}:{r.randint(1, 9)}" for _ in range(r.randint(0, 3))] + ["50:0"],
          bug="a stream lambda in ReportService.averagePerAccount divides by a zero count"),
    Group("java.reports/interest-divide-by-zero", "reports.interest",
          lambda r, d: [str(r.randint(1, 900)), "0"], near_miss=("java.reports/average-divide-by-zero", OTHER_SITE),
          bug="InterestCalculator.monthlyRate divides by 0 months"),
    Group("java.validate/accounts-missing-iban", "accounts.open", lambda r, d: [_user(r), ""],
          bug="accounts.Validator.validate: no iban"),
    Group("java.validate/payments-missing-iban", "payments.submit",
          lambda r, d: [_user(r), f"RF{_digits(r, 8)}"], near_miss=("java.validate/accounts-missing-iban", OTHER_MODULE),
          bug="payments.Validator.validate (same class and method name, other package): no iban"),
    Group("java.statements/line-out-of-range", "statements.line",
          lambda r, d: (lambda n: [str(n), str(n + r.randint(0, 5))])(r.randint(0, 40)), ("number",),
          bug="StatementService.lineAt: ArrayList.get past the end"),
    Group("java.batch/prune-while-iterating", "batch.prune",
          lambda r, d: [str(r.randint(3, 50)), str(r.randint(2, 7))],
          bug="BatchService.prune removes from the list it iterates (message is null)"),
    Group("java.scheduler/job-already-running", "scheduler.trigger",
          lambda r, d: [f"{_pick(r, ['reconcile', 'settle', 'export'])}-{r.randint(1, 999)}"], ("id",),
          bug="an anonymous Runnable in Scheduler.trigger (Scheduler$1.run)"),
    Group("java.customers/no-primary-address", "customers.address", lambda r, d: [f"C-{_digits(r, 6)}"],
          bug="CustomerService.primaryAddress: Optional.get() on empty"),
    Group("java.currency/unknown-code", "currency.parse",
          lambda r, d: [_pick(r, ["xyz", "eur ", "usdt", "btc", "jpy", "sek"]), f"L{r.randint(1, 999)}"], ("name",),
          bug="CurrencyParser.parse: Enum.valueOf on an unsupported code"),
]
GROUPS_BY_LABEL = {g.label: g for g in GROUPS}


# ------------------------------------------------------------------ split and hosts

def _hash(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def split_of(seed: int) -> dict[str, str]:
    """Group label -> "train" / "test": whole families, ~TEST_FRACTION of each language's groups."""
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        groups = [g for g in GROUPS if g.language == lang]
        families: dict[str, list[Group]] = {}
        for g in groups:
            families.setdefault(g.family, []).append(g)
        target = round(TEST_FRACTION * len(groups))
        in_test = 0
        for fam in sorted(families, key=lambda f: _hash(seed, "split", f)):
            size = len(families[fam])
            split = "test" if in_test < target and in_test + size <= target + 1 else "train"
            in_test += size if split == "test" else 0
            for g in families[fam]:
                out[g.label] = split
    return out


def hosts(seed: int, lang: Language) -> list[str]:
    rng = random.Random(f"{seed}:hosts:{lang.name}")
    return [f"{lang.service}-{_hex(rng, 10)}-{''.join(rng.choice(string.ascii_lowercase) for _ in range(5))}"
            for _ in range(5)]


def roots(seed: int, lang: Language) -> dict[str, str]:
    """Deployment-root variations: A is the base; B and C are other directories the copy runs from."""
    rng = random.Random(f"{seed}:roots:{lang.name}")
    tmp = "".join(rng.choice(string.ascii_lowercase + string.digits + "_") for _ in range(8))
    stamp = f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}"
    return {"A": f"/srv/{lang.service}", "B": f"/tmp/tmp{tmp}/{lang.service}",
            "C": f"/home/deploy/releases/{stamp}/{lang.service}"}


# Where each deployment root's Python keeps its standard library (replaces the real stdlib dir).
PY_STDLIB = {"A": "/usr/local/lib/python3.11", "B": "/usr/lib/python3.11",
             "C": "/home/deploy/.pyenv/versions/3.11.7/lib/python3.11"}


# ------------------------------------------------------------------ running programs

def copy_release(src: Path, dst: Path, lang: Language, release: str) -> None:
    """Copy a program tree, inserting RELEASES[release] lines of code at every marker."""
    n = RELEASES[release]
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text(encoding="utf-8")
        if n and lang.marker in text:
            lines = []
            for line in text.splitlines(keepends=True):
                lines.append(line)
                if line.strip() == lang.marker:
                    indent = line[: len(line) - len(line.lstrip())]
                    lines.extend(f"{indent}{lang.insert_line(release, i)}\n" for i in range(n))
            text = "".join(lines)
        target.write_text(text, encoding="utf-8")


def _task_args(event: Planned, seed: int, base_args: Any) -> Any:
    if not event.fresh_params and event.depth == BASE_DEPTH:
        return base_args
    rng = random.Random(f"{seed}:params:{event.group.label}:{event.index}")
    args = event.group.params(rng, event.depth) if event.fresh_params else None
    if args is None:  # depth-only variation keeps the base parameters
        args = event.group.params(random.Random(f"{seed}:params:{event.group.label}:base"), event.depth)
    return args


def _java_line(task: dict[str, Any]) -> str:
    fields = [task["id"], task["entry"], str(task["wrappers"]), task["scenario"], *task["args"]]
    for f in fields:
        if "\t" in f or "\n" in f:
            raise ValueError(f"java task field {f!r} holds a tab or newline; the Java driver reads TSV")
    return "\t".join(fields)


class Runner:
    """Prepares program copies per (language, release, root) and runs one process per batch."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.workdir = workdir
        self.seed = seed
        self._java_builds: dict[str, Path] = {}

    def run_batch(self, lang: Language, release: str, root: str, tasks: list[dict[str, Any]]) -> dict[str, dict]:
        real_root = Path(tempfile.mkdtemp(prefix=f"{lang.name}-{release}-{root}-", dir=self.workdir))
        if lang.name == "python":
            copy_release(PROGRAMS / "python" / "shop", real_root / "app" / "shop", lang, release)
            shutil.copy(PROGRAMS / "python" / "driver.py", real_root / "app" / "driver.py")
            site = real_root / "venv" / "lib" / "python3.11" / "site-packages"
            shutil.copytree(PROGRAMS / "python" / "site-packages", site)
            cmd = [sys.executable, "-I", "-B", str(real_root / "app" / "driver.py"), str(site)]
            stdin = "".join(json.dumps(t) + "\n" for t in tasks)
            env = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")}
        elif lang.name == "node":
            copy_release(PROGRAMS / "node", real_root / "app", lang, release)
            cmd = ["node", str(real_root / "app" / "driver.js")]
            stdin = "".join(json.dumps(t) + "\n" for t in tasks)
            env = {"PATH": os.environ.get("PATH", "")}
        else:
            build = self._java_build(lang, release)
            shutil.copytree(build, real_root / "app")
            cp = f"{real_root / 'app' / 'classes'}:{real_root / 'app' / 'lib' / 'acme-vendor-1.4.2.jar'}"
            cmd = ["java", "-XX:-OmitStackTraceInFastThrow", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                   "-cp", cp, "com.acme.ledger.Driver"]
            stdin = "".join(_java_line(t) + "\n" for t in tasks)
            env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
        proc = subprocess.run(cmd, input=stdin.encode(), capture_output=True, cwd=real_root, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{lang.name} {release}/{root} failed ({proc.returncode}):\n{proc.stderr.decode()}")
        virtual = roots(self.seed, lang)[root]
        replacements = [(str(real_root), virtual)]
        if lang.name == "python":
            replacements.append((sysconfig.get_paths()["stdlib"], PY_STDLIB[root]))
        out: dict[str, dict] = {}
        for line in proc.stdout.decode().splitlines():
            rec = json.loads(line)
            if "error" in rec:
                raise RuntimeError(f"{rec['id']}: {rec['error']}")
            for old, new in replacements:
                rec["message"] = (rec["message"] or "").replace(old, new)
                rec["stacktrace"] = rec["stacktrace"].replace(old, new)
            if self.workdir.as_posix() in rec["stacktrace"]:
                raise RuntimeError(f"{rec['id']}: a temporary path survived in the trace")
            out[rec["id"]] = rec
        shutil.rmtree(real_root)
        return out

    def _java_build(self, lang: Language, release: str) -> Path:
        """Compile the vendor jar once and the app once per release; batches copy the result."""
        if release in self._java_builds:
            return self._java_builds[release]
        javac = ["javac", "-J-XX:TieredStopAtLevel=1", "-J-Xshare:auto", "-g", "-encoding", "UTF-8"]
        jar = self.workdir / "java-vendor" / "acme-vendor-1.4.2.jar"
        if not jar.exists():
            libclasses = self.workdir / "java-vendor" / "classes"
            libclasses.mkdir(parents=True)
            lib_sources = sorted(str(p) for p in (PROGRAMS / "java" / "lib").rglob("*.java"))
            subprocess.run([*javac, "-d", str(libclasses), *lib_sources], check=True)
            subprocess.run(["jar", "cf", str(jar), "-C", str(libclasses), "."], check=True)
        build = self.workdir / f"java-build-{release}"
        copy_release(PROGRAMS / "java" / "app", build / "src", lang, release)
        classes = build / "out" / "classes"
        classes.mkdir(parents=True)
        (build / "out" / "lib").mkdir()
        shutil.copy(jar, build / "out" / "lib" / jar.name)
        app_sources = sorted(str(p) for p in (build / "src").rglob("*.java"))
        subprocess.run([*javac, "-cp", str(jar), "-d", str(classes), *app_sources], check=True)
        self._java_builds[release] = build / "out"
        return build / "out"


# ------------------------------------------------------------------ assembling the corpus

def variation_of(event: Planned, message: str, base_message: str) -> str:
    parts = []
    if message != base_message:
        parts.append("params")
    elif event.fresh_params:
        parts.append("args")  # other arguments, but the message does not show them
    if event.release != "v1.0":
        parts.append(f"release={event.release}+{RELEASES[event.release]}")
    if event.entry != "http":
        parts.append(f"callpath={event.entry}")
    if event.wrappers:
        parts.append(f"wrappers={event.wrappers}")
    if event.depth != BASE_DEPTH:
        parts.append(f"depth={event.depth}")
    if event.host:
        parts.append("host")
    if event.root != "A":
        parts.append(f"tmpdir={event.root}")
    return ";".join(parts) or "base"


def generate(seed: int, only: set[str] | None = None, log: Callable[[str], None] | None = None) -> list[dict]:
    log = log or (lambda msg: None)
    groups = [g for g in GROUPS if only is None or g.label in only]
    if only:
        unknown = only - set(GROUPS_BY_LABEL)
        if unknown:
            raise SystemExit(f"unknown group(s) {sorted(unknown)}; see GROUPS in {__file__}")
    splits = split_of(seed)
    planned = [e for g in groups for e in plan_group(g)]
    batches: dict[tuple[str, str, str], list[tuple[Planned, dict]]] = {}
    for event in planned:
        base_args = event.group.params(random.Random(f"{seed}:params:{event.group.label}:base"), BASE_DEPTH)
        task = {"id": event.event_id, "entry": event.entry, "wrappers": event.wrappers,
                "scenario": event.group.scenario, "args": _task_args(event, seed, base_args)}
        batches.setdefault((event.group.language, event.release, event.root), []).append((event, task))
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="summit-errors-corpus-") as tmp:
        runner = Runner(Path(tmp), seed)
        for n, key in enumerate(sorted(batches), 1):
            lang, release, root = key
            started = time.monotonic()
            results.update(runner.run_batch(LANGUAGES[lang], release, root, [t for _, t in batches[key]]))
            log(f"[{n}/{len(batches)}] {lang} {release} root {root}: {len(batches[key])} events "
                f"in {time.monotonic() - started:.2f}s")
    records = []
    for event in planned:
        g, lang = event.group, LANGUAGES[event.group.language]
        rec, base = results[event.event_id], results[f"{g.label}#00"]
        records.append({
            "id": event.event_id, "group": g.label, "language": lang.name, "sdk_language": lang.sdk_language,
            "service": lang.service, "release": event.release, "host": hosts(seed, lang)[event.host],
            "variation": variation_of(event, rec["message"], base["message"]), "split": splits[g.label],
            "type": rec["type"], "message": rec["message"], "stacktrace": rec["stacktrace"],
        })
    records.sort(key=lambda r: r["id"])
    for g in groups:  # a label is one bug: one exception type (a program change that breaks this is a bug)
        types = {r["type"] for r in records if r["group"] == g.label}
        if len(types) != 1:
            raise RuntimeError(f"group {g.label} raised several types {sorted(types)}; fix its params")
    return records


def dump(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records).encode()


def write_gzip(data: bytes, path: Path) -> None:
    """gzip with a zero mtime and no file name, so the same records give the same bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(HERE / "corpus.jsonl.gz"),
                    help="output path (.gz is gzipped; '-' writes JSON lines to stdout)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--only", action="append", metavar="GROUP", help="generate only this group (repeatable)")
    args = ap.parse_args(argv)
    started = time.monotonic()
    records = generate(args.seed, set(args.only) if args.only else None,
                       log=lambda msg: print(msg, file=sys.stderr, flush=True))
    data = dump(records)
    if args.out == "-":
        sys.stdout.buffer.write(data)
    elif args.out.endswith(".gz"):
        write_gzip(data, Path(args.out))
    else:
        Path(args.out).write_bytes(data)
    groups = {r["group"] for r in records}
    print(f"{len(records)} events, {len(groups)} groups in {time.monotonic() - started:.1f}s -> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
