"""The `gitlab` receiver: GitLab Pipeline, Job, Deployment and Push hooks as traces (contrib
gitlabreceiver's ids) and build events."""
