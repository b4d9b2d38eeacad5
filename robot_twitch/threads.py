"""One BLAS thread for the small matrices of a run.

Every matrix product in a run is small (at most a few thousand rows by tens of columns: learner
statistics, the SOM, the forward model's minibatches). OpenBLAS's threads cost more than they
save there, and far more on a busy machine: on 2 loaded cores a (256, 32) x (32, 128) product
took 20 ms with OpenBLAS's 2 threads and 80 us on one. A sweep runs one worker per core anyway.
The limit is scoped (the previous setting is restored on exit) and leaves torch's own threads
alone. Thread count does not change OpenBLAS's results here; one thread also makes that moot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_CONTROLLER: Any = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run a block (or, as a decorator, a function) with numpy's BLAS on one thread."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        yield
