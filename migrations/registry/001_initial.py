"""001: the global server registry (`$VIZZLY_HOME/servers.db`).

Same tables as the Vizzly CLI's SQLite registry (vizzly-local-tdd.md §2.9), named for our
models: `server` holds one row per running TDD server, `registry_meta` small key/values
(`legacy_json_migrated`). The DDL is frozen here, not generated from
vizzly_tui.server.registry, so later model changes cannot change what this migration did.
The one-time servers.json import is not done here: it must be retried after a parse
failure, which a migration recorded as applied could never do (see registry_schema.py).
"""

SCHEMA = (
    # id: random hex like upstream's randomBytes(8); started_at: ISO-8601 UTC text as
    # upstream's startedAt, so rows round-trip to the servers.json shape unchanged.
    """CREATE TABLE "server" ("id" TEXT NOT NULL PRIMARY KEY,
        "port" INTEGER NOT NULL,
        "pid" INTEGER NOT NULL,
        "directory" TEXT NOT NULL,
        "started_at" TEXT NOT NULL,
        "config_path" TEXT,
        "name" TEXT,
        "log_file" TEXT)""",
    # Named unique indexes (as peewee's unique=True emits them) rather than inline UNIQUE,
    # so later migrations can address them by name.
    """CREATE UNIQUE INDEX "server_port" ON "server" ("port")""",
    """CREATE UNIQUE INDEX "server_directory" ON "server" ("directory")""",
    """CREATE INDEX "server_started_at" ON "server" ("started_at")""",
    """CREATE TABLE "registry_meta" ("key" TEXT NOT NULL PRIMARY KEY,
        "value" TEXT,
        "updated_at" INTEGER NOT NULL)""",
)

DROP = ("server", "registry_meta")


def migrate(migrator, database, *, fake=False):
    if fake:
        # peewee-migrate replays applied migrations with fake=True; nothing to re-do.
        return
    for statement in SCHEMA:
        migrator.sql(statement)


def rollback(migrator, database, *, fake=False):
    for table in DROP:
        migrator.sql(f'DROP TABLE IF EXISTS "{table}"')
