"""The concurrent-overwrite detector alone (CONTRACT.md section 4)."""

from __future__ import annotations

import threading
import time

from wsgifix.races import RaceDetector


def test_sequential_requests_are_not_a_race() -> None:
    races = RaceDetector()
    first = races.writes
    assert races.check("session", "v0", "v1", first) is False
    second = races.writes
    # The next request carried the new value v1: no stale read.
    assert races.check("session", "v1", "v2", second) is False


def test_parallel_requests_from_the_same_value_race() -> None:
    races = RaceDetector()
    started = races.writes
    assert races.check("session", "v0", "a", started) is False
    assert races.check("session", "v0", "b", started) is True


def test_same_new_value_is_not_a_loss() -> None:
    races = RaceDetector()
    started = races.writes
    races.check("session", "v0", "same", started)
    assert races.check("session", "v0", "same", started) is False


def test_an_earlier_write_of_the_incoming_value_is_not_lost() -> None:
    # The earlier response set the value both requests carried again (a
    # session refreshed unchanged): the later one was computed from what
    # it wrote, so nothing is lost. The other way round, its write loses
    # the earlier change.
    races = RaceDetector()
    started = races.writes
    assert races.check("session", "v0", " v0 ", started) is False
    assert races.check("session", "v0", "v1", started) is False
    again = RaceDetector()
    started = again.writes
    assert again.check("session", "v0", "v1", started) is False
    assert again.check("session", "v0", "v0", started) is True


def test_a_write_before_the_request_started_is_not_concurrent() -> None:
    races = RaceDetector()
    races.check("session", "v0", "a", races.writes)
    later = races.writes  # a request that started after that write
    assert races.check("session", "v0", "b", later) is False


def test_names_are_separate() -> None:
    races = RaceDetector()
    started = races.writes
    races.check("a", "v0", "x", started)
    assert races.check("b", "v0", "y", started) is False


def test_values_are_not_kept() -> None:
    races = RaceDetector()
    races.check("session", "secret-incoming", "secret-new", races.writes)
    text = repr(races._table)
    assert "secret" not in text


def test_table_is_bounded_in_entries_and_age() -> None:
    races = RaceDetector(max_entries=100, max_age=0.05)
    started = races.writes
    for i in range(1000):
        races.check("c", f"in{i}", "out", started)
    assert 100 - 100 // 8 <= len(races) <= 100  # a full table loses an eighth
    time.sleep(0.06)
    races.check("c", "fresh", "out", races.writes)
    assert len(races) == 1


def test_threads_with_a_barrier_find_the_lost_updates() -> None:
    # Eight requests that carried the same value finish at once: every write
    # after the first overwrites a concurrent one with a different value.
    races = RaceDetector()
    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()

    def request(i: int) -> None:
        started = races.writes
        barrier.wait()
        found = races.check("session", "shared", f"new-{i}", started)
        with lock:
            results.append(found)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] + [True] * 7


def test_a_full_table_keeps_the_newest_writes() -> None:
    races = RaceDetector(max_entries=64)
    started = races.writes
    for i in range(1000):
        races.check("c", f"in{i}", "out", started)
        assert len(races) <= 64
    # The newest write is still there: a concurrent overwrite of it is found.
    assert races.check("c", "in999", "other", started) is True
    # The oldest is long gone: nothing to compare with.
    assert races.check("c", "in0", "other", started) is False


def test_withdrawn_writes_leave_the_table_as_it_was() -> None:
    # Headers replaced through exc_info were never sent (wsgifix.cookies).
    races = RaceDetector()
    started = races.writes
    races.check("session", "v0", "a", started)  # another response's write
    before = dict(races._table)
    undo: list = []
    now = time.monotonic()
    races.check_many({"session": ("v0", "b"), "cart": ("c0", "c1")}, started, now, undo)
    races.withdraw(undo)
    assert races._table == before
    assert undo == []
    # The earlier write still counts for a request that started before it.
    assert races.check("session", "v0", "c", started) is True
