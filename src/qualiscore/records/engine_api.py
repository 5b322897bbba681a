"""What an engine may use of the records internals, declared in one place.

The columnar engine types most cells itself and hands the rest to these, so both
engines read a file, type a value and word a problem identically. Each name is a
contract: change what it does and both engines change together. Anything not listed
here (or in ``qualiscore.records.__all__``) is private to the package.

Typing values

* ``Typer`` — a contract prepared once: ``readers`` (a FieldReader per field, in contract
  order), ``names``, ``order`` (name -> position), ``id_pos``/``id_reader`` (None without
  an id); refuses an unknown time zone with DataError ``bad-timezone``.
* ``FieldReader`` — one field's parsers: ``text(str)`` for text cells, ``value(any)`` for
  typed values; each returns the typed value or raises RejectedValue (null, enum and
  range rules included); ``field``, ``name``, ``source`` (its column), ``nullable``.
* ``PARSER_BUILDERS`` — field type -> ``builder(field, zone) -> (text parser, value parser)``,
  without the null, enum and range rules; the text parser is given non-blank cells only.
* ``boolean_tables`` — ``(exact, folded)``: the contract's words for true/false, and the
  default words (keyed case-folded) for a side the contract leaves out.
* ``typed_cell_parser`` — a field's parser for typed cells (Excel, Parquet): its
  ``value`` parser, plus Excel's time-of-day cells as durations.
* ``RejectedValue`` — what a parser raises for a value that breaks the contract:
  ``code`` (one of PROBLEM_CODES), ``reason``, ``has_value`` (False: the Problem shows no value).
* ``UNFORESEEN_ERRORS`` — what else a parser may raise; catch
  ``(RejectedValue, *UNFORESEEN_ERRORS)`` so a bad value rejects its row, never crashes.
* ``problem_from_error`` — ``(exc, reader, source, row, record_id, raw) -> Problem``,
  worded as the reference engine words it, for either kind of failure.
* ``MISSING`` — "no value at all" (an absent key), distinct from None (a null value).

Wording a problem

* ``clip_value`` — a raw value as a Problem stores it: ``str()``, at most MAX_VALUE_CHARS.
* ``quote_value`` — a raw value as a reason sentence quotes it (shortened, ``repr``).
* ``closest_hint`` — ``(wanted, names) -> "closest is 'x'"`` (or the names there are), for
  a missing column or key.
* ``missing_column_reason`` — ``(column, header) ->`` the reason of each row of an input
  whose header lacks a required field's column (in the language in force, as every reason).
* ``ragged_row_reason`` — ``(cells, columns) ->`` the reason of a CSV row of the wrong width.
* ``duplicate_id_reason`` — ``(id, source, others, with_value=None) ->`` the reason of one
  occurrence of an id that ``others`` ((source, row) pairs) hold too.

Planning and collecting rows

* ``column_index`` — a field's column in a header (exact, else trimmed): an index, None
  when absent, or a message str when the header names it twice.
* ``always_none`` — the parser of a nullable field whose column is absent.
* ``always_missing_column`` — ``(message) ->`` the parser of a required field whose column
  is absent: raises RejectedValue ``missing-column`` with that message.
* ``hashable_or_none`` — an id value as the duplicate-id check keys it (None: not checked).
* ``Collector`` — ``Collector(typer)`` gathers ``records``, ``origins``, ``problems``,
  ``sources`` (input order), ``missing_columns`` and the id occurrences (``first_seen``,
  ``repeated``) over all inputs; ``finish(inputs)`` rejects every occurrence of a
  repeated id and returns the sorted Dataset.

Reading files

* ``check_file`` — ``(path, source)``: refuses a missing path or a directory
  (DataError ``file-not-found``).
* ``input_format`` — ``(path, source) -> "csv" | "tsv" | "jsonl" | "json" | "xlsx" | "parquet"``
  from the suffix, else DataError ``format``.
* ``KNOWN_FORMATS`` — the readable formats, as hints name them.
* ``scan_text`` — ``(path, source, encoding) -> (sha256, codec)`` of a text file; the whole
  file is decoded once, so reading it later with that codec cannot fail half-way.
* ``hash_file`` — ``(path) -> (sha256, first 4 bytes)`` of a binary file.
* ``read_csv`` — ``(path, source, codec, tab, collector) -> rows read``: every CSV/TSV row
  typed into the collector (blank rows neither read nor typed).
* ``read_jsonl`` — ``(path, source, codec, is_json, collector) -> rows read``, JSON Lines
  (``is_json``: the file is named .json, and refused if it holds a JSON document).
* ``read_parquet`` — ``(path, source, collector) -> rows read``, Parquet.
* ``read_frame`` — ``(frame, source, collector) -> rows read``, a table in memory (a Polars
  DataFrame, see records.arrow) typed as a Parquet file's columns are.
* ``read_records`` and ``split_sheet`` — the public API, here too so that an engine
  imports one module.
"""

from __future__ import annotations

from .api import read_records
from .collect import (
    MISSING,
    Collector,
    always_missing_column,
    always_none,
    closest_hint,
    column_index,
    duplicate_id_reason,
    hashable_or_none,
    missing_column_reason,
    ragged_row_reason,
)
from .fields import UNFORESEEN_ERRORS, FieldReader, Typer, problem_from_error
from .inputs import KNOWN_FORMATS, check_file, hash_file, input_format, scan_text, split_sheet
from .results import clip_value, quote_value
from .tables import read_frame, read_parquet, typed_cell_parser
from .text import read_csv, read_jsonl
from .values import PARSER_BUILDERS, RejectedValue, boolean_tables

__all__ = [
    "KNOWN_FORMATS",
    "MISSING",
    "PARSER_BUILDERS",
    "UNFORESEEN_ERRORS",
    "Collector",
    "FieldReader",
    "RejectedValue",
    "Typer",
    "always_missing_column",
    "always_none",
    "boolean_tables",
    "check_file",
    "clip_value",
    "closest_hint",
    "column_index",
    "duplicate_id_reason",
    "hash_file",
    "hashable_or_none",
    "input_format",
    "missing_column_reason",
    "problem_from_error",
    "quote_value",
    "ragged_row_reason",
    "read_csv",
    "read_frame",
    "read_jsonl",
    "read_parquet",
    "read_records",
    "scan_text",
    "split_sheet",
    "typed_cell_parser",
]
