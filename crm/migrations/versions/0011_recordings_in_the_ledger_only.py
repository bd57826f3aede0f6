"""A call's recordings are kept in the recording ledger only, not also on the call.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTS = ("mix", "client", "employee")


def _part_of(path: str) -> str:
    # The store names its files <linkedid>-<part>.wav.enc.
    name = path.rsplit("/", 1)[-1].removesuffix(".enc").removesuffix(".wav")
    return next((part for part in PARTS if name.endswith(f"-{part}")), "mix")


def upgrade() -> None:
    connection = op.get_bind()
    # A call whose files the ledger has no row of (stored before the ledger kept them) keeps
    # them there, without the hash and size nobody took then.
    orphans = connection.execute(
        sa.text(
            "SELECT linkedid, recording_files, coalesce(ended_at, started_at) FROM calls "
            "WHERE recording_files IS NOT NULL AND recording_files != '' AND NOT EXISTS "
            "(SELECT 1 FROM recording_files r WHERE r.linkedid = calls.linkedid)"
        )
    ).all()
    for linkedid, files, at in orphans:
        by_part: dict[str, str] = {}
        for path in str(files).split("\n"):
            if path.strip():
                by_part.setdefault(_part_of(path.strip()), path.strip())
        for part, path in by_part.items():
            connection.execute(
                sa.text(
                    "INSERT INTO recording_files "
                    "(linkedid, part, path, sha256, size_bytes, duration_ms, created_at) "
                    "VALUES (:linkedid, :part, :path, '', 0, 0, :at)"
                ),
                {"linkedid": linkedid, "part": part, "path": path, "at": at},
            )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("recording_files")


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_files", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT linkedid, path FROM recording_files ORDER BY linkedid, id")
    ).all()
    files: dict[str, list[str]] = {}
    for linkedid, path in rows:
        files.setdefault(linkedid, []).append(path)
    for linkedid, paths in files.items():
        connection.execute(
            sa.text("UPDATE calls SET recording_files = :files WHERE linkedid = :linkedid"),
            {"files": "\n".join(paths), "linkedid": linkedid},
        )
