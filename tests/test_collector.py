"""collector.paused: the cyclic garbage collector off for a stage, and as it was afterwards."""

import gc

import pytest

from generator import collector


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_turns_the_collector_off_and_back_on(collector_on):
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_stage_inside_a_paused_one_leaves_it_paused(collector_on):
    with collector.paused():
        with collector.paused():  # validate inside publish.prepare
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_comes_back_when_the_stage_fails(collector_on):
    with pytest.raises(ValueError):
        with collector.paused():
            raise ValueError("bad data")
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off(collector_on):
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()
