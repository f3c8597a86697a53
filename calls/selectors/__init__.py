"""Read queries shared by views and exports, one module per part (``scripts``,
``worklist``, ``discharges``, ``spot_checks``; the dashboard's are in calls.dashboard)."""
