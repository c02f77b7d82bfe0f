"""Live operations: service-level alerts (rules), alerts and 潮汐 in the database (store), endpoints (api)."""
