"""The benchmarks' pause between timed fits (run them as scripts:
``python benchmarks/bench_gaussian.py`` puts this folder on ``sys.path``)."""

import threading
import time

from numba import njit

#: Pause after every timed fit.
SETTLE_SECONDS = 0.2


@njit(nogil=True, cache=True)
def _spin(n):
    x = 0.0
    for _ in range(n):
        x = x * 0.999999 + 1.0
    return x


def settle(seconds=SETTLE_SECONDS):
    """Pause for ``seconds`` with both cores busy (a numba loop without the
    GIL on two threads), not idle.

    The pause lets scikit-learn's OpenBLAS threads stop spinning (they spin
    for ~2^28 TSC cycles, wall-clock time, after each call). On this VM an
    idle second core then ran the next two-thread fits slower for tens of
    milliseconds: fits of 14 iterations of 100,000 x 10 x 5 diag took
    28-57 ms (9 of 12 over 38 ms) after a 0.2 s sleep, 30-37 ms (6 fits)
    after 0.2 s of both cores spinning, 27-40 ms (10 of 12 under 32 ms)
    back to back. That is the host's doing, not the code's; every contender
    gets the same pause.
    """
    stop = time.perf_counter() + seconds

    def busy():
        while time.perf_counter() < stop:
            _spin(100_000)

    helper = threading.Thread(target=busy)
    helper.start()
    busy()
    helper.join()
