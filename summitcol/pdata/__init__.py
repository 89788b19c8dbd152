"""OTLP ⇄ Arrow: the schemas Summit's pipelines carry and the converters that fill them.

See `summitcol/pdata/README.md` for the representation and why it is lossless.
"""

from __future__ import annotations
