"""The `otlp` receiver: OTLP over gRPC (4317) and HTTP (4318), protobuf and JSON."""

from __future__ import annotations
