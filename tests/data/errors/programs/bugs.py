"""The bugs of the corpus: crash sites in a small shop application, per language.

`code` is the crashing function's body (it receives `arg` and, for recursive bugs, `depth`);
`argument` draws the occurrence's parameter. Bugs of one `family` are near misses of each other:
the same type and message template at another site, or another type at the same site (then the
two bugs share a function and `code`, and their arguments decide which exception it raises).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field


def order_id(rng: random.Random) -> str:
    return f"ord-{rng.randrange(10**6)}"


def sku(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_uppercase, k=3)) + f"-{rng.randrange(1000)}"


def email(rng: random.Random) -> str:
    return f"{rng.choice(['ana', 'bo', 'chen', 'dev', 'eli'])}{rng.randrange(999)}@example.{rng.choice(['com', 'org', 'io'])}"


def word(rng: random.Random) -> str:
    return rng.choice(["abc", "12x", "n/a", "", "7.5.1", "null", "—", "0x1f"]) + "".join(rng.choices("xyz", k=rng.randrange(3)))


def number(rng: random.Random) -> int:
    return rng.randrange(1, 10**5)


def path(rng: random.Random) -> str:
    return f"/etc/shop/{rng.choice(['prod', 'stage', 'eu'])}/{rng.choice(['db', 'cache', 'smtp'])}-{rng.randrange(99)}.yaml"


def host(rng: random.Random) -> str:
    return f"{rng.choice(['pay', 'tax', 'geo'])}{rng.randrange(20)}.internal.example.com"


def zero_or_none(rng: random.Random) -> int:
    return 0  # ZeroDivision flavour of a shared site


def none_arg(rng: random.Random) -> None:
    return None


@dataclass(frozen=True)
class Bug:
    name: str
    family: str
    language: str
    module: str
    function: str
    code: str
    argument: Callable[[random.Random], object] = field(default=number)
    recursive: bool = False
    library: bool = False
    chained: bool = False


PY, JS, JAVA = "python", "node", "java"

PYTHON_BUGS = [
    Bug("py-orders-lookup-keyerror", "py-lookup", PY, "orders", "lookup_order", "return ORDERS[arg]", order_id),
    Bug("py-users-lookup-keyerror", "py-lookup", PY, "users", "lookup_user", "return USERS[arg]", email),
    Bug("py-billing-parse-amount", "py-parse", PY, "billing", "parse_amount", "return int(arg) * 100", word),
    Bug("py-billing-parse-quantity", "py-parse", PY, "inventory", "parse_quantity",
        "raise ValueError(f\"invalid literal for int() with base 10: '{arg}'\")", word),
    Bug("py-cart-total-zerodivision", "py-cart-ratio", PY, "cart", "average_price", "return 100 / (arg or 0)", zero_or_none),
    Bug("py-cart-total-typeerror", "py-cart-ratio", PY, "cart", "average_price", "return 100 / (arg or 0)", lambda r: "x"),
    Bug("py-users-email-attribute", "py-attr", PY, "users", "primary_email", "return arg.email", none_arg),
    Bug("py-stock-reserve", "py-stock", PY, "inventory", "reserve",
        "raise StockError(f'sku {arg} has only {len(arg) % 3} left')", sku),
    Bug("py-stock-release", "py-stock", PY, "warehouse", "release_stock",
        "raise StockError(f'sku {arg} has only {len(arg) % 3} left')", sku),
    Bug("py-payments-charge-timeout", "py-http", PY, "payments", "charge", "return shoplib.post(f'https://{arg}/charge')", host,
        library=True),
    Bug("py-payments-refund-timeout", "py-http", PY, "payments", "refund", "return shoplib.post(f'https://{arg}/refund')", host,
        library=True),
    Bug("py-reports-walk-recursion", "py-walk", PY, "reports", "walk",
        "return walk(arg, depth - 1) if depth else arg['missing']", lambda r: {"id": r.randrange(99)}, recursive=True),
    Bug("py-search-tokenize-index", "py-search", PY, "search", "first_token", "return arg.split()[3]",
        lambda r: " ".join(r.choices(["red", "shoe", "big"], k=r.randrange(3)))),
    Bug("py-config-load-chained", "py-config", PY, "config", "load_config",
        "try:\n        return open(arg).read()\n    except FileNotFoundError as exc:\n        raise ConfigError(f'cannot load config {arg}') from exc",
        path, chained=True),
    Bug("py-config-secret-chained", "py-config", PY, "secrets", "load_secret",
        "try:\n        return open(arg).read()\n    except FileNotFoundError as exc:\n        raise ConfigError(f'cannot load config {arg}') from exc",
        path, chained=True),
    Bug("py-auth-check-permission", "py-auth", PY, "auth", "require_admin",
        "raise PermissionError(f'user {arg} is not allowed to refund')", email),
    Bug("py-auth-check-runtime", "py-auth", PY, "auth", "require_owner",
        "raise RuntimeError(f'user {arg} is not allowed to refund')", email),
    Bug("py-shipping-quote-math", "py-shipping", PY, "shipping", "quote",
        "return math.sqrt(-arg)", number),
    Bug("py-fees-key", "py-fees", PY, "fees", "fee_for", "return FEES[arg['region']] * arg['amount']",
        lambda r: {"region": r.choice(["eu", "us"]), "amount": r.randrange(99)}),
    Bug("py-fees-type", "py-fees", PY, "fees", "fee_for", "return FEES[arg['region']] * arg['amount']",
        lambda r: {"region": "apac", "amount": str(r.randrange(99))}),
    Bug("py-limits-over", "py-limits", PY, "limits", "check_limit",
        "if arg > 0:\n        raise ValueError(f'amount {arg} over the limit')\n    raise ValueError(f'amount {arg} under the floor')",
        number),
    Bug("py-limits-under", "py-limits", PY, "limits", "check_limit",
        "if arg > 0:\n        raise ValueError(f'amount {arg} over the limit')\n    raise ValueError(f'amount {arg} under the floor')",
        lambda r: -r.randrange(1, 999)),
    Bug("py-promo-unknown", "py-promo", PY, "promotions", "apply_code", "raise LookupError(f'promo code {arg} is not active')",
        word),
    Bug("py-orders-validate", "py-validate", PY, "orders", "validate", "raise ValueError(f'invalid field {arg!r}')",
        lambda r: r.choice(["qty", "sku", "price", "note"])),
    Bug("py-users-validate", "py-validate", PY, "users", "validate", "raise ValueError(f'invalid field {arg!r}')",
        lambda r: r.choice(["qty", "sku", "price", "note"])),
]

NODE_BUGS = [
    Bug("js-cart-items-typeerror", "js-cart", JS, "cart", "countItems", "return arg.items.length;", none_arg),
    Bug("js-cart-total-typeerror", "js-cart", JS, "checkout", "totalOf", "return arg.items.length;", none_arg),
    Bug("js-json-parse-syntax", "js-json", JS, "api", "parseBody", "return JSON.parse(arg);", lambda r: "{" + word(r)),
    Bug("js-json-parse-config", "js-json", JS, "settings", "readSettings", "return JSON.parse(arg);", lambda r: "{" + word(r)),
    Bug("js-orders-missing", "js-orders", JS, "orders", "findOrder",
        "throw new NotFoundError(`order ${arg} not found`);", order_id),
    Bug("js-orders-range", "js-orders", JS, "orders", "pageOf", "return new Array(-arg);", number),
    Bug("js-users-missing", "js-users", JS, "users", "findUser", "throw new NotFoundError(`user ${arg} not found`);", email),
    Bug("js-payments-timeout", "js-http", JS, "payments", "capture", "return shoplib.post(`https://${arg}/capture`);", host,
        library=True),
    Bug("js-payments-void-timeout", "js-http", JS, "payments", "voidPayment", "return shoplib.post(`https://${arg}/void`);", host,
        library=True),
    Bug("js-tree-walk-recursion", "js-tree", JS, "tree", "walkTree",
        "if (depth > 0) { return walkTree(arg, depth - 1); }\n  return arg.children.length;", lambda r: {"id": r.randrange(9)},
        recursive=True),
    Bug("js-url-parse", "js-url", JS, "links", "canonical", "return new URL(arg).host;", word),
    Bug("js-quota-exceeded", "js-quota", JS, "quota", "consume",
        "throw new RangeError(`quota ${arg} exceeded for tenant t${arg % 7}`);", number),
    Bug("js-quota-exceeded-other", "js-quota", JS, "limits", "enforce",
        "throw new RangeError(`quota ${arg} exceeded for tenant t${arg % 7}`);", number),
    Bug("js-render-wrapped", "js-render", JS, "render", "renderPage",
        "try { return arg.template.body; } catch (cause) { throw new RenderError(`cannot render page ${arg}`, { cause }); }",
        lambda r: r.randrange(1, 500), chained=True),
    Bug("js-tax-rate", "js-tax", JS, "tax", "rateFor", "throw new Error(`no tax rate for region ${arg}`);",
        lambda r: r.choice(["EU-", "US-", "APAC-"]) + str(r.randrange(60))),
    Bug("js-body-items-syntax", "js-body", JS, "api", "itemsOf", "return JSON.parse(arg).items.length;", lambda r: "{" + word(r)),
    Bug("js-body-items-type", "js-body", JS, "api", "itemsOf", "return JSON.parse(arg).items.length;",
        lambda r: "{\"id\": " + str(r.randrange(99)) + "}"),
    Bug("js-promo-unknown", "js-promo", JS, "promotions", "applyCode", "throw new Error(`promo code ${arg} is not active`);",
        word),
    Bug("js-orders-validate", "js-validate", JS, "orders", "validate", "throw new TypeError(`invalid field ${arg}`);",
        lambda r: r.choice(["qty", "sku", "price", "note"])),
    Bug("js-users-validate", "js-validate", JS, "users", "validate", "throw new TypeError(`invalid field ${arg}`);",
        lambda r: r.choice(["qty", "sku", "price", "note"])),
]

JAVA_BUGS = [
    Bug("java-orders-npe", "java-npe", JAVA, "Orders", "customerName", "return ((String) arg).trim();", none_arg),
    Bug("java-users-npe", "java-npe", JAVA, "Users", "displayName", "return ((String) arg).trim();", none_arg),
    Bug("java-cart-index", "java-cart", JAVA, "Cart", "itemAt", "int[] slots = new int[3]; return slots[((Integer) arg) + 3];", lambda r: r.randrange(1, 50)),
    Bug("java-cart-parse", "java-parse", JAVA, "Cart", "quantityOf", "return Integer.parseInt((String) arg);", word),
    Bug("java-prices-parse", "java-parse", JAVA, "Prices", "centsOf", "return Integer.parseInt((String) arg);", word),
    Bug("java-ledger-divide", "java-ledger", JAVA, "Ledger", "share",
        "int n = (Integer) arg; return 100 / (n - n);", number),
    Bug("java-ledger-state", "java-ledger", JAVA, "Ledger", "close",
        "throw new IllegalStateException(\"ledger \" + arg + \" already closed\");", number),
    Bug("java-accounts-state", "java-ledger", JAVA, "Accounts", "freeze",
        "throw new IllegalStateException(\"ledger \" + arg + \" already closed\");", number),
    Bug("java-payments-timeout", "java-http", JAVA, "Payments", "authorize",
        "return org.apache.shoplib.Http.post(\"https://\" + arg + \"/authorize\");", host, library=True),
    Bug("java-payments-settle-timeout", "java-http", JAVA, "Payments", "settle",
        "return org.apache.shoplib.Http.post(\"https://\" + arg + \"/settle\");", host, library=True),
    Bug("java-catalog-recursion", "java-catalog", JAVA, "Catalog", "depthOf",
        "if (depth > 0) { return depthOf(arg, depth - 1); } throw new IllegalArgumentException(\"category \" + arg + \" has no parent\");",
        lambda r: r.randrange(1000), recursive=True),
    Bug("java-orders-wrapped", "java-wrapped", JAVA, "Checkout", "submit",
        "try { return Integer.parseInt((String) arg); } catch (NumberFormatException e) { throw new CheckoutException(\"checkout \" + arg + \" failed\", e); }",
        word, chained=True),
    Bug("java-shipping-argument", "java-shipping", JAVA, "Shipping", "zoneOf",
        "throw new IllegalArgumentException(\"unknown zone \" + arg);", lambda r: r.choice(["Z", "Q", "X"]) + str(r.randrange(90))),
    Bug("java-tax-unsupported", "java-tax", JAVA, "Tax", "exempt",
        "throw new UnsupportedOperationException(\"exemption for \" + arg + \" not supported\");", sku),
    Bug("java-orders-validate", "java-validate", JAVA, "Orders", "validate",
        "throw new IllegalArgumentException(\"invalid field \" + arg);", lambda r: r.choice(["qty", "sku", "price", "note"])),
    Bug("java-users-validate", "java-validate", JAVA, "Users", "validate",
        "throw new IllegalArgumentException(\"invalid field \" + arg);", lambda r: r.choice(["qty", "sku", "price", "note"])),
    Bug("java-coupon-npe", "java-coupon", JAVA, "Coupons", "percentOf", "return Integer.parseInt(((String) arg).trim());",
        none_arg),
    Bug("java-coupon-format", "java-coupon", JAVA, "Coupons", "percentOf", "return Integer.parseInt(((String) arg).trim());", word),
    Bug("java-promo-unknown", "java-promo", JAVA, "Promotions", "applyCode",
        "throw new IllegalStateException(\"promo code \" + arg + \" is not active\");", word),
    Bug("java-inventory-missing", "java-inventory", JAVA, "Inventory", "locate",
        "throw new java.util.NoSuchElementException(\"sku \" + arg + \" not in any warehouse\");", sku),
]

BUGS = PYTHON_BUGS + NODE_BUGS + JAVA_BUGS
