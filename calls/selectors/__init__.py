"""Read queries shared by views, exports and the dashboard, one module per part
(``scripts``, ``worklist``, ``dashboard``)."""
