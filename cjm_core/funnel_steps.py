"""Funnel options read and checked before any query runs: steps, optional steps, exclusions.

:func:`read_steps` turns what the user wrote (ids, tuples of alternative ids, 1-based
optional step numbers, exclusion ids) into :class:`FunnelStep` objects whose ``values`` are
the values to look for in one column of the events (``touchpoint`` or ``event_type``).
Stages are translated to their touchpoints through the catalog, so the query never maps
touchpoints to stages row by row.

Example::

    >>> steps = read_steps(["website", ("app", "web_chat")], "touchpoint", optional=[2])
    >>> [(s.number, s.name, s.optional) for s in steps]
    [(1, 'website', False), (2, 'app or web_chat', True)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import CjmError
from .model import JourneyCatalog

MODES = ("ordered", "strict", "any")
LEVELS = ("touchpoint", "stage", "event_type")


@dataclass(frozen=True)
class FunnelStep:
    """One funnel step: its 1-based ``number``, a display ``name``, the ``ids`` at the
    funnel's level, the ``values`` matched in the events' column and ``optional``."""

    number: int
    name: str
    ids: tuple[str, ...]
    values: tuple[str, ...]
    optional: bool = False


def match_column(level: str) -> str:
    """The events' column a level's ids are matched in (stages match their touchpoints)."""
    return "event_type" if level == "event_type" else "touchpoint"


def check_choice(mode: str, level: str) -> None:
    """Reject an unknown ``mode`` or ``level`` with the accepted values."""
    if mode not in MODES:
        raise CjmError(f"Unknown funnel mode {mode!r}; use one of {', '.join(MODES)}.")
    if level not in LEVELS:
        raise CjmError(f"Unknown funnel level {level!r}; use one of {', '.join(LEVELS)}.")


def read_steps(
    steps: Any,
    level: str,
    *,
    optional: Iterable[int | str] = (),
    catalog: JourneyCatalog | None = None,
) -> list[FunnelStep]:
    """Funnel steps from ids or tuples of alternative ids, with the optional ones marked.

    ``optional`` holds 1-based step numbers or step names (a name must name one step).
    Ids are checked against the catalog when one is given (touchpoint and stage levels);
    a stage level needs the catalog.
    """
    if isinstance(steps, str) or not isinstance(steps, Sequence):
        raise CjmError(
            f"steps must be a list of ids, got {steps!r}; write e.g. "
            "steps=['website', 'checkout'] (a tuple inside the list means 'any of these')."
        )
    if len(steps) == 0:
        raise CjmError("steps is empty; give at least one step, e.g. ['website', 'checkout'].")
    groups = [_ids_of(item, f"step {i}") for i, item in enumerate(steps, start=1)]
    if level == "stage" and catalog is None:
        raise CjmError(
            "level='stage' needs the catalog to map touchpoints to stages; pass "
            "catalog=<JourneyCatalog> (or a DataBundle as events)."
        )
    _check_known([i for g in groups for i in g], level, catalog, "steps")
    names = [" or ".join(g) for g in groups]
    flags = _optional_numbers(optional, names)
    return [
        FunnelStep(n, name, g, translate(g, level, catalog), n in flags)
        for n, (name, g) in enumerate(zip(names, groups, strict=True), start=1)
    ]


def read_exclude(
    exclude: Any, level: str, steps: list[FunnelStep], catalog: JourneyCatalog | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Exclusion ids and the values they match; an id may not also be a step."""
    if exclude is None or (not isinstance(exclude, str) and len(exclude) == 0):
        return (), ()
    ids = (exclude,) if isinstance(exclude, str) else _ids_of(exclude, "exclude")
    _check_known(list(ids), level, catalog, "exclude")
    values = translate(ids, level, catalog)
    clashes = [
        f"{i!r} (step {s.number})" for i in ids for s in steps if i in s.ids or i in s.values
    ]
    if clashes:
        raise CjmError(
            f"exclude overlaps the steps: {', '.join(clashes)}; an event cannot both advance "
            "and exclude a customer. Remove it from exclude or from steps."
        )
    return ids, values


def check_any_order(steps: list[FunnelStep]) -> None:
    """In any-order mode one event would satisfy two steps sharing a value: refuse that."""
    for a in steps:
        for b in steps[a.number :]:
            shared = sorted(set(a.values) & set(b.values))
            if shared:
                raise CjmError(
                    f"In mode='any' steps {a.number} and {b.number} share {shared}; one event "
                    "would count for both. Use mode='ordered' to count repeated steps."
                )


def translate(ids: Sequence[str], level: str, catalog: JourneyCatalog | None) -> tuple[str, ...]:
    """Values to match in the events: the ids themselves, or the touchpoints of stages."""
    if level != "stage":
        return tuple(ids)
    assert catalog is not None
    wanted = set(ids)
    return tuple(tp for tp, stage in catalog.stage_of().items() if stage in wanted)


def known_ids(level: str, catalog: JourneyCatalog | None) -> list[str] | None:
    """The catalog's vocabulary for ``level`` (None when it cannot say: no catalog, or
    event types, which no catalog declares)."""
    if catalog is None or level == "event_type":
        return None
    return catalog.touchpoint_ids if level == "touchpoint" else catalog.stage_ids


def _check_known(ids: list[str], level: str, catalog: JourneyCatalog | None, what: str) -> None:
    known = known_ids(level, catalog)
    if known is None:
        return
    unknown = sorted({i for i in ids if i not in known})
    if unknown:
        label = f"catalog {catalog.name!r}" if catalog and catalog.name else "the catalog"
        raise CjmError(
            f"Unknown {level} id(s) {unknown} in {what}; {label} has: {', '.join(known)}."
        )


def _ids_of(item: Any, where: str) -> tuple[str, ...]:
    if isinstance(item, str):
        ids: tuple[Any, ...] = (item,)
    elif isinstance(item, list | tuple | set | frozenset):
        ids = tuple(sorted(item)) if isinstance(item, set | frozenset) else tuple(item)
    else:
        raise CjmError(f"{where} is {item!r}; give an id or a list/tuple of alternative ids.")
    if not ids:
        raise CjmError(f"{where} is an empty list of alternatives; give at least one id.")
    bad = [i for i in ids if not isinstance(i, str) or not i]
    if bad:
        raise CjmError(f"{where} holds {bad!r}; ids are non-empty strings.")
    return tuple(dict.fromkeys(ids))


def _optional_numbers(optional: Iterable[int | str], names: list[str]) -> set[int]:
    if isinstance(optional, str | int):
        optional = [optional]
    numbers = set()
    for item in optional:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise CjmError(f"optional holds {item!r}; give 1-based step numbers or step names.")
        if isinstance(item, str):
            hits = [n for n, name in enumerate(names, start=1) if name == item]
            if len(hits) != 1:
                problem = "names no step" if not hits else f"names steps {hits}"
                raise CjmError(
                    f"optional step {item!r} {problem}; steps are "
                    f"{', '.join(f'{n}={name!r}' for n, name in enumerate(names, 1))}. "
                    "Give the step number instead."
                )
            item = hits[0]
        if not 1 <= item <= len(names):
            raise CjmError(f"optional step {item} does not exist; steps are 1..{len(names)}.")
        numbers.add(item)
    if 1 in numbers:
        raise CjmError("The first step cannot be optional: customers enter the funnel at step 1.")
    return numbers
