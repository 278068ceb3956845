"""Per-field merge: apply plain edits, skip no-ops, the later edit wins a clash and the loser is
kept as a conflict."""

from __future__ import annotations

import datetime as dt

from kape_itops.sync.merge import SERVER, Current, FieldEdit, create_edits, decide, snapshot

T = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _edit(old: str | None, new: str | None, at: dt.datetime = T) -> FieldEdit:
    return FieldEdit("device", "A-1", "room", old, new, at, "officer")


def test_same_value_is_nothing_to_do() -> None:
    d = decide(_edit("Lab 1", "Lab 2"), Current("Lab 2", T + HOUR, "admin"))
    assert not d.apply and d.conflict is None


def test_unchanged_on_the_server_is_applied() -> None:
    d = decide(_edit("Lab 1", "Lab 2"), Current("Lab 1", T + HOUR, "admin"))
    assert d.apply and d.conflict is None
    assert decide(_edit(None, "Lab 2"), Current("")).apply  # empty text is no value


def test_both_edited_the_later_incoming_edit_wins_and_the_server_value_is_kept_aside() -> None:
    d = decide(_edit("Lab 1", "Lab 2", T + HOUR), Current("Lab 3", T, "admin"), "site-1", T)
    assert d.apply
    c = d.conflict
    assert c is not None
    assert (c.kept, c.kept_by, c.kept_at) == ("Lab 2", "officer", T + HOUR)
    assert (c.other, c.other_by, c.other_at) == ("Lab 3", "admin", T)
    assert c.site_uid == "site-1"


def test_both_edited_the_later_server_edit_wins_and_a_tie_keeps_the_server() -> None:
    for at in (T, T - HOUR):
        d = decide(_edit("Lab 1", "Lab 2", at), Current("Lab 3", T, "admin"))
        assert not d.apply
        assert d.conflict is not None
        assert (d.conflict.kept, d.conflict.other) == ("Lab 3", "Lab 2")


def test_a_server_value_without_history_loses_to_any_edit() -> None:
    d = decide(_edit("Lab 1", "Lab 2"), Current("Lab 9"))
    assert d.apply and d.conflict is not None and d.conflict.other_by == SERVER


def test_create_snapshots_become_field_edits() -> None:
    new = '{"kind": "switch", "room": "Lab", "school": "KEP-A", "n": 3}'
    edits = create_edits("device", "A-9", new, T, "officer")
    assert [(e.field, e.old, e.new) for e in edits] == [
        ("kind", None, "switch"),
        ("room", None, "Lab"),
        ("school", None, "KEP-A"),
    ]
    assert snapshot("not json") == {} and snapshot("[1]") == {} and snapshot(None) == {}
