"""The `github` receiver: GitHub webhooks (workflow_run, workflow_job, deployment,
deployment_status, push) as contrib-identical traces and build events."""
