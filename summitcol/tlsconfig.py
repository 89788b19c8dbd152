"""The collector's `tls` block for servers and clients, turned into ssl contexts / gRPC credentials."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from summitcol.exceptions import ConfigError


class TLSFileError(OSError):
    """A file a `tls` block names cannot be read, or is not the PEM it should be. An OSError, as a
    port that cannot be opened is: the collector stops at start with this one line."""


def read_pem(key: str, path: str) -> bytes:
    """The bytes of the file `tls::<key>` names, or an error saying which key and file."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise TLSFileError(f"tls::{key}: cannot read '{path}': {exc.strerror}; set it to a PEM file this collector can read") from None


def _load_cert_chain(context: ssl.SSLContext, cert_file: str, key_file: str) -> None:
    read_pem("cert_file", cert_file)
    read_pem("key_file", key_file)
    try:
        context.load_cert_chain(cert_file, key_file)
    except ssl.SSLError as exc:
        raise TLSFileError(
            f"tls::cert_file '{cert_file}' and tls::key_file '{key_file}' are not a PEM certificate and its private key: {exc}"
        ) from None


def _load_verify_locations(context: ssl.SSLContext, key: str, path: str) -> None:
    """Trust the CA certificates in the file `tls::<key>` names."""
    try:
        context.load_verify_locations(cadata=read_pem(key, path).decode("ascii", "replace"))
    except ssl.SSLError as exc:
        raise TLSFileError(f"tls::{key}: '{path}' holds no PEM certificate: {exc}") from None


@dataclass(frozen=True, kw_only=True, slots=True)
class TLSServerConfig:
    cert_file: str = ""
    key_file: str = ""
    ca_file: str = ""
    client_ca_file: str = ""

    def validate(self) -> None:
        if bool(self.cert_file) != bool(self.key_file):
            raise ConfigError("tls: cert_file and key_file must be set together")
        if not self.cert_file:
            raise ConfigError("tls: a server needs cert_file and key_file")

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        _load_cert_chain(context, self.cert_file, self.key_file)
        if self.client_ca_file:
            _load_verify_locations(context, "client_ca_file", self.client_ca_file)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def grpc_credentials(self):  # type: ignore[no-untyped-def]
        import grpc

        roots = read_pem("client_ca_file", self.client_ca_file) if self.client_ca_file else None
        return grpc.ssl_server_credentials(
            [(read_pem("key_file", self.key_file), read_pem("cert_file", self.cert_file))],
            root_certificates=roots,
            require_client_auth=bool(self.client_ca_file),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class TLSClientConfig:
    insecure: bool = False
    insecure_skip_verify: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name_override: str = ""

    def validate(self) -> None:
        if bool(self.cert_file) != bool(self.key_file):
            raise ConfigError("tls: cert_file and key_file must be set together")

    def ssl_context(self) -> ssl.SSLContext:
        if self.ca_file:  # this CA only, not the system's roots besides (as gRPC's root_certificates)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificate and name, TLS >= 1.2
            _load_verify_locations(context, "ca_file", self.ca_file)
        else:
            context = ssl.create_default_context()
        if self.insecure_skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file:
            _load_cert_chain(context, self.cert_file, self.key_file)
        return context


def peer_certificate(host: str, port: int, client: TLSClientConfig, timeout: float) -> tuple[bytes, str]:
    """The certificate a TLS server presents (PEM, not verified) and a name it is valid for.

    gRPC's Python library cannot skip certificate verification, so `insecure_skip_verify` on a
    gRPC client trusts exactly the certificate the server shows when the channel opens, and checks
    it against a name it carries: the same trust as not verifying, with grpc's own handshake. The
    second handshake, against the pinned certificate, is what decodes the names (Python's ssl
    decodes only a verified certificate)."""

    def handshake(context: ssl.SSLContext) -> ssl.SSLSocket:
        if client.cert_file:
            _load_cert_chain(context, client.cert_file, client.key_file)
        sock = socket.create_connection((host, port), timeout)
        try:
            return context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise

    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    with handshake(unverified) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError(f"{host}:{port} presented no certificate")
    pem = ssl.DER_cert_to_PEM_cert(der)
    pinned = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    pinned.check_hostname = False
    pinned.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the leaf itself is the trust anchor
    pinned.load_verify_locations(cadata=pem)
    with handshake(pinned) as tls:
        decoded = tls.getpeercert() or {}
    names = [value for kind, value in decoded.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    names += [value for rdn in decoded.get("subject", ()) for key, value in rdn if key == "commonName"]
    if not names:
        raise ssl.SSLError(f"{host}:{port} presented a certificate without a DNS name, IP address or common name")
    return pem.encode(), host if host in names else str(names[0])
