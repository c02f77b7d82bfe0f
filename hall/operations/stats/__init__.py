"""Statistics: per-day figures (rules), queries (store), CSV/XLSX and provincial exports (exports), endpoints (api)."""
