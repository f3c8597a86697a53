"""Moving the test database along the migrations, for the tests of a data
migration: back to the state before it, forward through it, and back to the
latest state afterwards (the next tests expect the current schema)."""

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets: list[tuple[str, str]]) -> Apps:
    """Migrate to ``targets`` ((app, migration name) pairs); the models as
    they stood there (``apps.get_model``)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
