"""The compiled OTLP decoder (summitcol/pdata/_otlp.c); everything else is in pyproject.toml.

Declared here rather than under pyproject.toml's `[tool.setuptools.ext-modules]`, which setuptools
still calls experimental and warns about at every install. `optional`: without a compiler, Summit
runs with the Python decoder (`make test` refuses to: see the Makefile).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "summitcol.pdata._otlp",
            sources=["summitcol/pdata/_otlp.c"],
            extra_compile_args=["-O2", "-Wall"],
            optional=True,
        )
    ]
)
