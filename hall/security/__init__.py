"""Accounts, bearer tokens and who may do what, personal-data encryption, rate limits."""
