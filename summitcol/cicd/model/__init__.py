"""Summit's build events, generated from proto/summit/build/v1/*.proto by `make proto`.

`build_pb2` (and its type stub `build_pb2.pyi`) is protoc's output, committed so that Summit runs
without protoc; do not edit it: change the .proto and regenerate. tests/cicd/test_codegen.py fails
when it is stale. Usage::

    from summitcol.cicd.model import build_pb2
    event = build_pb2.BuildEvent(provider=build_pb2.PROVIDER_GITHUB, job=build_pb2.Job(job_id="1"))
"""
