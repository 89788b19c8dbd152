"""What the CI webhook receivers (github, gitlab, circleci) share: the `webhook` config block,
the HTTP server with its status codes, signature helpers and the delivery log."""
