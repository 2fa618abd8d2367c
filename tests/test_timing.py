"""Timing helpers: median of repeats after warm-up, and the comparison table."""

import time

import pytest
import torch

from workshop_utils.timing import compare_timings, time_call


def test_time_call_warms_up_then_repeats():
    calls = []
    seconds = time_call(lambda: calls.append(1), repeat=4, warmup=2)
    assert len(calls) == 6
    assert 0 <= seconds < 0.01


def test_time_call_is_the_median_so_one_slow_run_does_not_count():
    delays = iter([0.0, 0.2, 0.0, 0.0])  # one slow call among four (the mean would be 0.05)
    seconds = time_call(lambda: time.sleep(next(delays)), repeat=4, warmup=0)
    assert seconds < 0.02


def test_time_call_measures_real_time():
    assert 0.015 <= time_call(lambda: time.sleep(0.02), repeat=1, warmup=0) < 0.2


def test_time_call_on_the_cpu_device_and_bad_arguments():
    assert time_call(lambda: torch.ones(3).sum(), repeat=2, device="cpu") >= 0
    with pytest.raises(ValueError):
        time_call(lambda: None, repeat=0)
    with pytest.raises(ValueError):
        time_call(lambda: None, warmup=-1)


def test_compare_timings_table():
    made = []

    def make_input(size):
        made.append(size)
        return list(range(size))

    table = compare_timings({"slow": lambda data: time.sleep(0.004), "fast": lambda data: sum(data)},
                            make_input, [10, 100], repeat=2, warmup=0)
    assert made == [10, 100]  # one input per size, shared by the methods
    assert list(table.columns) == ["method", "size", "seconds", "speed-up"]
    assert list(table["method"]) == ["slow", "fast", "slow", "fast"]
    assert list(table["size"]) == [10, 10, 100, 100]
    assert (table.loc[table["method"] == "slow", "speed-up"] == 1.0).all()
    assert (table.loc[table["method"] == "fast", "speed-up"] > 5).all()


def test_compare_timings_with_another_baseline_and_errors():
    table = compare_timings({"a": lambda d: None, "b": lambda d: time.sleep(0.003)}, lambda n: n, [1],
                            baseline="b", repeat=1, warmup=0)
    assert table.set_index("method").loc["b", "speed-up"] == 1.0
    assert table.set_index("method").loc["a", "speed-up"] > 1.0
    with pytest.raises(ValueError, match="baseline"):
        compare_timings({"a": lambda d: None}, lambda n: n, [1], baseline="z")
    with pytest.raises(ValueError):
        compare_timings({}, lambda n: n, [1])
    with pytest.raises(ValueError):
        compare_timings({"a": lambda d: None}, lambda n: n, [])
