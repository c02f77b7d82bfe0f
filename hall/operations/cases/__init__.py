"""差评整改 cases and rating appeals: pure steps (rules, appeals), storage (store), endpoints (api)."""
