from kit.core.config import DataDir
from kit.core.db import MIGRATIONS, open_db, schema_version
from kit.core.eventlog import append, events_after, version_vector
from kit.core.events import AnswerRecorded, LessonRead
from kit.core.instance import init_instance
from kit.core import records


def test_init_twice_keeps_the_device_key(tmp_path):
    d = DataDir(tmp_path / "d")
    first, created = init_instance(d)
    second, created_again = init_instance(d)
    assert created and not created_again
    assert first.device_id == second.device_id and len(first.device_id) == 16


def test_migrations_run_once_and_set_wal(inst):
    assert schema_version(inst.db) == len(MIGRATIONS)
    again = open_db(inst.data.db_path)
    assert schema_version(again) == len(MIGRATIONS)
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_events_get_gapless_sequence_numbers(inst):
    for i in range(3):
        append(inst.db, LessonRead("p", f"l{i}", "fr"), learner_id="L1")
    assert version_vector(inst.db) == {inst.device_id: 3}
    assert [e.seq for e in events_after(inst.db, {inst.device_id: 1})] == [2, 3]


def test_a_form_token_is_recorded_once_per_learner(inst):
    answer = AnswerRecorded("p", "a", "fr", "q1", 1.0, True, 0, token="t-1")
    first, new = append(inst.db, answer, learner_id="L1")
    again, new_again = append(inst.db, answer, learner_id="L1")
    assert new and not new_again and again == first
    assert first.uid == f"{inst.device_id}:1" and first.body["token"] == "t-1"
    # Someone else's token is theirs alone: another learner posting it records their own event.
    other, other_new = append(inst.db, answer, learner_id="L2")
    assert other_new and other.learner_id == "L2"
    assert inst.db["events"].count == 2


def test_later_edit_wins_and_delete_never_resurrects(inst):
    records.set_fields(inst.db, "learner", "L1", {"name": "Amina", "class_id": "C"})
    records.set_fields(inst.db, "learner", "L1", {"name": "Amina B."})
    assert records.get(inst.db, "learner", "L1") == {"id": "L1", "name": "Amina B.", "class_id": "C"}
    records.delete(inst.db, "learner", "L1")
    records.set_fields(inst.db, "learner", "L1", {"name": "back?"})
    assert records.get(inst.db, "learner", "L1") is None


def test_rebuild_from_events_gives_the_same_records(inst):
    records.set_fields(inst.db, "class", "C1", {"name": "CP1", "code": "1234"})
    records.set_fields(inst.db, "learner", "L1", {"name": "Youssef", "class_id": "C1"})
    before = list(inst.db.query("SELECT * FROM records ORDER BY kind, id"))
    records.rebuild(inst.db)
    assert list(inst.db.query("SELECT * FROM records ORDER BY kind, id")) == before


def test_the_clock_stays_sortable_when_many_events_share_a_millisecond(inst):
    from kit.core.clock import MAX_COUNTER, format_hlc, tick
    from kit.core.db import set_meta
    set_meta(inst.db, "hlc", format_hlc(5_000, MAX_COUNTER))
    later = tick(inst.db, now_ms=1_000)          # the wall clock went backwards
    assert later > format_hlc(5_000, MAX_COUNTER) and later == format_hlc(5_001, 0)


def test_a_far_future_clock_from_a_peer_does_not_drag_ours_along(inst):
    from kit.core.clock import format_hlc, observe, tick
    observe(inst.db, format_hlc(10**12 + 400 * 24 * 3600 * 1000, 0), now_ms=10**12)
    assert tick(inst.db, now_ms=10**12 + 1) == format_hlc(10**12 + 1, 0)
    observe(inst.db, format_hlc(10**12 + 60_000, 3), now_ms=10**12)   # a minute ahead: followed
    assert tick(inst.db, now_ms=10**12 + 2) == format_hlc(10**12 + 60_000, 4)


def test_one_far_future_event_in_a_batch_does_not_hide_the_plausible_clocks(inst):
    import time
    from kit.core.clock import format_hlc, tick
    now = int(time.time() * 1000)
    rows = [("peer:1", "peer", 1, format_hlc(now + 60_000, 0), "signin", "L", "{}"),
            ("peer:2", "peer", 2, format_hlc(now + 400 * 86_400_000, 0), "signin", "L", "{}")]
    records.merge_rows(inst.db, rows)
    assert tick(inst.db, now_ms=now) > format_hlc(now + 60_000, 0)   # followed the minute-ahead one


def test_a_new_database_beside_an_old_key_makes_a_new_device(tmp_path):
    d = DataDir(tmp_path / "d")
    first, _ = init_instance(d)
    old_id = first.device_id
    first.close()
    d.db_path.unlink()          # the database lost (or deleted); the key left behind
    second, created = init_instance(d)
    assert created and second.device_id != old_id
    assert list(d.keys_dir.glob("device.key.retired-*"))


def test_make_durable_commits_with_a_full_sync_and_goes_back_to_normal(inst):
    from kit.core.db import get_meta, make_durable
    make_durable(inst.db)
    assert get_meta(inst.db, "durable_at") is not None
    assert inst.db.execute("PRAGMA synchronous").fetchone()[0] == 1   # NORMAL again


def test_an_edit_made_here_wins_over_a_value_stamped_by_a_device_with_a_wrong_date(inst):
    import time
    from kit.core.clock import format_hlc
    from kit.core.events import Event
    future = format_hlc(int(time.time() * 1000) + 400 * 86_400_000, 0)   # a year ahead
    records.set_fields(inst.db, "class", "C1", {"name": "CP1", "code": "1234", "login": "pin", "self_register": False})
    records.merge(inst.db, [Event("0123456789abcdef:1", "0123456789abcdef", 1, future, "record.set", None,
                                   {"kind": "class", "id": "C1", "fields": {"name": "CP1 (typo)"}})])
    records.set_fields(inst.db, "class", "C1", {"name": "CP1 A"})
    assert records.get(inst.db, "class", "C1")["name"] == "CP1 A"


def test_with_equal_clocks_the_higher_device_id_wins_in_either_order(inst):
    from kit.core.db import transaction
    from kit.core.clock import format_hlc
    from kit.core.events import Event
    hlc = format_hlc(1_700_000_000_000, 7)                  # the same clock on both devices
    low, high = "0123456789abcdef", "fedcba9876543210"

    def edit(device: str, rid: str, name: str) -> Event:
        return Event(f"{device}:1", device, 1, hlc, "record.set", None, {"kind": "learner", "id": rid, "fields": {"name": name}})

    for rid, order in [("L-low-first", (low, high)), ("L-high-first", (high, low))]:
        with transaction(inst.db):
            for device in order:
                records.apply(inst.db, edit(device, rid, f"name from {device}"))
        assert records.get(inst.db, "learner", rid)["name"] == f"name from {high}", rid
        clock = inst.db.execute("SELECT hlc, device_id FROM record_clocks WHERE kind = 'learner' AND id = ? "
                                "AND field = 'name'", [rid]).fetchone()
        assert tuple(clock) == (hlc, high), rid


def test_a_database_of_the_previous_version_is_updated_once_and_the_command_says_so_first(data, inst):
    """Migration 11 rebuilds the lesson index with the token: minutes on a hub, so the command
    says what it does before it starts; the events and their once-per-token rule survive it."""
    from click.testing import CliRunner
    from kit.cli import main
    append(inst.db, AnswerRecorded("p", "l", "fr", "q1", 1, True, 0, token="t1"), learner_id="L1")
    inst.db.execute("DROP INDEX events_by_lesson_token")             # back to version 10
    inst.db.execute("CREATE INDEX events_by_lesson ON events (learner_id, kind, json_extract(body, '$.lesson'))")
    inst.db.execute("DELETE FROM schema_version WHERE version = ?", [len(MIGRATIONS)])
    inst.close()

    first = CliRunner().invoke(main, ["keys", "show", "--data", str(data.root)])
    again = CliRunner().invoke(main, ["keys", "show", "--data", str(data.root)])
    assert first.exit_code == again.exit_code == 0, first.output
    assert "Updating" in first.stderr and "Updating" not in again.stderr

    db = open_db(data.db_path)
    assert schema_version(db) == len(MIGRATIONS)
    _event, created = append(db, AnswerRecorded("p", "l", "fr", "q1", 0, False, 1, token="t1"), learner_id="L1")
    assert not created and db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
