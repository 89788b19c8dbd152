"""The collector's `tls` block for servers and clients, turned into ssl contexts / gRPC credentials."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from summitcol.errors import ConfigError


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
        context.load_cert_chain(self.cert_file, self.key_file)
        if self.client_ca_file:
            context.load_verify_locations(self.client_ca_file)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def grpc_credentials(self):  # type: ignore[no-untyped-def]
        import grpc

        def read(path: str) -> bytes:
            with open(path, "rb") as fh:
                return fh.read()

        roots = read(self.client_ca_file) if self.client_ca_file else None
        return grpc.ssl_server_credentials(
            [(read(self.key_file), read(self.cert_file))],
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
        context = ssl.create_default_context(cafile=self.ca_file or None)
        if self.insecure_skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context
