"""conv1x1.fast.timing: measure relates time to MACs and names its arguments; machine_peaks measures this machine's
peaks once per process and says how; MachinePeaks refuses a dtype it did not measure."""

import numpy as np
import pytest

import conv1x1 as C
from conv1x1.cost import conv_cost
from conv1x1.fast import timing
from conv1x1.fast.timing import machine_peaks, measure


def test_measure_relates_time_to_macs():
    calls = []
    m = measure(lambda: calls.append(1), macs=1_000_000, repeat=3, warmup=2)
    assert len(calls) == 5 and m.seconds > 0 and m.macs == 1_000_000
    assert m.gmacs_per_second == pytest.approx(1e-3 / m.seconds)
    assert m.gflops_per_second == pytest.approx(2 * m.gmacs_per_second)
    assert "GMAC/s" in str(m)
    assert measure(lambda: None, conv_cost(4, 2, 3, 3, 1), repeat=1).macs == 4 * 2 * 9


@pytest.mark.parametrize("call, error, match", [
    (lambda: timing.measure(3, 1), TypeError, "fn must be a callable"),
    (lambda: timing.measure(lambda: None, "abc"), TypeError, "macs"),
    (lambda: timing.measure(lambda: None, 1, warmup=1.5), TypeError, "warmup"),
    (lambda: timing.measure(lambda: None, -5), ValueError, "macs"),
    (lambda: timing.measure(lambda: None, 5, warmup=-1), ValueError, "warmup"),
    (lambda: timing.measure(lambda: None, 5, repeat=0), ValueError, "repeat"),
])
def test_measure_names_its_arguments(call, error, match):
    """Errors that name the argument."""
    with pytest.raises(error, match=match):
        call()


def test_machine_peaks_are_measured_once_and_say_how():
    first = machine_peaks()
    assert machine_peaks() is first        # measured once, then cached for the process
    assert set(first.gmacs) == {"float32", "float64"} and all(rate > 0 for rate in first.gmacs.values())
    assert first.gb_per_second > 0 and "np.matmul" in first.how and "np.copyto" in first.how
    assert "GMAC/s" in str(first) and "GB/s" in str(first)
    assert first.macs_per_second(np.float32) == first.gmacs["float32"] * 1e9
    with pytest.raises(ValueError, match="float16"):
        first.macs_per_second(np.float16)
    assert C.fast.timing.machine_peaks is machine_peaks


def test_machine_peaks_refuse_an_unmeasured_dtype():
    from conv1x1.fast.timing import MachinePeaks
    peaks = MachinePeaks({"float32": 2.0}, 4.0, "made up")
    assert peaks.macs_per_second(np.float32) == 2e9
    with pytest.raises(ValueError, match="float64"):
        peaks.macs_per_second(np.float64)


def test_median_times_interleaves_the_candidates_and_pauses_before_each_timed_loop(monkeypatch):
    """Each repeat runs every candidate in turn; with ``pause`` a sleep and one untimed call come before
    every timed loop (another library's spinning worker threads are asleep, this one's caches warm)."""
    events = []
    monkeypatch.setattr(timing.time, "sleep", lambda seconds: events.append(("sleep", seconds)))
    candidates = {"a": lambda: events.append("a"), "b": lambda: events.append("b")}
    times = timing.median_times(candidates, repeats=2, min_seconds=0.0, pause=0.25)
    assert set(times) == {"a", "b"} and all(t >= 0 for t in times.values())
    warm_up, timed = events[:4], events[4:]
    assert warm_up == ["a", "a", "b", "b"]            # two calls each: a warm-up, then one to size the loop
    assert timed == [("sleep", 0.25), "a", "a", ("sleep", 0.25), "b", "b"] * 2   # untimed call, timed loop


def test_median_times_pauses_only_before_the_candidates_named(monkeypatch):
    events = []
    monkeypatch.setattr(timing.time, "sleep", lambda seconds: events.append(("sleep", seconds)))
    candidates = {"ours": lambda: events.append("ours"), "torch": lambda: events.append("torch")}
    timing.median_times(candidates, repeats=1, min_seconds=0.0, pause={"torch": 0.5})
    assert events[4:] == ["ours", ("sleep", 0.5), "torch", "torch"]


def test_median_times_without_a_pause_never_sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(timing.time, "sleep", slept.append)
    timing.median_times({"a": lambda: None}, repeats=3, min_seconds=0.0)
    assert slept == []


def test_median_times_refuses_a_negative_pause():
    with pytest.raises(ValueError, match=r"pause must be .* >= 0 .*, got -1"):
        timing.median_times({"a": lambda: None}, repeats=1, pause=-1)
    with pytest.raises(ValueError, match="pause must be"):
        timing.median_times({"a": lambda: None}, repeats=1, pause={"a": -0.1})


def test_torch_pauses_give_each_pytorch_candidate_a_positive_pause_and_the_others_none():
    pauses = timing.torch_pauses({"fast f": None, "torch f": None, "plain fb": None, "torch fb": None})
    assert pauses == {"torch f": timing.LIBRARY_PAUSE, "torch fb": timing.LIBRARY_PAUSE}
    assert all(seconds > 0 for seconds in pauses.values())
