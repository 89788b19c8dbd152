"""Certificates made in the test with `trustme`: a CA the collector trusts, one it does not, and
server and client certificates from each, written as PEM files the collector's `tls` keys name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class KeyPair:
    cert: str
    key: str


@dataclass(frozen=True)
class PKI:
    ca: str  # the CA that signed `server`, `named_server` and `client`
    other_ca: str  # a CA nobody here trusts; it signed `other_client`
    server: KeyPair  # for localhost and 127.0.0.1
    named_server: KeyPair  # only for gateway.test: reached at 127.0.0.1 it needs server_name_override
    other_server: KeyPair  # for 127.0.0.1, but signed by other_ca
    client: KeyPair
    other_client: KeyPair


def make_pki(directory: Path) -> PKI:
    directory.mkdir(parents=True, exist_ok=True)
    ca, other_ca = trustme.CA(), trustme.CA()

    def write(name: str, cert: trustme.LeafCert) -> KeyPair:
        cert.cert_chain_pems[0].write_to_path(str(directory / f"{name}.pem"))
        for pem in cert.cert_chain_pems[1:]:
            pem.write_to_path(str(directory / f"{name}.pem"), append=True)
        cert.private_key_pem.write_to_path(str(directory / f"{name}.key"))
        return KeyPair(str(directory / f"{name}.pem"), str(directory / f"{name}.key"))

    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    other_ca.cert_pem.write_to_path(str(directory / "other_ca.pem"))
    return PKI(
        ca=str(directory / "ca.pem"),
        other_ca=str(directory / "other_ca.pem"),
        server=write("server", ca.issue_cert("localhost", "127.0.0.1")),
        named_server=write("named_server", ca.issue_cert("gateway.test")),
        other_server=write("other_server", other_ca.issue_cert("localhost", "127.0.0.1")),
        client=write("client", ca.issue_cert("client.test")),
        other_client=write("other_client", other_ca.issue_cert("client.test")),
    )
