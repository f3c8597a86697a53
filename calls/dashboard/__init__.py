"""The head nurse's dashboard, in one place:

- ``selectors``: the figures (every one an aggregate query; docs/dashboard.md)
  and where they are read from (the summary tables or the calls);
- ``summary``: the per-day summary tables and the triggers that keep them;
- ``presentation``: the figures as tables (page, print, CSV/XLSX) and charts;
- ``forms`` and ``views``: the page, its call list, the export and the spot
  checks; ``tasks``: the weekly spot-check sample.

Its template filters are in ``calls/templatetags/dashboard.py`` (Django looks
for them there). The complaint figures come from
``complaints.selectors.complaint_figures``: ``selectors`` is the one module of
the calls app that reads complaints.
"""
