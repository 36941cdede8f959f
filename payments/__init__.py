"""Payments: the one Stripe client that purchase and lottery share (payments.stripe_client),
its HTTP transport (payments.stripe_http) and its domain errors (payments.errors)."""
