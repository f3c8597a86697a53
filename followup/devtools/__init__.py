"""Developer tools: the demo data (``manage.py seed_demo``), the benchmarks
and the load test. An app of its own, installed when DEVTOOLS is on (by
default with DEBUG); production leaves it out. It imports the product's
apps; none of them imports it (tests/devtools/test_boundaries.py)."""
