"""What screens, boards and speakers show and say.

- ``templates/`` and ``static/``: the pages (kiosk, hall and window screens, staff console, rating
  pad, mobile progress, manager view) — jinja2 shells with small plain JavaScript, served by
  ``hall.http.pages``; ``static/js/live.js`` is their shared live-stream client.
- :mod:`displays.led`: text of the LED window strips, laid out per strip width (pure).
- :mod:`displays.voice`: call announcements joined from the committed clip pack.
"""
