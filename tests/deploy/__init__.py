"""Tests of deploy/: Kubernetes manifests, the Grafana dashboard, the alert rules, compose."""
