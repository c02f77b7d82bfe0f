"""The web edge: routes, the API's writes and reads, pages and their data, errors, OpenAPI, metrics."""
