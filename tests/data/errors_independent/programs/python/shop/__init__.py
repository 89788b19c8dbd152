"""A small order-processing service whose bugs the error corpus records."""
