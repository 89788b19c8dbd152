"""The `circleci` receiver: CircleCI workflow-completed and job-completed webhooks as build events."""
