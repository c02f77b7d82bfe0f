"""The hall's next hours (issue 16): a live forecast recomputed off the request path.

- `rules` — pure: the hall state and demand the simulator starts from, the JSON of a forecast,
  when one is stale;
- `store` — reads the hall's state in one read transaction, keeps the latest forecast per hall;
- `worker` — the task that recomputes every few minutes in a worker process;
- `api` — `GET /api/halls/{hall}/forecast`.
"""
