"""Open-loop OTLP load generator; see core.py and `python -m perf.loadgen --help`."""
