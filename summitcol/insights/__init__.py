"""Build intelligence over the build tables: SQL that runs the same on the embedded engine and on
a ClickHouse server (the flaky test radar for now). No pipeline knowledge."""
