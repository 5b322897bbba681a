"""What a lookup means, written once: a source's rows take fields from another source by key.

A lookup is many-to-one: each row's key names one record of the other source by that
source's ``id``, and the row takes the named fields of that record. The other source's
records are its *accepted* rows (typed against its own contract, duplicates of an id
rejected), so a row whose key is null, names no record, or names a record that was itself
rejected is rejected too, with the reason (``lookup-unmatched``), and is never scored
with fields from nowhere. A date-time taken from a source in another time zone is the
same instant in this source's zone.
"""

from __future__ import annotations

import dataclasses
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any

from ..model import Field, Lookup, Scheme, Source
from ..records import Dataset, Problem
from ..records.results import clip_value, quote_value
from .subjects import id_text

__all__ = ["looked_up", "lookup_fields"]

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


def looked_up(scheme: Scheme, source: Source, own: Dataset, dataset_of: Callable[[str], Dataset]) -> Dataset:
    """``own`` (the source's rows typed against its own contract) with every lookup's fields, or rejected."""
    records = [dict(r) for r in own.records]
    origins = list(own.origins)
    problems = list(own.problems)
    zone = zoneinfo.ZoneInfo(source.contract.timezone)
    for lk in source.lookups:
        target = _by_name(scheme)[lk.source]
        index, refused = _index(target, dataset_of(lk.source), lk)
        kept_records, kept_origins = [], []
        for rec, origin in zip(records, origins):
            key = rec.get(lk.key)
            found = index.get(_key(key)) if key is not None else None
            if found is None:
                problems.append(_unmatched(source, target, lk, rec, origin, key, refused))
                continue
            rec.update({name: _in_zone(found.get(name), zone) for name in lk.fields})
            kept_records.append(rec)
            kept_origins.append(origin)
        records, origins = kept_records, kept_origins
    problems.sort(key=lambda p: (p.source, p.row, p.field or ""))
    return dataclasses.replace(own, records=tuple(records), origins=tuple(origins), problems=tuple(problems))


def _key(value: Any) -> tuple[str, Any]:
    """Keys match by type and value: the integer 1 never matches the text "1" (validation refuses the mix)."""
    return type(value).__name__, value


def _index(target: Source, data: Dataset, lk: Lookup) -> tuple[dict[tuple[str, Any], Mapping[str, Any]], set[str]]:
    """The other source's accepted records by id, and the ids of its rejected rows (for the reason)."""
    index: dict[tuple[str, Any], Mapping[str, Any]] = {_key(r.get(target.contract.id)): r for r in data.records if r.get(target.contract.id) is not None}
    refused = {p.record_id for p in data.problems if p.record_id is not None}
    return index, refused


def _in_zone(value: Any, zone: zoneinfo.ZoneInfo) -> Any:
    if hasattr(value, "astimezone") and getattr(value, "tzinfo", None) is not None and value.tzinfo is not zone:
        return value.astimezone(zone)
    return value


def _unmatched(source: Source, target: Source, lk: Lookup, rec: Mapping[str, Any], origin: tuple[str, int],
               key: Any, refused: set[str]) -> Problem:
    if key is None:
        why = f"{lk.key} is empty, so no {target.name} record gives it {', '.join(lk.fields)}"
    elif id_text(key) in refused:
        why = (f"{lk.key} {quote_value(key)} names a row of {target.name} that was rejected (see its own reasons), "
               f"so it cannot give {', '.join(lk.fields)}")
    else:
        why = (f"{lk.key} {quote_value(key)} matches no {target.name} record ({target.contract.id}); "
               f"check that the {target.name} input covers the same period")
    return Problem(origin[0], origin[1], id_text(rec.get(source.contract.id)), lk.key,
                   clip_value(None if key is None else id_text(key)), CODE, why)
