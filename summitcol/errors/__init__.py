"""Error tracking: stack-trace parsing, normalization, fingerprints, grouping and its evaluation.

A domain library: it knows exceptions, not pipelines. The `fingerprint` processor and the
`summitcol errors` commands are its adapters.
"""
