"""Read queries shared by views and exports, one module per part
(``discharges``, ``scripts``, ``worklist``, ``spot_checks``; the dashboard's
are in ``calls.dashboard``). Who may see which rows comes from followup.access."""
