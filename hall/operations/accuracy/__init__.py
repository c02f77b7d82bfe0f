"""Accuracy tracked, not claimed (issue 16): the estimate each ticket was given at issue against
its real wait, and each forecast's quarter hours against what happened.

- `rules` — pure: the scores (share under p50 and p90, mean absolute error by hour, category and
  source; a forecast's p10–p90 band coverage and the error of its median);
- `store` — keeps each forecast's slots as made, reads the estimates given and the day's waits;
- `lookup` — the latest fresh forecast as issuing's `ForecastSource`, recorded as it arrives;
- `api` — `GET /api/halls/{hall}/accuracy`.
"""
