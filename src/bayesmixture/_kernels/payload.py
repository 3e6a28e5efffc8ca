"""The flat float64 payload a kernel reads: one record declares its slots and sections.

A payload is a header of named scalar slots, then named sections (arrays, row-major), in the
order a :class:`Layout` lists them. The packer fills it with :meth:`Layout.pack`, which writes
every section's start into the header and checks each section's size against the sizes the
layout declares; the kernel reads the same record's slot numbers (``layout.slot.n_obs``,
``layout.offset.x``: plain ints that Numba compiles in as constants). Nothing is laid out
twice, so packer and kernel cannot drift apart.

A kernel's layout starts with :data:`COMMON` slots: ``payload_size`` and ``n_dim`` (the C
callback checks the parameter vector against them before reading anything else) and
``constant``, the part of the log-density that does not depend on the parameters.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Mapping

import numba
import numpy as np

COMMON = ("payload_size", "n_dim", "constant")
# the slots every kernel payload has, at these positions
PAYLOAD_SIZE, N_DIM, CONSTANT = 0, 1, 2


class Layout:
    """The slots and sections of one payload (or of one block inside a payload).

    Parameters
    ----------
    name : str
        What the payload belongs to, for error messages.
    header : tuple of str
        Scalar slots, in order (after :data:`COMMON` when ``common``).
    sections : tuple of (str, tuple or None)
        Sections in order, each with its size as a tuple of factors: header slot names or
        ints (``("n_obs", "n_features")``: n_obs * n_features values), or None for a
        block with a layout of its own (no size check).
    common : bool, default True
        Start the header with :data:`COMMON` (a kernel's payload); False for a block inside
        one.

    Attributes
    ----------
    slot : namedtuple of int
        The position of every header slot, by name.
    offset : namedtuple of int
        For every section, the header slot that holds where it starts.
    size : int
        Length of the header.
    """

    def __init__(
        self,
        name: str,
        header: tuple[str, ...],
        sections: tuple[tuple[str, tuple[str | int, ...] | None], ...],
        *,
        common: bool = True,
    ):
        self.name = name
        self.header = (*COMMON, *header) if common else tuple(header)
        self.sections = tuple(sections)
        names = [section for section, _ in self.sections]
        slots = namedtuple(f"{name.title()}Slots", self.header)
        offsets = namedtuple(f"{name.title()}Offsets", names)
        self.slot = slots(*range(len(self.header)))
        self.offset = offsets(*range(len(self.header), len(self.header) + len(names)))
        self.size = len(self.header) + len(names)
        for _, factors in self.sections:
            unknown = [f for f in factors or () if isinstance(f, str) and f not in self.header]
            if unknown:
                raise ValueError(f"{name} layout: sizes name unknown slots {unknown}.")

    def pack(self, header: Mapping[str, float], sections: Mapping[str, np.ndarray]) -> np.ndarray:
        """The payload: ``header`` values by slot name, then every section, flattened.

        Slots not given are 0 (``payload_size`` and the offsets are filled in here).
        Raises ``ValueError`` naming an unknown slot, a missing section or a section whose
        size differs from the layout's.
        """
        unknown = sorted(set(header) - set(self.header)) + sorted(
            set(sections) - set(self.offset._fields)
        )
        missing = [name for name in self.offset._fields if name not in sections]
        if unknown or missing:
            raise ValueError(f"{self.name} payload: unknown {unknown}, missing sections {missing}.")
        head = np.zeros(self.size)
        for name, value in header.items():
            head[getattr(self.slot, name)] = value
        parts, start = [head], self.size
        for name, factors in self.sections:
            values = np.asarray(sections[name], dtype=np.float64).ravel()
            if factors is not None:
                expected = math.prod(
                    int(head[getattr(self.slot, f)]) if isinstance(f, str) else f for f in factors
                )
                if values.size != expected:
                    raise ValueError(
                        f"{self.name} payload: section {name!r} has {values.size} values; the "
                        f"layout sizes it {' x '.join(map(str, factors))} = {expected}."
                    )
            head[getattr(self.offset, name)] = start
            parts.append(values)
            start += values.size
        if "payload_size" in self.header:
            head[self.slot.payload_size] = start
        payload = np.ascontiguousarray(np.concatenate(parts))
        payload.flags.writeable = False
        return payload

    def read(self, payload: np.ndarray) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Inverse of :meth:`pack`: header values and sections by name (views of ``payload``)."""
        header = {name: float(payload[i]) for i, name in enumerate(self.header)}
        starts = [int(payload[i]) for i in self.offset] + [len(payload)]
        sections = {
            name: payload[starts[j] : starts[j + 1]] for j, (name, _) in enumerate(self.sections)
        }
        return header, sections


@numba.njit(inline="always")
def section(payload, offset_slot, size):
    """The ``size`` values of the section whose start is in ``payload[offset_slot]``."""
    start = int(payload[offset_slot])
    return payload[start : start + size]
