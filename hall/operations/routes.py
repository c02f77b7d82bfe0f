"""The operations HTTP API (JSON), mounted by `hall.app` through `operation_routes()`.

```
POST /api/halls/{hall}/tickets/{id}/rating {level, reasons?, progress_token?}  pad, manager or the person: 好差评
GET  /api/halls/{hall}/ops/cases?status=open|closed|…        manager: 差评整改 cases (overdue flagged)
GET  /api/halls/{hall}/ops/cases/{id}                          manager: one case with its audit trail
POST /api/halls/{hall}/ops/cases/{id}/{step}                   manager: verify|rectify|explain|follow_up|close
                                                               {note} / {outcome, reason?, new_level?}
GET  /api/halls/{hall}/ops/appeals                             manager
POST /api/halls/{hall}/ops/appeals        {ticket_id, reason}  staff or manager: 申诉
POST /api/halls/{hall}/ops/appeals/{id}/decide {upheld, note}  manager: 复核
POST /api/halls/{hall}/ops/tickets/{id}/link  {case_number, matter_code, matter_name?, department?}  staff
GET  /api/halls/{hall}/ops/slots?category=                      public: bookable slots
POST /api/halls/{hall}/ops/slots {category, day, slots: [["09:00","09:30"]…] | every_minutes, capacity}  manager
POST /api/halls/{hall}/appointments {slot_id, name, id_number?, phone?}   public: 预约
POST /api/halls/{hall}/appointments/{code}/cancel {id_number? | phone?}   public (must match)
POST /api/halls/{hall}/appointments/check-in {code? | id_number?}         kiosk: → ticket
GET  /api/halls/{hall}/forecast                               manager: the latest forecast, its age
POST /api/halls/{hall}/forecast                               manager: recompute now (202, in the background)
GET  /api/halls/{hall}/accuracy?day=                          manager: the day's estimates and forecasts scored
POST /api/halls/{hall}/forecast/advice/{id}/apply             manager: apply a 潮汐 advice (409 advice_stale)
GET  /api/halls/{hall}/ops/alerts                               manager: open and recent alerts
POST /api/halls/{hall}/ops/windows/{w}/skills {categories, name?}   manager: 潮汐窗口
GET  /api/halls/{hall}/ops/stats?day= | ?from=&to=, &format=json|csv|xlsx   manager
GET  /api/halls/{hall}/ops/ratings-export?from=&to=&format=json|csv   manager: provincial fields
GET|POST /api/halls/{hall}/ops/webhooks {url, secret, types?}  manager (GET: with delivery log)
GET|PUT  /api/halls/{hall}/ops/settings {case_working_days, rating, booking, alerts, …}  manager
                                                               (see hall.operations.config)
```
Errors are the server's `{"error", "message"}` with a 4xx status.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from hall.operations.accuracy.api import accuracy
from hall.operations.appointments.api import book, cancel, check_in, slots
from hall.operations.cases.api import appeal_decide, appeals, case_detail, case_step, cases
from hall.operations.forecast.api import advice_apply, forecast_view
from hall.operations.live.api import alerts, window_skills
from hall.operations.ratings.api import rating
from hall.operations.settings_api import ops_settings
from hall.operations.stats.api import link, ratings_export, stats
from hall.operations.web import config_of, now_of, parse_day, today
from hall.operations.webhooks.api import webhooks

__all__ = ["api_routes", "config_of", "now_of", "today", "parse_day"]


def api_routes() -> list[BaseRoute]:
    h = "/api/halls/{hall}"
    return [
        Route(f"{h}/tickets/{{id:int}}/rating", rating, methods=["POST"]),
        Route(f"{h}/ops/cases", cases, methods=["GET"]),
        Route(f"{h}/ops/cases/{{id:int}}", case_detail, methods=["GET"]),
        Route(f"{h}/ops/cases/{{id:int}}/{{step}}", case_step, methods=["POST"]),
        Route(f"{h}/ops/appeals", appeals, methods=["GET", "POST"]),
        Route(f"{h}/ops/appeals/{{id:int}}/decide", appeal_decide, methods=["POST"]),
        Route(f"{h}/ops/tickets/{{id:int}}/link", link, methods=["POST"]),
        Route(f"{h}/ops/slots", slots, methods=["GET", "POST"]),
        Route(f"{h}/appointments", book, methods=["POST"]),
        Route(f"{h}/appointments/check-in", check_in, methods=["POST"]),
        Route(f"{h}/appointments/{{code}}/cancel", cancel, methods=["POST"]),
        Route(f"{h}/ops/alerts", alerts, methods=["GET"]),
        Route(f"{h}/forecast", forecast_view, methods=["GET", "POST"]),
        Route(f"{h}/accuracy", accuracy, methods=["GET"]),
        Route(f"{h}/forecast/advice/{{id}}/apply", advice_apply, methods=["POST"]),
        Route(f"{h}/ops/windows/{{w:int}}/skills", window_skills, methods=["POST"]),
        Route(f"{h}/ops/stats", stats, methods=["GET"]),
        Route(f"{h}/ops/ratings-export", ratings_export, methods=["GET"]),
        Route(f"{h}/ops/webhooks", webhooks, methods=["GET", "POST"]),
        Route(f"{h}/ops/settings", ops_settings, methods=["GET", "PUT"]),
    ]
