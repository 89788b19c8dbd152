"""The built-in PII detectors: a regex each (RE2-compatible, so Arrow runs it over whole columns)
plus, where a regex alone gives false positives, a validator that checks the candidate.

Each regex is written so that RE2 (the vectorized pre-filter in `pyarrow.compute`) and Python's
`re` (the rewrite of the values that matched) find the same matches: no look-arounds, no
back-references. Where a boundary must not be part of the secret, the secret is a capture group
(`group`) and only that group is rewritten — `Bearer [bearer]`, `https://[url_userinfo]@host`.

Order matters and is the order below: a detector sees the text as the ones before it left it, so
the more specific shapes (a JWT inside `Authorization: Bearer …`, a password inside a URL) are
claimed by the detector that names them best before the generic ones run.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

# A validator sees the whole text and the match, so it can look at the context too.
Validator = Callable[[str, "re.Match[str]"], bool]


@dataclass(frozen=True, slots=True)
class Detector:
    """`regex` finds the PII; `group` (when not 0) is the part that is the secret.

    Speed hints, all RE2 and all optional: `prefilter` is a looser pattern that matches whatever
    `regex` matches (one combined pass of all prefilters picks the values worth a closer look);
    `rewrite` is the RE2 replacement that writes `[name]` in place of the secret, so the action
    `replace` runs in C++ when no validator is needed; `validate_only` limits the validator to the
    values it matches (the others are valid by construction).
    """

    name: str
    regex: str
    group: int = 0
    validator: Validator | None = None
    prefilter: str = ""
    rewrite: str = ""
    validate_only: str = ""

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.regex)


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Issuer prefixes (IIN ranges) of the card networks that issue 13–19 digit PANs.
_CARD_PREFIX = re.compile(
    r"^(?:4\d{12}(?:\d{3}){0,2}"  # Visa 13/16/19
    r"|(?:5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # Amex
    r"|3(?:0[0-5]|[68]\d)\d{11,16}"  # Diners
    r"|6(?:011|5\d{2}|4[4-9]\d)\d{12,15}"  # Discover
    r"|35(?:2[89]|[3-8]\d)\d{12,15}"  # JCB
    r"|(?:62|81)\d{14,17}"  # UnionPay
    r"|(?:5018|5020|5038|5893|6304|6759|676[1-3])\d{8,15})$"  # Maestro
)


def valid_card(_text: str, match: re.Match[str]) -> bool:
    raw = match.group(0)
    separators = {ch for ch in raw if not ch.isdigit()}
    if len(separators) > 1:
        return False
    number = digits(raw)
    return 13 <= len(number) <= 19 and bool(_CARD_PREFIX.match(number)) and luhn_valid(number)


# IBAN lengths by country (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_checksum_valid(iban: str) -> bool:
    """ISO 13616 mod-97: move the first four characters to the end, letters → 10..35, ≡ 1 mod 97."""
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def valid_iban(_text: str, match: re.Match[str]) -> bool:
    iban = match.group(0).replace(" ", "").upper()
    return IBAN_LENGTHS.get(iban[:2]) == len(iban) and iban_checksum_valid(iban)


def valid_ssn(_text: str, match: re.Match[str]) -> bool:
    area, group, serial = match.group(0).split("-")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def valid_phone(_text: str, match: re.Match[str]) -> bool:
    n = len(digits(match.group(0)))
    return 8 <= n <= 15 if match.group(0).startswith("+") else 10 <= n <= 11


_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|\b(?:version|build|release|firmware)[ :=]*|\bver[ .:=]*|[a-z0-9]/)$")


def valid_ipv4(text: str, match: re.Match[str]) -> bool:
    """An address, unless the text says it is a version (`v1.2.3.4`, `Chrome/120.0.0.0`)."""
    return not _VERSION_CONTEXT.search(text, 0, match.start(2))


def valid_ipv6(_text: str, match: re.Match[str]) -> bool:
    candidate = match.group(1)
    try:
        ipaddress.IPv6Address(candidate.split("%")[0])
    except ValueError:
        return False
    # `a::b`-like fragments of code (`Foo::Bar` is not hex, but `ab::cd` is) need some substance.
    return any(ch.isdigit() for ch in candidate) and len(candidate.replace(":", "")) >= 4


def valid_basic_auth(_text: str, match: re.Match[str]) -> bool:
    try:
        decoded = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_KEY_WORDS = (
    r"password|passwd|pwd|passphrase|secret|client_secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token"
    r"|refresh[_-]?token|id[_-]?token|session[_-]?id|private[_-]?key|aws_secret_access_key|token"
)

BUILTIN: tuple[Detector, ...] = (
    Detector(
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)",
        prefilter=r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY",
        rewrite="[private_key]",
    ),
    Detector(
        "url_userinfo",
        r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s/?#@:\[\]]+(?::[^\s/?#@]*)?|:[^\s/?#@]+)@",
        group=2,
        prefilter=r"://[^\s/?#@]*@",
        rewrite=r"\1[url_userinfo]@",
    ),
    Detector(
        "basic_auth",
        r"(?i)\b(basic\s+)([A-Za-z0-9+/]{6,}={0,2})",
        group=2,
        validator=valid_basic_auth,
        prefilter=r"(?i)basic\s+[A-Za-z0-9+/]",
    ),
    Detector(
        "bearer",
        r"(?i)\b(bearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)",
        group=2,
        prefilter=r"(?i)bearer\s+[A-Za-z0-9\-._~+/]",
        rewrite=r"\1[bearer]",
    ),
    Detector(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
        prefilter=r"eyJ[A-Za-z0-9_-]+\.eyJ",
        rewrite="[jwt]",
    ),
    Detector("aws_access_key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", prefilter="A(?:KIA|SIA|BIA|CCA)[A-Z0-9]", rewrite="[aws_access_key]"),
    Detector("gcp_api_key", r"\bAIza[0-9A-Za-z_-]{35}", prefilter="AIza[0-9A-Za-z_-]", rewrite="[gcp_api_key]"),
    Detector(
        "github_token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
        prefilter=r"gh[pousr]_[A-Za-z0-9]|github_pat_",
        rewrite="[github_token]",
    ),
    Detector(
        "slack_token",
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
        prefilter=r"xox[abposr]-|hooks\.slack\.com/services/",
        rewrite="[slack_token]",
    ),
    Detector(
        "password_keys",
        # The value does not start with `[`: an earlier detector's marker is not a password.
        r"(?i)(\b(?:" + _KEY_WORDS + r")[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}<>\[][^\s\"'&,;}<>]*)",
        group=2,
        prefilter=r"(?i)(?:" + _KEY_WORDS + r")[\"']?\s*[:=]",
        rewrite=r"\1[password_keys]",
    ),
    Detector(
        "email",
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b",
        prefilter=r"[A-Za-z0-9._%+-]@[A-Za-z0-9-]+\.[A-Za-z]",
        rewrite="[email]",
    ),
    Detector(
        "iban",
        r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
        validator=valid_iban,
        prefilter=r"[A-Z][A-Z]\d\d ?[A-Z0-9]{4}",
    ),
    Detector("creditcard", r"\b(?:\d[ -]?){12,18}\d\b", validator=valid_card, prefilter=r"\d" + r"[ -]?\d" * 12),
    Detector("us_ssn", r"\b\d{3}-\d{2}-\d{4}\b", validator=valid_ssn, prefilter=r"\d{3}-\d\d-\d{4}"),
    Detector(
        "phone",
        r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?)(?:[ .-]?\d{2,4}){1,4}\b"
        r"|\(\d{3}\) ?\d{3}[ .-]\d{4}\b"
        r"|\b\d{3}[.-]\d{3}[.-]\d{4}\b"
        r"|\b0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}\b",
        validator=valid_phone,
        prefilter=r"\+\d|\(\d{3}\)|\d{3}[.-]\d{3}[.-]\d{4}|0\d\d+[ -]\d{3}",
    ),
    Detector(
        "mac",
        r"\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b|\b[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}\b|\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b",
        prefilter=r"[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-]|[0-9a-f]{4}\.[0-9a-f]{4}\.",
        rewrite="[mac]",
    ),
    Detector(
        "ipv6",
        r"(?:^|[^0-9A-Za-z:.])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|" + _OCTET + r"(?:\." + _OCTET + r"){3})?(?:%[0-9A-Za-z]+)?)",
        group=1,
        validator=valid_ipv6,
        prefilter=r"[0-9A-Fa-f]*:[0-9A-Fa-f]*:",
    ),
    Detector(
        "ipv4",
        r"(^|[^0-9A-Za-z.])(" + _OCTET + r"(?:\." + _OCTET + r"){3})($|[^0-9A-Za-z.]|\.(?:$|\s))",
        group=2,
        validator=valid_ipv4,
        rewrite=r"\1[ipv4]\3",
        prefilter=r"\d\.\d+\.\d+\.\d",
        # Only an address right after a word-and-slash or a version word can be a version.
        validate_only=r"(?i)(?:[a-z0-9]/|\b(?:v|version|build|release|firmware|ver)[ .:=]*)\d+\.\d+\.\d+\.\d",
    ),
    Detector(
        "user_path",
        r"(?i)((?:\b[a-z]:(?:\\\\|\\|/)(?:users|documents and settings)(?:\\\\|\\|/)|/(?:home|users)/))([^/\\\s\"':;,]+)",
        group=2,
        prefilter=r"(?i)/home/|/users/|[\\/]users[\\/]|documents and settings",
        rewrite=r"\1[user_path]",
    ),
)

BUILTIN_NAMES = tuple(d.name for d in BUILTIN)

# Attribute keys whose whole value is a secret (the `password_keys` detector's key half): the
# last key segment names a credential. `gen_ai.usage.input_tokens` does not match; `x-api-key` does.
SECRET_KEY_PATTERN = (
    r"(?i)(?:^|[._-])(?:password|passwd|pwd|passphrase|secret|client[._-]?secret|token|access[._-]?token"
    r"|refresh[._-]?token|id[._-]?token|auth[._-]?token|api[._-]?key|apikey|authorization|proxy[._-]authorization"
    r"|cookie|set[._-]cookie|credentials?|private[._-]?key|session[._-]?id)$"
)

VALIDATORS: dict[str, Validator] = {
    "luhn": lambda _t, m: luhn_valid(digits(m.group(0))) and len(digits(m.group(0))) > 1,
    "mod97": lambda _t, m: iban_checksum_valid(m.group(0).replace(" ", "").upper()),
}
