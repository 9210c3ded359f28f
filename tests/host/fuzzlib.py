"""Shared scaffolding for the hypothesis fuzz tests: batching, byte mutations, counting and reporting cases.

Hypothesis costs milliseconds per example and a decoder microseconds per input, so each example carries a
batch of inputs; the outcome of every input is counted and printed per test, and a test that ran too few
inputs fails.
"""

import pytest
from hypothesis import strategies as st

counts = {}


def count(name, outcome):
    """Record one input of test ``name`` that ended with ``outcome`` (an error class name, "ok", ...)."""
    c = counts.setdefault(name, {})
    c[outcome] = c.get(outcome, 0) + 1


def reporter(minimum, unit="cases"):
    """An autouse fixture printing each test's counts; a passing test must have counted ``minimum`` inputs."""

    @pytest.fixture(autouse=True)
    def report(request, capsys):
        failed = request.session.testsfailed
        yield
        c = counts.pop(request.node.name, {})
        total = sum(c.values())
        with capsys.disabled():
            detail = ", ".join("%s %d" % kv for kv in sorted(c.items()))
            print("\nfuzz %s: %d %s (%s)" % (request.node.name, total, unit, detail))
        if request.session.testsfailed == failed:
            assert total >= minimum, "too few fuzz %s ran" % unit

    return report


BATCH = 16


def batch(strategy, size=BATCH):
    """Lists of 1 to ``size`` inputs: one hypothesis example, many decoder calls."""
    return st.lists(strategy, min_size=1, max_size=size)


# (operation, where, byte) triples for ``mutate``.
mutation = st.tuples(
    st.sampled_from(("flip", "set", "insert", "delete", "truncate")), st.integers(0, 1 << 16), st.integers(0, 255)
)


def mutate(encoded, mutations):
    """``encoded`` with bit flips, byte changes, insertions, deletions and truncations applied."""
    out = bytearray(encoded)
    for op, where, byte in mutations:
        i = where % len(out) if out else 0
        if op == "flip" and out:
            out[i] ^= 1 << (byte & 7)
        elif op == "set" and out:
            out[i] = byte
        elif op == "insert":
            out[i:i] = bytes((byte,))
        elif op == "delete" and out:
            del out[i]
        elif op == "truncate":
            del out[i:]
    return bytes(out)
