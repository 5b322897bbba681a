"""What a lookup means, written once: a source's rows take fields from another source by key.

A lookup is many-to-one: each row's key names one record of the other source by that
source's ``id``, and the row takes the named fields of that record. The other source's
records are its *accepted* rows (typed against its own contract, duplicates of an id
rejected), so a row whose key is null, names no record, or names a record that was itself
rejected is rejected too, with the reason (``lookup-unmatched``), and is never scored
with fields from nowhere. A date-time taken from a source in another time zone is the
same instant in this source's zone.

:func:`looked_up` decides, from the keys and ids alone, which row matches which; an engine
only gathers the fields (``Rows.joined``): :class:`DatasetRows` is the reference engine's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..i18n import _
from ..model import Field, Lookup, RecordContract, Scheme, Source
from ..records import Dataset, Problem
from ..records.results import clip_value, quote_value
from .protocol import Rows, Taken
from .subjects import as_date, id_text

__all__ = ["DatasetRows", "looked_up", "lookup_fields"]

CODE = "lookup-unmatched"


def _by_name(scheme: Scheme) -> dict[str, Source]:
    return {s.name: s for s in scheme.sources}


def lookup_fields(scheme: Scheme, source: Source) -> tuple[Field, ...]:
    """The fields ``source`` takes from other sources, typed as those sources type them."""
    sources = _by_name(scheme)
    out: list[Field] = []
    for lk in source.lookups:
        target = sources[lk.source]
        theirs = {f.name: f for f in (*target.contract.fields, *lookup_fields(scheme, target))}
        out.extend(dataclasses.replace(theirs[name], column=None) for name in lk.fields)
    return tuple(out)


def looked_up(scheme: Scheme, source: Source, contract: RecordContract, own: Rows,
              rows_of: Callable[[str], Rows], indexes: dict[str, Mapping[Any, int]] | None = None) -> Rows:
    """``own`` (the source's rows typed against its own contract) with every lookup's fields, typed against
    ``contract``; a row a lookup cannot match is left out, with its problem. ``indexes`` keeps each other
    source's rows by id, for the next source that looks it up."""
    indexes = {} if indexes is None else indexes
    for lk in source.lookups:
        target = _by_name(scheme)[lk.source]
        other = rows_of(lk.source)
        if lk.source not in indexes:
            # Keys and ids are of one type (validation refuses a key whose type differs from the id's), so
            # values match as Python compares them.
            indexes[lk.source] = {v: k for k, v in enumerate(other.values(target.contract.id)) if v is not None}
        index = indexes[lk.source]
        refused = {p.record_id for p in other.problems if p.record_id is not None}
        keep: list[int] = []
        positions: list[int] = []
        problems: list[Problem] = []
        ids = own.values(source.contract.id)
        for k, (key, origin) in enumerate(zip(own.values(lk.key), own.origins())):
            found = index.get(key) if key is not None else None
            if found is None:
                problems.append(_unmatched(target, lk, ids[k], origin, key, refused))
            else:
                keep.append(k)
                positions.append(found)
        own = own.joined(contract, keep, [Taken(other, positions, lk.fields)], problems)
    return own


def _unmatched(target: Source, lk: Lookup, record_id: Any, origin: tuple[str, int], key: Any,
               refused: set[str]) -> Problem:
    if key is None:
        why = _("{key} is empty, so no {source} record gives it {fields}", key=lk.key, source=target.name,
                fields=", ".join(lk.fields))
    elif id_text(key) in refused:
        why = _("{key} {value} names a row of {source} that was rejected (see its own reasons), so it cannot give "
                "{fields}", key=lk.key, value=quote_value(key), source=target.name, fields=", ".join(lk.fields))
    else:
        why = _("{key} {value} matches no {source} record ({contract}); check that the {source} input covers the "
                "same period", key=lk.key, value=quote_value(key), source=target.name, contract=target.contract.id)
    return Problem(origin[0], origin[1], id_text(record_id), lk.key,
                   clip_value(None if key is None else id_text(key)), CODE, why)


def in_zone(value: Any, zone: zoneinfo.ZoneInfo) -> Any:
    """A date-time taken from another source, as the same instant in this source's zone."""
    if hasattr(value, "astimezone") and getattr(value, "tzinfo", None) is not None and value.tzinfo is not zone:
        return value.astimezone(zone)
    return value


@dataclass(frozen=True, slots=True)
class DatasetRows:
    """The reference engine's rows: a Dataset of typed records."""

    dataset: Dataset

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.dataset.problems

    def values(self, name: str) -> Sequence[Any]:
        return [r.get(name) for r in self.dataset.records]

    def origins(self) -> Sequence[tuple[str, int]]:
        return self.dataset.origins

    def to_dataset(self) -> Dataset:
        return self.dataset

    def within(self, name: str, first: dt.date, last: dt.date) -> DatasetRows:
        kept = [(r, o) for r, o in zip(self.dataset.records, self.dataset.origins)
                if (day := as_date(r.get(name))) is not None and first <= day <= last]
        return DatasetRows(dataclasses.replace(self.dataset, records=tuple(r for r, _ in kept),
                                               origins=tuple(o for _, o in kept)))

    def joined(self, contract: RecordContract, keep: Sequence[int], taken: Sequence[Taken],
               problems: Sequence[Problem]) -> DatasetRows:
        zone = zoneinfo.ZoneInfo(contract.timezone)
        records = [dict(self.dataset.records[k]) for k in keep]
        for take in taken:
            theirs = take.rows.dataset.records if isinstance(take.rows, DatasetRows) else None
            columns = {name: (take.rows.values(name) if theirs is None else None) for name in take.fields}
            for record, at in zip(records, take.positions):
                for name in take.fields:
                    value = theirs[at].get(name) if theirs is not None else columns[name][at]  # type: ignore[index]
                    record[name] = in_zone(value, zone)
        origins = tuple(self.dataset.origins[k] for k in keep)
        merged = sorted([*self.dataset.problems, *problems], key=lambda p: (p.source, p.row, p.field or ""))
        return DatasetRows(dataclasses.replace(self.dataset, records=tuple(records), origins=origins,
                                               problems=tuple(merged)))
