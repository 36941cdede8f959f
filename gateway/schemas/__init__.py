"""Response bodies of the JSON API as pydantic models, one module per part.

They are the contract /openapi.json publishes (`documented(response=...)`), and
tests/gateway/test_openapi.py checks real responses against them. Every model
forbids unknown fields, so a field a handler adds without adding it here fails
those tests instead of going undocumented.
"""
