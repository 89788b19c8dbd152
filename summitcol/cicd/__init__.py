"""CI/CD: the canonical build event model (`model/`, generated from proto/summit/build/v1), its
compatibility check (`schema_compat`), and the libraries the CI receivers share."""
