"""Read queries shared by views, exports and the dashboard, one module per part
(``discharges``, ``scripts``, ``worklist``, ``dashboard``, ``spot_checks``).
Who may see which rows comes from followup.access."""
