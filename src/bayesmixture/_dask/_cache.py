"""Compiled evaluators kept per process, keyed by the payload's token.

A process compiles a payload's evaluator once per thread that scores its blocks at the same
time, then reuses it for every later block; the evaluators of the ``CACHED_TOKENS`` most
recently used payloads are kept.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from bayesmixture._dask._payload import Payload
from bayesmixture._spec import lookup
from bayesmixture.evaluation import MixtureEvaluator

# Tokens whose compiled evaluators a process keeps (least recently used ones are dropped).
CACHED_TOKENS = 4

_pools: OrderedDict[str, list[MixtureEvaluator]] = OrderedDict()
_compiles: Counter[str] = Counter()
_uses: Counter[str] = Counter()
_lock = threading.Lock()
_compile_lock = threading.Lock()


@contextmanager
def borrowed_evaluator(payload: Payload) -> Iterator[MixtureEvaluator]:
    """A compiled evaluator for ``payload``, used by one thread at a time.

    Compiled functions are not thread-safe, so each thread borrows one from the token's pool
    and gives it back; a process compiles as many as it runs blocks at once (one per worker
    thread), once, however many blocks it scores.
    """
    token = payload.token
    with _lock:
        pool = _pools.pop(token, [])
        _pools[token] = pool  # most recently used last
        while len(_pools) > CACHED_TOKENS:
            _pools.popitem(last=False)
        evaluator = pool.pop() if pool else None
        _uses[token] += 1
    if evaluator is None:
        with _compile_lock:
            evaluator = MixtureEvaluator(payload.model, lookup(payload.model, payload.name))
        with _lock:
            _compiles[token] += 1
    try:
        yield evaluator
    finally:
        with _lock:
            if token in _pools:
                _pools[token].append(evaluator)


def keep_evaluator(token: str, evaluator: MixtureEvaluator) -> None:
    """Put an evaluator compiled in this process in ``token``'s pool (a local scheduler's)."""
    with _lock:
        _pools.setdefault(token, []).append(evaluator)
        _compiles[token] += 1


def count_block(token: str) -> None:
    """Count a block scored without a compiled evaluator (an estimator's numpy scorer)."""
    with _lock:
        _uses[token] += 1


def _cache_info() -> dict:
    """This process's cache: compiles and block calls per token (run it with client.run)."""
    import os

    with _lock:
        return {
            "pid": os.getpid(),
            "compiles": dict(_compiles),
            "blocks": dict(_uses),
            "cached_tokens": list(_pools),
        }
