"""Comments keep their HTML

A comment's body and the secretariat's response are rendered from Markdown (and sanitised)
once, when they are written, and stored with the renderer's version; pages show the stored
HTML instead of rendering every comment on every request. Existing comments are rendered
here, in Python (the same renderer as the application's), a batch of rows at a time.

Revision ID: d4b7e1a9c3f6
Revises: c5e8a1d3f7b2
Create Date: 2026-12-12 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d4b7e1a9c3f6"
down_revision = "c5e8a1d3f7b2"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("body_html_version", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("resolution_html", sa.Text(), nullable=True))
    _render()
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.alter_column("body_html", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("body_html_version", existing_type=sa.SmallInteger(), nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_comment_resolution_has_html"),
            "(resolution IS NULL) = (resolution_html IS NULL)",
        )


def _render():
    """Render every comment's body and response, in order of id, BATCH rows at a time."""
    from consult.text import COMMENT_RENDERER_VERSION, render_comment

    connection = op.get_bind()
    comment = sa.table(
        "comment",
        sa.column("id", sa.Integer()),
        sa.column("body", sa.Text()),
        sa.column("resolution", sa.Text()),
        sa.column("body_html", sa.Text()),
        sa.column("body_html_version", sa.SmallInteger()),
        sa.column("resolution_html", sa.Text()),
    )
    store = (
        sa.update(comment)
        .where(comment.c.id == sa.bindparam("row_id"))
        .values(
            body_html=sa.bindparam("new_body_html"),
            resolution_html=sa.bindparam("new_resolution_html"),
            body_html_version=COMMENT_RENDERER_VERSION,
        )
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(comment.c.id, comment.c.body, comment.c.resolution)
            .where(comment.c.id > after)
            .order_by(comment.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            store,
            [
                {
                    "row_id": row_id,
                    "new_body_html": str(render_comment(body)),
                    "new_resolution_html": (
                        None if resolution is None else str(render_comment(resolution))
                    ),
                }
                for row_id, body, resolution in rows
            ],
        )
        after = rows[-1][0]


def downgrade():
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_comment_resolution_has_html"), type_="check")
        batch_op.drop_column("resolution_html")
        batch_op.drop_column("body_html_version")
        batch_op.drop_column("body_html")
