"""Sentry's ingestion protocol as a domain library: envelopes, auth, and the mapping of error
events and transactions onto OTLP log records and spans. No pipeline knowledge: the `sentry`
receiver (summitcol/receiver/sentry) is the thin component over it."""
