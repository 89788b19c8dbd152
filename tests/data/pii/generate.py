"""Generate the labelled PII corpus (`corpus.jsonl`): deterministic, so the file can be rebuilt.

    python tests/data/pii/generate.py > tests/data/pii/corpus.jsonl

Half the lines hold PII of every built-in detector's kind in realistic contexts (log lines, URLs,
SQL, JSON bodies, stack traces, HTTP headers), labelled with the detector and the exact secret
text; half are hard negatives — things that look like PII to a naive regex (order numbers that
fail Luhn, card-length numbers with no issuer, version strings, UUIDs, trace ids, hashes,
timestamps, prices, ISBNs, durations, non-user paths, npm specs …).

Generated values are checked by construction (Luhn, mod-97, SSN rules) independently of the
detectors, so the corpus does not grade the detectors with their own code.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import string
import sys

rng = random.Random(20261127)

FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "wendy", "yusuf", "zoe", "li.wei", "maria"]
LAST = ["smith", "jones", "garcia", "müller", "nguyen", "kim", "rossi", "dubois", "tanaka", "okafor"]
DOMAINS = ["example.com", "mail.example.org", "corp-internal.io", "gmail.com", "company.co.uk", "uni-berlin.de", "shop.example.net"]


def luhn_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_digit(number[:-1]) == number[-1]


def rand_digits(n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def email() -> str:
    local = rng.choice(FIRST).replace("ü", "u") + rng.choice([".", "_", "", "+test."]) + rng.choice(LAST).replace("ü", "ue")
    return f"{local}{rng.choice(['', str(rng.randint(1, 99))])}@{rng.choice(DOMAINS)}"


def card() -> str:
    kind = rng.choice(["visa", "mc", "mc2", "amex", "discover"])
    prefix, length = {"visa": ("4", 16), "mc": (str(rng.randint(51, 55)), 16), "mc2": (str(rng.randint(2221, 2720)), 16), "amex": (rng.choice(["34", "37"]), 15), "discover": ("6011", 16)}[kind]
    body = prefix + rand_digits(length - len(prefix) - 1)
    number = body + luhn_digit(body)
    style = rng.choice(["plain", "space", "dash"])
    if style == "plain":
        return number
    sep = " " if style == "space" else "-"
    groups = [number[0:4], number[4:10], number[10:]] if length == 15 else [number[i : i + 4] for i in range(0, 16, 4)]
    return sep.join(groups)


IBAN_FORMATS = {"DE": "8n10n", "GB": "4a14n", "FR": "10n11c2n", "NL": "4a10n", "ES": "20n", "IT": "1a10n12c", "CH": "5n12c", "BE": "12n", "AT": "16n", "PL": "24n"}


def iban() -> str:
    country = rng.choice(list(IBAN_FORMATS))
    bban = ""
    fmt = IBAN_FORMATS[country]
    i = 0
    while i < len(fmt):
        j = i
        while fmt[j].isdigit():
            j += 1
        count, kind = int(fmt[i:j]), fmt[j]
        alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[kind]
        bban += "".join(rng.choice(alphabet) for _ in range(count))
        i = j + 1
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        value = " ".join(value[k : k + 4] for k in range(0, len(value), 4))
    return value


def ipv4() -> str:
    return rng.choice([
        f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    ])


def ipv6() -> str:
    address = ipaddress.IPv6Address(rng.getrandbits(128) & ~(0xFFFF << 64) if rng.random() < 0.5 else rng.getrandbits(128))
    return str(address) if rng.random() < 0.7 else address.exploded


def mac() -> str:
    octets = [f"{rng.randint(0, 255):02x}" for _ in range(6)]
    style = rng.choice([":", "-", "cisco", ":upper"])
    if style == "cisco":
        flat = "".join(octets)
        return ".".join(flat[i : i + 4] for i in range(0, 12, 4))
    if style == ":upper":
        return ":".join(octets).upper()
    return style.join(octets)


def ssn() -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def phone() -> str:
    area, exchange, line = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    return rng.choice([
        f"+1{area}{exchange}{line:04d}",
        f"+1 {area} {exchange} {line:04d}",
        f"+1-{area}-{exchange}-{line:04d}",
        f"({area}) {exchange}-{line:04d}",
        f"{area}-{exchange}-{line:04d}",
        f"{area}.{exchange}.{line:04d}",
        f"+44 20 {rng.randint(7000, 8999)} {rng.randint(0, 9999):04d}",
        f"020 {rng.randint(7000, 8999)} {rng.randint(0, 9999):04d}",
        f"+49 30 {rng.randint(100000, 999999)}",
        f"+33 1 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
    ])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt() -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": rand_digits(8), "name": rng.choice(FIRST), "iat": rng.randint(1_600_000_000, 1_800_000_000)}).encode())
    return f"{header}.{payload}.{b64url(rng.randbytes(32))}"


def token(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def password() -> str:
    return token(rng.randint(8, 16), string.ascii_letters + string.digits + "!#$%*-_")


def pem() -> str:
    kind = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    lines = [base64.b64encode(rng.randbytes(48)).decode() for _ in range(rng.randint(3, 6))]
    newline = rng.choice(["\n", "\\n"])
    return f"-----BEGIN {kind}-----{newline}" + newline.join(lines) + f"{newline}-----END {kind}-----"


def item(detector: str, value: str) -> dict[str, str]:
    return {"detector": detector, "value": value}


def positives() -> list[dict]:
    out: list[dict] = []

    def add(text: str, *items: dict[str, str]) -> None:
        out.append({"text": text, "pii": list(items)})

    for _ in range(70):
        e = email()
        add(rng.choice([
            f"INFO user {e} logged in from web",
            f"GET /api/v1/users?email={e}&page=2 200",
            f'{{"event":"signup","email":"{e}","plan":"pro"}}',
            f"SELECT id FROM accounts WHERE email = '{e}'",
            f"ValueError: no account for {e}\n  File \"/app/src/accounts.py\", line 88, in lookup",
            f"To: {e}",
            f"mailto:{e}",
        ]), item("email", e))
    for _ in range(70):
        c = card()
        add(rng.choice([
            f"payment declined for card {c} (insufficient funds)",
            f'{{"amount": 42.10, "currency": "EUR", "card_number": "{c}"}}',
            f"INSERT INTO payments (pan, amount) VALUES ('{c}', 19.99)",
            f"charge failed: card={c} code=card_declined",
            f"stripe.error.CardError: Your card {c} was declined.",
        ]), item("creditcard", c))
    for _ in range(60):
        i = iban()
        add(rng.choice([
            f"SEPA transfer to {i} scheduled",
            f'{{"iban": "{i}", "bic": "DEUTDEFF"}}',
            f"UPDATE payout_accounts SET iban = '{i}' WHERE id = 7",
            f"refund queued: iban={i} amount=12.00",
        ]), item("iban", i))
    for _ in range(70):
        a = ipv4()
        add(rng.choice([
            f"client {a} connected",
            f"upstream connect error to {a}:5432 (ECONNREFUSED)",
            f"X-Forwarded-For: {a}",
            f'{{"remote_addr": "{a}", "status": 403}}',
            f"http://{a}:8080/healthz returned 503",
            f"Failed password for root from {a} port 22 ssh2",
            f"blocked login from {a}.",
        ]), item("ipv4", a))
    for _ in range(60):
        a = ipv6()
        add(rng.choice([
            f"client {a} connected",
            f"listen tcp [{a}]:443: bind: address already in use",
            f'{{"peer": "{a}"}}',
            f"rate limited {a} after 100 requests",
        ]), item("ipv6", a))
    for _ in range(60):
        m = mac()
        text = rng.choice([f"DHCPACK on 10.0.0.5 to {m} via eth0", f"device mac={m} registered", f'{{"hw_addr": "{m}"}}', f"ARP reply from {m}"])
        add(text, item("mac", m), *([item("ipv4", "10.0.0.5")] if text.startswith("DHCPACK") else []))
    for _ in range(60):
        s = ssn()
        add(rng.choice([f"applicant ssn {s} verified", f'{{"ssn": "{s}", "state": "CA"}}', f"SELECT * FROM applicants WHERE ssn='{s}'", f"W-2 for SSN: {s}"]), item("us_ssn", s))
    for _ in range(80):
        p = phone()
        add(rng.choice([f"SMS sent to {p}", f'{{"phone": "{p}", "verified": true}}', f"call back {p} re: ticket 4821", f"UPDATE users SET phone = '{p}' WHERE id = 12", f"Twilio error 21211: invalid 'To' number {p}"]), item("phone", p))
    for _ in range(60):
        j = jwt()
        add(rng.choice([f"set-cookie session={j}; Path=/; HttpOnly", f"GET /callback?id_token={j}", f'{{"access": "{j}"}}', f"jwt expired: {j}"]), item("jwt", j))
    for _ in range(60):
        t = token(rng.randint(24, 40), string.ascii_letters + string.digits + "-_")
        add(rng.choice([f"Authorization: Bearer {t}", f"curl -H 'Authorization: bearer {t}' https://api.example.com", f'{{"headers": {{"authorization": "Bearer {t}"}}}}']), item("bearer", t))
    for _ in range(50):
        cred = base64.b64encode(f"{rng.choice(FIRST)}:{password()}".encode()).decode()
        add(rng.choice([f"Authorization: Basic {cred}", f"proxy auth header 'Basic {cred}' rejected"]), item("basic_auth", cred))
    for _ in range(60):
        user, pw = rng.choice(FIRST).replace(".", ""), password().replace("#", "x").replace("%", "x")
        userinfo = rng.choice([f"{user}:{pw}", f"{user}:{pw}", f":{pw}"])
        host = rng.choice(["db.internal", "redis.example.com:6379", "github.com", "mq.prod.local:5672"])
        add(rng.choice([f"connecting to postgres://{userinfo}@{host}/orders", f"git clone https://{userinfo}@{host}/org/repo.git", f"amqp://{userinfo}@{host}/vhost unreachable", f"REDIS_URL=redis://{userinfo}@{host}/0"]), item("url_userinfo", userinfo))
    for _ in range(50):
        k = rng.choice(["AKIA", "ASIA"]) + token(16, string.ascii_uppercase + string.digits)
        add(rng.choice([f"using AWS key {k}", f"aws_access_key_id = {k}", f'{{"AccessKeyId": "{k}"}}']), item("aws_access_key", k))
    for _ in range(50):
        k = "AIza" + token(35, string.ascii_letters + string.digits + "-_")
        add(rng.choice([f"GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key={k}", f"firebase init with {k}", f'{{"api": "{k}"}}']), item("gcp_api_key", k))
    for _ in range(50):
        k = rng.choice(["ghp_", "gho_", "ghs_"]) + token(36) if rng.random() < 0.7 else "github_pat_" + token(22) + "_" + token(59)
        add(rng.choice([f"git push failed with token {k}", f"GITHUB_TOKEN {k} revoked", f'{{"gh": "{k}"}}']), item("github_token", k))
    for _ in range(50):
        if rng.random() < 0.6:
            k = rng.choice(["xoxb-", "xoxp-"]) + rand_digits(11) + "-" + rand_digits(12) + "-" + token(24)
        else:
            k = f"https://hooks.slack.com/services/T{token(8, string.ascii_uppercase + string.digits)}/B{token(8, string.ascii_uppercase + string.digits)}/{token(24)}"
        add(rng.choice([f"slack notify via {k}", f"posting alert to {k} failed: 404"]), item("slack_token", k))
    for _ in range(50):
        k = pem()
        add(rng.choice([f"loaded key {k}", f'{{"tls_key": "{k}"}}', f"config dump:\nkey: |\n{k}\n"]), item("private_key", k))
    for _ in range(70):
        key = rng.choice(["password", "passwd", "secret", "client_secret", "api_key", "apikey", "access_token", "pwd"])
        value = password()
        add(rng.choice([
            f"POST /login?user=x&{key}={value} 401",
            f'{{"username": "svc", "{key}": "{value}"}}',
            f"config loaded: {key}={value} timeout=30s",
            f"{key.upper()}: {value}",
        ]), item("password_keys", value))
    for _ in range(60):
        user = rng.choice(FIRST).replace(".", "") + rng.choice(["", str(rng.randint(1, 9))])
        add(rng.choice([
            f'Traceback (most recent call last):\n  File "/home/{user}/project/app.py", line 12, in <module>',
            f"open /Users/{user}/Library/Caches/app/db.sqlite: permission denied",
            f"C:\\Users\\{user}\\AppData\\Local\\Temp\\upload.tmp not found",
            f"at Object.<anonymous> (/home/{user}/src/index.js:10:5)",
        ]), item("user_path", user))
    # a few lines with two kinds at once
    for _ in range(40):
        e, a = email(), ipv4()
        add(f"login ok user={e} ip={a}", item("email", e), item("ipv4", a))
    return out


def hard_negatives() -> list[str]:
    out: list[str] = []
    for _ in range(140):  # card-length numbers that are not cards
        n = rand_digits(15)
        bad = n + str((int(luhn_digit(n)) + rng.randint(1, 9)) % 10)
        assert not luhn_ok(bad)
        no_issuer = rng.choice("179") + rand_digits(14)
        no_issuer += luhn_digit(no_issuer)
        out.append(rng.choice([f"order {bad} shipped", f"tracking number {no_issuer}", f"invoice {bad[:4]}-{bad[4:8]}-{bad[8:12]}-{bad[12:]}", f'{{"order_id": "{no_issuer}"}}']))
    for _ in range(100):  # epoch timestamps and durations
        out.append(rng.choice([f"ts={rng.randint(1_600_000_000_000, 1_800_000_000_000)} took {rng.randint(1, 999)}ms", f"start_time_unix_nano={rng.randint(10**18, 2 * 10**18)}", f"duration {rng.random() * 10:.3f}s at 12:{rng.randint(10, 59)}:{rng.randint(10, 59)}"]))  # noqa: PERF401 - one random draw per line, in order
    for _ in range(130):  # versions
        v = f"{rng.randint(1, 20)}.{rng.randint(0, 20)}.{rng.randint(0, 50)}"
        out.append(rng.choice([f"upgraded to v{v}", f"Mozilla/5.0 (X11; Linux x86_64) Chrome/{rng.randint(100, 130)}.0.{rng.randint(0, 255)}.{rng.randint(0, 200)} Safari/537.36", f"opentelemetry-sdk {v}", f"version {v}.{rng.randint(0, 9)}", f"build {v}.{rng.randint(0, 255)} deployed", f"npm i lodash@{v}", f"image ghcr.io/org/app:{v}"]))
    for _ in range(130):  # ids and hashes
        out.append(rng.choice([  # noqa: PERF401 - one random draw per line, in order
            f"trace_id={rng.getrandbits(128):032x} span_id={rng.getrandbits(64):016x}",
            f"request {'-'.join([f'{rng.getrandbits(32):08x}', f'{rng.getrandbits(16):04x}', f'{rng.getrandbits(16):04x}', f'{rng.getrandbits(16):04x}', f'{rng.getrandbits(48):012x}'])} failed",
            f"commit {rng.getrandbits(160):040x}",
            f"sha256:{rng.getrandbits(256):064x}",
            f"etag W/\"{rng.getrandbits(64):x}\"",
            f"pointer 0x{rng.getrandbits(48):x}",
        ]))
    for _ in range(120):  # timestamps and dates
        out.append(rng.choice([  # noqa: PERF401 - one random draw per line, in order
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z INFO started",
            f"Tue, {rng.randint(10, 28)} Mar 2024 12:{rng.randint(10, 59)}:{rng.randint(10, 59)} GMT",
            f"cron 0 */{rng.randint(2, 12)} * * * next run 2024-05-0{rng.randint(1, 9)} 03:00:00",
            f"date={rng.randint(2019, 2026)}{rng.randint(1, 12):02d}{rng.randint(10, 28)}",
        ]))
    for _ in range(130):  # prices and quantities
        out.append(rng.choice([  # noqa: PERF401 - one random draw per line, in order
            f"total ${rng.randint(1, 9)},{rng.randint(100, 999)}.{rng.randint(10, 99)} (tax {rng.randint(1, 99)}.{rng.randint(10, 99)})",
            f"EUR {rng.randint(1, 999)}.{rng.randint(10, 99)} charged",
            f"stock: {rng.randint(1000, 99999)} units @ {rng.randint(1, 99)}.{rng.randint(10, 99)}",
            f"memory {rng.randint(100, 9999)} MiB / {rng.randint(10000, 99999)} MiB",
            f"ISBN 978-{rng.randint(0, 9)}-{rng.randint(10, 99)}-{rng.randint(100000, 999999)}-{rng.randint(0, 9)}",
        ]))
    for _ in range(160):  # clean log lines, URLs, SQL
        out.append(rng.choice([  # noqa: PERF401 - one random draw per line, in order
            f"GET /api/v1/orders/{rng.randint(1, 10**6)} 200 {rng.randint(1, 300)}ms",
            f"SELECT id, name FROM products WHERE price > ? AND category_id = {rng.randint(1, 99)} LIMIT 50",
            f"POST /checkout 201 items={rng.randint(1, 9)}",
            f"cache miss for key product:{rng.randint(1, 99999)}",
            f"retrying in {rng.randint(1, 30)}s (attempt {rng.randint(1, 5)}/5)",
            f"https://api.example.com/v2/search?q=shoes&page={rng.randint(1, 20)}&sort=price",
            f"kafka partition {rng.randint(0, 63)} offset {rng.randint(10**6, 10**9)} lag {rng.randint(0, 500)}",
            f"pod checkout-{rng.getrandbits(32):08x}-{token(5, string.ascii_lowercase + string.digits)} OOMKilled",
        ]))
    for _ in range(110):  # stack traces without users
        out.append(rng.choice([  # noqa: PERF401 - one random draw per line, in order
            f'  File "/usr/lib/python3.11/asyncio/base_events.py", line {rng.randint(100, 999)}, in run_until_complete',
            f"    at com.example.shop.CartService.add(CartService.java:{rng.randint(10, 500)})",
            f"at Router.handle (/app/node_modules/express/lib/router/index.js:{rng.randint(10, 500)}:{rng.randint(1, 40)})",
            f"goroutine {rng.randint(1, 999)} [running]:\nmain.handler(0xc000{rng.getrandbits(24):06x})\n\t/go/src/app/main.go:{rng.randint(10, 99)} +0x{rng.getrandbits(12):x}",
            f"panic in std::vector<int>::at (/opt/app/src/store.cpp:{rng.randint(10, 999)})",
        ]))
    for _ in range(120):  # near misses for specific detectors
        out.append(rng.choice([  # noqa: PERF401 - one random draw per line, in order
            f"ssn-like code {rng.randint(900, 999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)} is a test range",
            f"part no. 000-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
            f"SKU {token(2, string.ascii_uppercase)}{rng.randint(10, 99)} {token(4, string.ascii_uppercase)} {rng.randint(1000, 9999)}",
            f"AKIA{token(8, string.ascii_uppercase)} is too short to be a key",
            "header eyJhbGciOiJIUzI1NiJ9 without payload",
            f"@types/node@{rng.randint(14, 22)}.{rng.randint(0, 9)}.{rng.randint(0, 9)} installed",
            f"time {rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}",
            f"the password policy requires {rng.randint(8, 16)} characters",
            f"token bucket refilled ({rng.randint(1, 100)} tokens/s)",
            f"bearer of bad news: job {rng.randint(1, 999)} failed",
            f"room 10{rng.randint(1, 9)}, floor {rng.randint(1, 9)}",
            f"ratio 1.{rng.randint(0, 9)}.{rng.randint(0, 9)} ok",
        ]))
    return out


def main() -> None:
    records = positives()
    negatives = hard_negatives()
    records += [{"text": text, "pii": []} for text in negatives]
    rng.shuffle(records)
    for record in records:
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
