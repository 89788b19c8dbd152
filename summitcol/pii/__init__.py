"""PII detection: built-in detectors (regex + validator) and the column-wise scrubber."""
