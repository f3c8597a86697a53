"""What a web server process does once, after loading the project and before
serving its first request (and a Celery worker before its first task, the
import command before its file).

``settle()`` imports every view (by loading the URLconf) and then moves all
the objects loaded so far -- modules, classes, models, the URL patterns,
some 120,000 of them -- into the garbage collector's permanent generation
(``gc.freeze()``). They live as long as the process anyway; left where they
were, every full collection walked all of them again: a request that set one
off took 30-100 ms more (``benchmark_pages``, "Nurse pages" in the README),
about one request in fifty on the worklist and the call screen. Collections
still run as before for what requests create.
"""

import gc

from django.urls import get_resolver


def settle() -> None:
    get_resolver().url_patterns  # noqa: B018 - imports every view module
    gc.collect()
    gc.freeze()
