"""002: a stored review order for comparisons, the baseline each was compared with, and
who made a local region and when.

The app pages a build's comparisons sorted by priority (failed, new, rejected, error,
passed), then diff size, with the variants of one name kept together. Computing that order
per query sorts the whole build (~40 ms at 100k rows); storing it lets one index serve every
page. Three columns hold it, kept up to date by triggers so that every writer (capture,
decisions, legacy import, undo) stays correct without knowing about them:

- priority:        the row's own rank from its status (0 failed .. 4 passed);
- group_priority:  the best (lowest) rank among the variants of its name in its build;
- group_diff:      the largest diff percentage among those variants (-1 when none).

Only ALTER TABLE ADD COLUMN, CREATE INDEX and CREATE TRIGGER: no table is rebuilt, so no
foreign-key cascade can fire (sqlite-peewee-migrate.md §2.5). The DDL is frozen here.
"""

RANK = """CASE {status}
    WHEN 'failed' THEN 0
    WHEN 'new' THEN 1
    WHEN 'baseline-created' THEN 1
    WHEN 'rejected' THEN 2
    WHEN 'error' THEN 3
    ELSE 4 END"""

# INDEXED BY: left alone, the planner answers these subqueries by scanning the whole build
# through the covering review-order index (3 ms a row at 20k rows, measured), not by the
# (build_id, name) lookup of migration 001.
GROUP_REFRESH = """UPDATE "comparison" SET
        "group_priority" = (SELECT MIN(c2."priority") FROM "comparison" c2
            INDEXED BY "comparison_build_id_name"
            WHERE c2."build_id" = {row}."build_id" AND c2."name" = {row}."name"),
        "group_diff" = (SELECT COALESCE(MAX(c2."diff_percentage"), -1) FROM "comparison" c2
            INDEXED BY "comparison_build_id_name"
            WHERE c2."build_id" = {row}."build_id" AND c2."name" = {row}."name")
    WHERE "build_id" = {row}."build_id" AND "name" = {row}."name";"""

SCHEMA = (
    """ALTER TABLE "comparison" ADD COLUMN "priority" INTEGER NOT NULL DEFAULT 4""",
    """ALTER TABLE "comparison" ADD COLUMN "group_priority" INTEGER NOT NULL DEFAULT 4""",
    """ALTER TABLE "comparison" ADD COLUMN "group_diff" REAL NOT NULL DEFAULT -1""",
    f"""UPDATE "comparison" SET "priority" = {RANK.format(status='"status"')}""",
    """UPDATE "comparison" SET
        "group_priority" = (SELECT MIN(c2."priority") FROM "comparison" c2
            WHERE c2."build_id" = "comparison"."build_id" AND c2."name" = "comparison"."name"),
        "group_diff" = (SELECT COALESCE(MAX(c2."diff_percentage"), -1) FROM "comparison" c2
            WHERE c2."build_id" = "comparison"."build_id" AND c2."name" = "comparison"."name")""",
    # The review order, whole: one index walk serves any page of it.
    """CREATE INDEX "comparison_review_order" ON "comparison" ("build_id", "group_priority",
        "group_diff" DESC, "name", "priority", "diff_percentage" DESC)""",
    f"""CREATE TRIGGER "comparison_order_insert" AFTER INSERT ON "comparison" BEGIN
        UPDATE "comparison" SET "priority" = {RANK.format(status='NEW."status"')}
            WHERE "id" = NEW."id";
        {GROUP_REFRESH.format(row="NEW")}
    END""",
    # Fires only when a column of the order changes; its own UPDATEs touch none of them.
    f"""CREATE TRIGGER "comparison_order_update"
        AFTER UPDATE OF "status", "diff_percentage", "name", "build_id" ON "comparison" BEGIN
        UPDATE "comparison" SET "priority" = {RANK.format(status='NEW."status"')}
            WHERE "id" = NEW."id";
        {GROUP_REFRESH.format(row="OLD")}
        {GROUP_REFRESH.format(row="NEW")}
    END""",
    f"""CREATE TRIGGER "comparison_order_delete" AFTER DELETE ON "comparison" BEGIN
        {GROUP_REFRESH.format(row="OLD")}
    END""",
    # Local regions (made in the app) say when and by whom; cloud rows leave them null.
    """ALTER TABLE "region" ADD COLUMN "created_at" INTEGER""",
    """ALTER TABLE "region" ADD COLUMN "actor" VARCHAR(255)""",
    # The baseline bytes a comparison was made against (in objects/), so an older build's
    # pair can still be shown after the baseline moved on.
    """ALTER TABLE "comparison" ADD COLUMN "baseline_sha256" VARCHAR(255)""",
)


def migrate(migrator, database, *, fake=False):
    if fake:
        # peewee-migrate replays applied migrations with fake=True; nothing to re-do.
        return
    for statement in SCHEMA:
        migrator.sql(statement)


def rollback(migrator, database, *, fake=False):
    for statement in (
        'ALTER TABLE "comparison" DROP COLUMN "baseline_sha256"',
        'ALTER TABLE "region" DROP COLUMN "actor"',
        'ALTER TABLE "region" DROP COLUMN "created_at"',
        'DROP TRIGGER IF EXISTS "comparison_order_delete"',
        'DROP TRIGGER IF EXISTS "comparison_order_update"',
        'DROP TRIGGER IF EXISTS "comparison_order_insert"',
        'DROP INDEX IF EXISTS "comparison_review_order"',
        'ALTER TABLE "comparison" DROP COLUMN "group_diff"',
        'ALTER TABLE "comparison" DROP COLUMN "group_priority"',
        'ALTER TABLE "comparison" DROP COLUMN "priority"',
    ):
        migrator.sql(statement)
