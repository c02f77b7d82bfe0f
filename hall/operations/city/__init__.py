"""The city on one system: every hall and station of the server on one page (rules: the
figures and their order, pure; store: the figures read across halls; api: `/api/city…`)."""
