"""The state store's tables as peewee models.

Times are epoch milliseconds (integers), as in the Vizzly JSON files, so values round-trip
to the wire format without conversion. JSON columns hold what the contract keeps as objects
(properties, heightDiff, clusters...). Migration 001 holds a frozen copy of this schema:
change it here AND in a new migration, never by editing an applied one.
"""

from __future__ import annotations

import peewee as pw

from vizzly_tui.statuses import BuildStatus, DecisionState

# Every model binds to this proxy; store.db.open_database() initialises it with the one
# SplitDatabase of the process (read-only on every thread but the writer's).
database = pw.DatabaseProxy()


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Build(BaseModel):
    """One local run (`serve` session, `run` command, legacy import) or a baseline origin."""

    # kind: run | serve | import (local runs, newest is "current") ; baseline-local | baseline-cloud
    kind = pw.CharField()
    uid = pw.CharField(unique=True)  # the id SDKs see (VIZZLY_BUILD_ID)
    name = pw.CharField(null=True)
    status = pw.CharField(default=BuildStatus.RUNNING)  # a BuildStatus
    started_at = pw.BigIntegerField()
    finished_at = pw.BigIntegerField(null=True)
    branch = pw.CharField(null=True)
    commit_sha = pw.CharField(null=True)
    commit_message = pw.TextField(null=True)
    environment = pw.CharField(null=True)
    cloud_build_id = pw.CharField(null=True)
    cloud_info = pw.JSONField(null=True)  # approvalStatus, completedAt, downloadedAt ...

    class Meta:
        indexes = ((("kind", "started_at"), False),)


class Comparison(BaseModel):
    """The result for one signature in one build (contract §3.4)."""

    build = pw.ForeignKeyField(Build, backref="comparisons", on_delete="CASCADE")
    cid = pw.CharField()  # the contract's comparison id: sha256(signature)[:16]
    name = pw.CharField()
    original_name = pw.CharField(null=True)
    signature = pw.CharField()
    file_name = pw.CharField()
    status = pw.CharField()
    initial_status = pw.CharField(null=True)
    baseline = pw.CharField(null=True)  # URL paths /images/baselines/<file>, as upstream
    current = pw.CharField(null=True)
    diff = pw.CharField(null=True)
    properties = pw.JSONField(default=dict)
    threshold = pw.FloatField(null=True)
    min_cluster_size = pw.IntegerField(null=True)
    diff_percentage = pw.FloatField(null=True)
    diff_count = pw.IntegerField(null=True)
    reason = pw.CharField(null=True)
    total_pixels = pw.IntegerField(null=True)
    aa_pixels_ignored = pw.IntegerField(null=True)
    aa_percentage = pw.FloatField(null=True)
    height_diff = pw.JSONField(null=True)  # kept as its object (upstream loses it, §10.4)
    error = pw.TextField(null=True)
    timestamp = pw.BigIntegerField()
    updated_at = pw.BigIntegerField()
    has_diff_clusters = pw.BooleanField(default=False)
    has_confirmed_regions = pw.BooleanField(default=False)
    current_sha256 = pw.CharField(null=True)  # bytes the comparison saw; accept checks them
    baseline_sha256 = pw.CharField(null=True)  # baseline it was compared with (migration 002)
    extra = pw.JSONField(null=True)  # legacy fields that are not columns (userAction, warnings)
    # The review order (migration 002). Triggers in the database keep these right on every
    # insert/update/delete, whatever sets them here: never compute them in Python.
    priority = pw.IntegerField(default=4)  # 0 failed, 1 new, 2 rejected, 3 error, 4 passed
    group_priority = pw.IntegerField(default=4)  # best priority among the name's variants
    group_diff = pw.FloatField(default=-1)  # largest diff % among the name's variants

    class Meta:
        indexes = (
            (("build", "signature"), True),
            (("build", "cid"), False),
            (("build", "status", "diff_percentage"), False),
            (("build", "name"), False),
            (("build", "timestamp"), False),
        )


class ComparisonDetail(BaseModel):
    """The heavy fields of a comparison, fetched only for one comparison at a time."""

    comparison = pw.ForeignKeyField(
        Comparison, primary_key=True, backref="details", on_delete="CASCADE"
    )
    diff_clusters = pw.JSONField(null=True)
    intensity_stats = pw.JSONField(null=True)
    bounding_box = pw.JSONField(null=True)
    region_analysis = pw.JSONField(null=True)
    hotspot_analysis = pw.JSONField(null=True)
    confirmed_regions = pw.JSONField(null=True)


class Baseline(BaseModel):
    """The accepted image of a signature: `baselines/<file_name>` holds these bytes."""

    signature = pw.CharField(unique=True)
    name = pw.CharField()
    file_name = pw.CharField()
    sha256 = pw.CharField(null=True)  # null when imported metadata names a file we never saw
    width = pw.IntegerField(null=True)
    height = pw.IntegerField(null=True)
    size = pw.IntegerField(null=True)
    properties = pw.JSONField(default=dict)
    origin_build = pw.ForeignKeyField(Build, null=True, backref="baselines", on_delete="SET NULL")
    updated_at = pw.BigIntegerField()
    extra = pw.JSONField(null=True)  # cloud-download fields: id, originalName, originalUrl...


class Decision(BaseModel):
    """The review log. Each row is one action on one comparison or baseline.

    A user action that touches several comparisons (accept --all, reset) is one `batch`; undo
    reverses the newest batch not yet undone. `state` implements the crash protocol: a row is
    written `pending` with the sha256 of every file it will write (`files`), the files are
    written, then the row becomes `done`. A start that finds `pending` rows finishes or rolls
    them back (store.recovery).
    """

    batch = pw.CharField(index=True)
    action = pw.CharField()  # accept | reject | delete | reset | undo
    actor = pw.CharField()  # cli | http | tui
    state = pw.CharField(default=DecisionState.PENDING)  # a DecisionState

    created_at = pw.BigIntegerField()
    build = pw.ForeignKeyField(Build, null=True, on_delete="SET NULL")
    comparison = pw.ForeignKeyField(Comparison, null=True, on_delete="SET NULL")
    cid = pw.CharField(null=True)
    signature = pw.CharField(null=True)
    name = pw.CharField(null=True)
    status_before = pw.CharField(null=True)
    status_after = pw.CharField(null=True)
    baseline_sha_before = pw.CharField(null=True)
    baseline_sha_after = pw.CharField(null=True)
    # [{"path": "baselines/x.png", "before": sha256 | None, "after": sha256 | None}]
    files = pw.JSONField(default=list)
    snapshot = pw.JSONField(null=True)  # rows a delete/reset removed, so undo can restore them
    undoes = pw.ForeignKeyField("self", null=True, backref="undone_by", on_delete="SET NULL")
    undone = pw.BooleanField(default=False)


class BaselineVersion(BaseModel):
    """Every image a signature's baseline has had; the bytes are in `objects/<sha256>.png`."""

    signature = pw.CharField(index=True)
    sha256 = pw.CharField()
    size = pw.IntegerField(null=True)
    created_at = pw.BigIntegerField()
    decision = pw.ForeignKeyField(Decision, null=True, backref="versions", on_delete="SET NULL")
    source = pw.CharField()  # import | new | accept | undo | download


class Hotspot(BaseModel):
    """Cloud-derived noise bands for a screenshot name (shared by all its variants)."""

    name = pw.CharField(unique=True)
    confidence = pw.CharField(null=True)
    confidence_score = pw.FloatField(null=True)
    bands = pw.JSONField(default=list)  # [{"y1":..,"y2":..,...}]
    data = pw.JSONField(default=dict)  # the analysis as received
    source = pw.CharField(default="cloud")


class Region(BaseModel):
    """A 2-D box for a screenshot name, normalised to x1/y1/x2/y2 whatever shape it came in."""

    name = pw.CharField(index=True)
    kind = pw.CharField()  # confirmed | candidate
    source = pw.CharField(default="cloud")  # cloud | local
    region_id = pw.CharField(null=True)
    label = pw.CharField(null=True)
    x1 = pw.FloatField()
    y1 = pw.FloatField()
    x2 = pw.FloatField()
    y2 = pw.FloatField()
    data = pw.JSONField(default=dict)
    created_at = pw.BigIntegerField(null=True)  # local regions only (migration 002)
    actor = pw.CharField(null=True)  # cli | http | tui, for local regions


class Setting(BaseModel):
    """Small values that travel with the baselines: the baseline metadata header, bundles."""

    key = pw.CharField(primary_key=True)
    value = pw.JSONField(null=True)
    updated_at = pw.BigIntegerField()


class ImportLog(BaseModel):
    """What the legacy JSON import took and what it skipped, with the reason."""

    source = pw.CharField()  # the legacy file, e.g. report-data.json
    item = pw.CharField(null=True)  # the entry (comparison id, screenshot name...) or None
    outcome = pw.CharField()  # imported | skipped
    detail = pw.TextField(null=True)
    created_at = pw.BigIntegerField()


ALL_MODELS = (
    Build,
    Comparison,
    ComparisonDetail,
    Baseline,
    BaselineVersion,
    Decision,
    Hotspot,
    Region,
    Setting,
    ImportLog,
)
