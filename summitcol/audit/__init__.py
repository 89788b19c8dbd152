"""The audit ledger: an append-only, hash-chained record of who did what, when, from where and
with what outcome (authentication failures, queries, config loads, error-group changes), and
its verification. No pipeline knowledge; the `audit` extension installs the process's ledger."""

from summitcol.audit.ledger import Ledger, Problem, current_user, record, verify

__all__ = ["Ledger", "Problem", "current_user", "record", "verify"]
