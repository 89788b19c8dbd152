"""The `sentry` receiver: Sentry SDKs' envelopes and store events as logs and traces."""
