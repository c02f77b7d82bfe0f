"""Signed webhooks: signatures (signing), the delivery queue and log (store), endpoints (api)."""
