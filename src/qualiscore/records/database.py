"""Records read from a database: a ``.sql`` file's query run on PostgreSQL or MySQL, its rows a table in memory.

A query file holds one SELECT (UTF-8, comments allowed). It is run in a read-only
transaction on the server the DSN names, and its rows become a Polars frame, typed
from the result's column types (never guessed from the values), which is then read
exactly as a table in memory is (records.arrow, records.tables): the columns matched by
the header rules, the cells by the typed-cell rules, row numbers the 1-based positions
in the result. Both engines read it that way, so they give the same bytes.

Column types, PostgreSQL and MySQL alike: text kinds → string; integer kinds →
integer; numeric/decimal → a float, the double nearest the exact decimal (as the same
digits in a CSV file are read); real/double → their value; boolean → boolean (MySQL's
BOOLEAN is TINYINT(1): 0 and 1, which a boolean field reads as false and true); date →
date; timestamp without time zone (MySQL DATETIME) → a naive date-time, read in the
contract's time zone; timestamptz (MySQL TIMESTAMP, read with the session in UTC) → an
instant; interval (MySQL TIME) → a duration in seconds (psycopg counts a month of an
interval as 30 days); time → a time of day. Any other type (json, arrays, bytes, …) is
refused, naming the column: cast it in the query.

The DSN comes from ``--dsn-file FILE`` (:func:`use_dsn_file`), else the environment
variable ``QUALISCORE_DSN``, else, for PostgreSQL, libpq's own environment (PGHOST,
PGUSER, PGPASSWORD, …). It is handed to the connector and to nothing else: messages
have the password removed, the manifest records the server as
``postgresql://host:port/dbname``. The connectors (``qualiscore[db]``: psycopg 3 and
PyMySQL) are imported only when a query runs.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote, urlsplit

from ..errors import DatabaseError, DataError, Location, UsageError
from ..i18n import N_, _
from .arrow import Table, arrow_sha256
from .inputs import check_file

if TYPE_CHECKING:
    from .._polars import pl
    from ..engine.protocol import Run

SUFFIX = ".sql"
FORMAT = "sql"
DSN_VARIABLE = "QUALISCORE_DSN"
MAX_QUERY_BYTES = 1 << 20  # a query file is a query, not a dump
CONNECT_TIMEOUT = 15  # seconds
# libpq's environment: any of these lets psycopg connect without a DSN.
LIBPQ_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSERVICE")
# Shown as _(DSN_HINT).
DSN_HINT = N_("set QUALISCORE_DSN=postgresql://USER:PASSWORD@HOST:5432/DBNAME (or mysql://…), or pass "
              "--dsn-file FILE naming a private file that holds that one line")

Dialect = Literal["postgresql", "mysql"]
Kind = Literal["string", "integer", "number", "boolean", "date", "datetime", "instant", "duration", "time"]
_SCHEMES: dict[str, Dialect] = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql",
                                "mariadb": "mysql", "mysql+pymysql": "mysql"}

_dsn_file: contextvars.ContextVar[str | None] = contextvars.ContextVar("qualiscore_dsn_file", default=None)


def is_query(path: str | os.PathLike[str]) -> bool:
    """Whether an input path names a query file (``.sql``) rather than a records file."""
    return os.fspath(path).lower().endswith(SUFFIX)


def use_dsn_file(path: str | None) -> contextvars.Token[str | None]:
    """Read the DSN from ``path`` (``--dsn-file``) rather than the environment, until reset with the token."""
    return _dsn_file.set(path)


def reset_dsn_file(token: contextvars.Token[str | None]) -> None:
    _dsn_file.reset(token)


# --------------------------------------------------------------------------- the DSN


@dataclass(frozen=True, slots=True)
class Dsn:
    """Where the server is and how to log in; only ``server`` (no user, no password) is ever shown."""

    dialect: Dialect
    text: str = field(repr=False)  # as given, handed to the connector; "" for libpq's environment
    host: str | None = None
    port: int | None = None
    dbname: str | None = None
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    params: tuple[tuple[str, str], ...] = ()  # the URL's query parameters (sslmode=…, unix_socket=…)

    @property
    def server(self) -> str:
        """``dialect://host:port/dbname``, as the manifest records it."""
        default = 5432 if self.dialect == "postgresql" else 3306
        return server_text(self.dialect, self.host or "localhost", self.port or default, self.dbname or "")

    def secrets(self) -> list[str]:
        """What must never be shown: the password (as written and decoded), and the DSN itself."""
        found = [self.text] if self.text else []
        if self.password:
            found += [self.password, quote(self.password, safe="")]
        env = os.environ.get("PGPASSWORD")
        if self.dialect == "postgresql" and env:
            found.append(env)
        return sorted({s for s in found if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` on one line, every secret replaced by ``***``."""
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return " ".join(text.split())


def server_text(dialect: str, host: str, port: int | str, dbname: str) -> str:
    return f"{dialect}://{quote(host, safe='')}:{port}/{quote(dbname, safe='')}"


def parse_dsn(text: str, where: str = DSN_VARIABLE) -> Dsn:
    """``postgresql://user:password@host:port/dbname?param=value`` (or ``mysql://…``) as a :class:`Dsn`.

    UsageError, saying what is wrong without repeating the DSN, when it is not one.
    """
    text = text.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    dialect = _SCHEMES.get(scheme)
    if dialect is None:
        raise UsageError(_("the DSN in {where} is not a postgresql:// or mysql:// URL", where=where),
                         hint=_("write it as postgresql://USER:PASSWORD@HOST:5432/DBNAME or "
                                "mysql://USER:PASSWORD@HOST:3306/DBNAME"))
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:
        raise UsageError(_("the DSN in {where} has a port that is not a number from 0 to 65535", where=where),
                         hint=_("write the port as digits after the host, e.g. HOST:5432")) from None
    params = tuple((k, unquote(v)) for k, _, v in (p.partition("=") for p in url.query.split("&") if p))
    return Dsn(dialect, text, unquote(url.hostname) if url.hostname else None, port,
               unquote(url.path.lstrip("/")) or None, unquote(url.username) if url.username is not None else None,
               unquote(url.password) if url.password is not None else None, params)


def find_dsn() -> Dsn | None:
    """The DSN to use: ``--dsn-file``, else ``QUALISCORE_DSN``, else libpq's environment; None when none is given."""
    path = _dsn_file.get()
    if path is not None:
        return parse_dsn(_read_dsn_file(path), f"--dsn-file {path}")
    text = os.environ.get(DSN_VARIABLE, "").strip()
    if text:
        return parse_dsn(text)
    if any(os.environ.get(name) for name in LIBPQ_VARIABLES):
        port = os.environ.get("PGPORT", "")
        return Dsn("postgresql", "", os.environ.get("PGHOST") or os.environ.get("PGHOSTADDR"),
                   int(port) if port.isdigit() else None, os.environ.get("PGDATABASE"))
    return None


def _read_dsn_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as f:
            lines = [line.strip() for line in f.read(64 << 10).splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else _("it is not UTF-8 text")
        raise UsageError(_("--dsn-file {path} cannot be read: {error}", path=path, error=why),
                         hint=_(DSN_HINT)) from None
    if len(lines) != 1:
        raise UsageError(_("--dsn-file {path} must hold one line, the DSN; it holds {n}", path=path, n=len(lines)),
                         hint=_(DSN_HINT))
    return lines[0]


# --------------------------------------------------------------------------- the query file


@dataclass(frozen=True, slots=True)
class QueryFile:
    """A query file's text and the SHA-256 of its bytes (what the manifest records and ``verify`` checks)."""

    path: str
    text: str
    sha256: str


def read_query_file(path: str) -> QueryFile:
    check_file(path, path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_QUERY_BYTES + 1)
    except OSError as exc:
        raise DataError(_("cannot be read: {error}", error=exc.strerror or exc), location=Location(path),
                        hint=_("check the file's permissions"), code="unreadable") from None
    if len(data) > MAX_QUERY_BYTES:
        raise DataError(_("is larger than {limit:,} bytes: a query file holds one SELECT query", limit=MAX_QUERY_BYTES),
                        location=Location(path), hint=_("keep the query in the file, and the data in the database"),
                        code="format")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(_("is not UTF-8 text (bad byte at offset {offset})", offset=exc.start),
                        location=Location(path, line=line), hint=_("save the query file as UTF-8"),
                        code="encoding") from None
    if not strip_comments(text).strip(" \t\r\n;"):
        raise DataError(_("holds no query"), location=Location(path),
                        hint=_("write one SELECT query, e.g. SELECT * FROM interactions ORDER BY interaction_id"),
                        code="empty")
    return QueryFile(path, text, hashlib.sha256(data).hexdigest())


_LEXEME = re.compile(r"""--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\$(\w*)\$.*?\$\1\$""", re.S)


def strip_comments(text: str) -> str:
    """The query with comments blanked and string literals and quoted names emptied (for looking at its shape)."""
    def blank(m: re.Match[str]) -> str:
        s = m.group(0)
        if s.startswith(("--", "/*")):
            return " "
        return s[0] + s[-1] if s[0] in "'\"`" else "''"

    return _LEXEME.sub(blank, text)


def has_order_by(text: str) -> bool:
    """Whether the query's outermost SELECT has an ORDER BY (not one inside brackets: a subquery's, a window's)."""
    shape = strip_comments(text)
    depth = 0
    flat = []
    for ch in shape:
        depth += ch == "("
        flat.append(ch if depth == 0 else " ")
        depth -= ch == ")" and depth > 0
    return re.search(r"\border\s+by\b", "".join(flat), re.I) is not None


def sql_location(path: str, text: str, position: int | None, line: int | None = None) -> Location:
    """The place in the query file of a 1-based character ``position`` in its text (or of a 1-based ``line``)."""
    if position is not None and 0 < position <= len(text) + 1:
        before = text[: position - 1]
        return Location(path, line=before.count("\n") + 1, column=position - 1 - (before.rfind("\n") + 1) + 1)
    if line is not None and line > 0:
        return Location(path, line=line)
    return Location(path)


# --------------------------------------------------------------------------- the rows as a table


@dataclass(frozen=True, slots=True, eq=False)
class QueryTable(Table):
    """A query's rows as a table in memory, named by its query file, with what the manifest records of it.

    ``sha256`` is that of the rows (their Arrow IPC stream), ``query_sha256`` that of the query file.
    """

    query_sha256: str = ""
    server: str = ""

    def recorded(self, run: Run) -> Run:
        """``run`` (of this table) with its input recorded as the query: the file, its SHA-256, server and rows."""
        inputs = tuple(replace(i, sha256=self.query_sha256, format=FORMAT, encoding="utf-8", server=self.server,
                               rows_sha256=self.sha256) if i.path == self.name else i
                       for i in run.dataset.inputs)
        return replace(run, dataset=replace(run.dataset, inputs=inputs))


def query_source(paths: Sequence[str | os.PathLike[str]], encoding: str | None, sheet: str | None
                 ) -> QueryTable | None:
    """The rows of the query file among ``paths``, or None when none is one; UsageError when it is not alone."""
    given = [os.fspath(p) for p in paths]
    queries = [p for p in given if is_query(p)]
    if not queries:
        return None
    if len(given) > 1:
        raise UsageError(_("a query file must be the only input of its run: {query} was given with "
                           "{n} other input(s)", query=queries[0], n=len(given) - 1),
                         hint=_("score the query's rows on their own, or put every record in the one query "
                                "(UNION ALL)"))
    if encoding is not None or sheet is not None:
        raise UsageError(_("{option} applies to input files; {query} is a query (UTF-8), read from the database",
                           option="--encoding" if encoding is not None else "--sheet", query=queries[0]),
                         hint=_("leave the option out"))
    return read_query(queries[0])


def read_query(path: str, dsn: Dsn | None = None, *, limit: int | None = None) -> QueryTable:
    """Run the query of the file ``path`` on the server ``dsn`` names (default: :func:`find_dsn`).

    ``limit``: read only the first rows (``validate --data``'s sample). UsageError when no
    DSN is given; DatabaseError (exit 8) when the server cannot be reached, refuses the
    login, or fails the query; DataError when a column's type cannot be read.
    """
    query = read_query_file(path)
    dsn = dsn if dsn is not None else find_dsn()
    if dsn is None:
        raise UsageError(_("{path} is a query, and no database was given to run it on", path=path), hint=_(DSN_HINT))
    run = _run_postgresql if dsn.dialect == "postgresql" else _run_mysql
    result = run(query, dsn, limit)
    frame = frame_of(result.columns, result.rows, path)
    return QueryTable(frame, arrow_sha256(frame), path, query.sha256, result.server)


@dataclass(frozen=True, slots=True)
class Result:
    """What a server returned: each column's name, kind and type name, the rows, and the server's name."""

    columns: tuple[tuple[str, Kind | None, str], ...]
    rows: list[tuple[Any, ...]]
    server: str


def _unreachable(query: QueryFile, dsn: Dsn, exc: BaseException) -> DatabaseError:
    return DatabaseError(_("cannot connect to {server}: {error}", server=dsn.server, error=dsn.scrub(str(exc))),
                         location=Location(query.path), code="database-unreachable",
                         hint=_("check the host, port, database name, user and password of the DSN "
                                "({variable} or --dsn-file), and that the server accepts connections from here",
                                variable=DSN_VARIABLE))


def _missing_connector(query: QueryFile, module: str) -> DataError:
    from .tables import missing_library

    return missing_library(query.path, _("a query"), module, "db")


# PostgreSQL's type names → kinds; psycopg names each column's type.
_POSTGRES_KINDS: dict[str, Kind] = {
    "text": "string", "varchar": "string", "bpchar": "string", "char": "string", "name": "string",
    "citext": "string", "uuid": "string",
    "int2": "integer", "int4": "integer", "int8": "integer",
    "numeric": "number", "float4": "number", "float8": "number",
    "bool": "boolean", "date": "date", "timestamp": "datetime", "timestamptz": "instant",
    "interval": "duration", "time": "time",
}


def _run_postgresql(query: QueryFile, dsn: Dsn, limit: int | None) -> Result:
    try:
        import psycopg
    except ImportError:
        raise _missing_connector(query, "psycopg") from None
    try:
        conn = psycopg.connect(dsn.text, connect_timeout=CONNECT_TIMEOUT, application_name="qualiscore")
    except psycopg.Error as exc:
        raise _unreachable(query, dsn, exc) from None
    with conn:
        info = conn.info
        server = server_text("postgresql", info.host, info.port, info.dbname)
        conn.read_only = True  # the query reads; anything else is refused by the server
        try:
            # Binary results use the extended protocol, which runs exactly one statement; a raw cursor
            # leaves % and { in the query alone (there are no parameters).
            cursor = psycopg.RawCursor(conn)
            cursor.execute(query.text, (), binary=True)
            if cursor.description is None:
                raise DatabaseError(_("the query returns no rows: a query file holds one SELECT"),
                                    location=Location(query.path), hint=_("write a SELECT query"))
            columns = tuple((c.name, _POSTGRES_KINDS.get(_type_name(psycopg, c.type_code)),
                             _type_name(psycopg, c.type_code)) for c in cursor.description)
            rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        except psycopg.Error as exc:
            raise _query_failed(query, dsn, server, exc) from None
        finally:
            if not conn.closed:
                conn.rollback()
    return Result(columns, rows, server)


def _type_name(psycopg: Any, oid: int) -> str:
    info = psycopg.postgres.types.get(oid)
    return str(info.name) if info is not None else f"oid {oid}"


def _query_failed(query: QueryFile, dsn: Dsn, server: str, exc: Any) -> DatabaseError:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(exc)
    position = getattr(diag, "statement_position", None)
    hint = getattr(diag, "message_hint", None)
    return DatabaseError(_("the query failed on {server}: {error}", server=server, error=dsn.scrub(primary)),
                         location=sql_location(query.path, query.text, int(position) if position else None),
                         hint=dsn.scrub(hint) if hint else _("correct the query in the file, and check that the "
                                                            "user may read the tables it names"))


# MySQL's field types (pymysql.constants.FIELD_TYPE) → kinds.
_MYSQL_KINDS: dict[int, Kind] = {
    0: "number", 246: "number", 4: "number", 5: "number",  # DECIMAL, NEWDECIMAL, FLOAT, DOUBLE
    1: "integer", 2: "integer", 3: "integer", 8: "integer", 9: "integer", 13: "integer",  # TINY … YEAR
    7: "instant", 12: "datetime", 10: "date", 14: "date", 11: "duration",  # TIMESTAMP, DATETIME, DATE, TIME
    15: "string", 253: "string", 254: "string", 247: "string", 248: "string",  # VARCHAR, VAR_STRING, STRING, ENUM, SET
    249: "string", 250: "string", 251: "string", 252: "string",  # TEXT kinds (bytes when binary: refused)
}
_MYSQL_NAMES = {0: "decimal", 246: "decimal", 4: "float", 5: "double", 1: "tinyint", 2: "smallint", 3: "int",
                8: "bigint", 9: "mediumint", 13: "year", 7: "timestamp", 12: "datetime", 10: "date", 14: "date",
                11: "time", 15: "varchar", 253: "varchar", 254: "char", 247: "enum", 248: "set", 249: "text",
                250: "text", 251: "text", 252: "text", 245: "json", 16: "bit", 255: "geometry", 6: "null"}


def mysql_columns(description: Sequence[Sequence[Any]]) -> tuple[tuple[str, Kind | None, str], ...]:
    """(name, kind, type name) of each column of a PyMySQL cursor's ``description``."""
    return tuple((str(d[0]), _MYSQL_KINDS.get(int(d[1])), _MYSQL_NAMES.get(int(d[1]), f"type {d[1]}"))
                 for d in description)


def mysql_connect_args(dsn: Dsn) -> dict[str, Any]:
    """PyMySQL's ``connect`` arguments for ``dsn``: the session in UTC, so TIMESTAMP values are instants in UTC."""
    params = dict(dsn.params)
    args: dict[str, Any] = {"host": dsn.host or "localhost", "port": dsn.port or 3306, "user": dsn.user,
                            "password": dsn.password or "", "database": dsn.dbname,
                            "charset": params.get("charset", "utf8mb4"), "connect_timeout": CONNECT_TIMEOUT,
                            "init_command": "SET time_zone = '+00:00'"}
    if "unix_socket" in params:
        args["unix_socket"] = params["unix_socket"]
    return args


def _run_mysql(query: QueryFile, dsn: Dsn, limit: int | None) -> Result:
    try:
        import pymysql
    except ImportError:
        raise _missing_connector(query, "PyMySQL") from None
    try:
        conn = pymysql.connect(**mysql_connect_args(dsn))
    except pymysql.Error as exc:
        raise _unreachable(query, dsn, exc) from None
    server = dsn.server
    # Without CLIENT.MULTI_STATEMENTS the server runs one statement; a final ";" would be a second one.
    text = query.text.rstrip().removesuffix(";")
    try:
        with conn.cursor() as cursor:
            cursor.execute("START TRANSACTION READ ONLY")
            cursor.execute(text)  # no arguments: % is left alone
            if cursor.description is None:
                raise DatabaseError(_("the query returns no rows: a query file holds one SELECT"),
                                    location=Location(query.path), hint=_("write a SELECT query"))
            columns = mysql_columns(cursor.description)
            rows = list(cursor.fetchall() if limit is None else cursor.fetchmany(limit))
            conn.rollback()
    except pymysql.Error as exc:
        message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        line = re.search(r"at line (\d+)", message)
        raise DatabaseError(_("the query failed on {server}: {error}", server=server, error=dsn.scrub(message)),
                            location=sql_location(query.path, query.text, None, int(line.group(1)) if line else None),
                            hint=_("correct the query in the file, and check that the user may read the tables it "
                                   "names")) from None
    finally:
        conn.close()
    return Result(columns, list(rows), server)


def frame_of(columns: Sequence[tuple[str, Kind | None, str]], rows: Sequence[Sequence[Any]], path: str
             ) -> pl.DataFrame:
    """The rows as a Polars frame, each column of the dtype its kind reads as; DataError for a type not read."""
    try:
        from .._polars import pl
    except ImportError:
        from .tables import missing_library

        raise missing_library(path, _("a query's rows"), "polars", "fast") from None
    names = [name for name, _, _ in columns]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise DatabaseError(_("the query returns two columns named {name!r}", name=twice), location=Location(path),
                            hint=_("give each column its own name (… AS name)"))
    dtypes: dict[Kind, Any] = {"string": pl.String, "integer": pl.Int64, "number": pl.Float64,
                               "boolean": pl.Boolean, "date": pl.Date, "datetime": pl.Datetime("us"),
                               "instant": pl.Datetime("us"), "duration": pl.Duration("us"), "time": pl.Time}
    series = []
    for index, (name, kind, type_name) in enumerate(columns):
        values = [row[index] for row in rows]
        kind = kind or _text_kind(values)
        if kind is None or (kind == "string" and any(isinstance(v, (bytes, bytearray, memoryview)) for v in values)):
            raise DataError(_("column {name!r} of the query is of type {type}, which a record field cannot read",
                              name=name, type=type_name),
                            location=Location(path, field=name), code="format",
                            hint=_("cast it in the query, e.g. CAST({name} AS text) (or varchar/char for MySQL), "
                                   "or leave it out", name=name))
        try:
            column = pl.Series(name, list(_CONVERT[kind](values)), dtype=dtypes[kind], strict=True)
        except (OverflowError, TypeError, ValueError, pl.exceptions.PolarsError) as exc:
            raise DataError(_("column {name!r} of the query ({type}) has a value out of range: {error}", name=name,
                              type=type_name, error=exc),
                            location=Location(path, field=name), code="format",
                            hint=_("cast the column in the query to a type that holds every value")) from None
        series.append(column.dt.replace_time_zone("UTC") if kind == "instant" else column)
    return pl.DataFrame(series).rechunk()


def _text_kind(values: Sequence[Any]) -> Kind | None:
    """A type the server names but this module does not know (an enum, a domain): text when every value is."""
    return "string" if all(v is None or isinstance(v, str) for v in values) else None


def _numbers(values: Sequence[Any]) -> Iterator[float | None]:
    # float(Decimal) is correctly rounded, as float() of the same digits as text is.
    return (None if v is None else float(v) for v in values)


def _instants(values: Sequence[Any]) -> Iterator[dt.datetime | None]:
    """Instants in UTC, naive (the column is then marked UTC); a naive value is in UTC (MySQL's session zone)."""
    utc = dt.timezone.utc
    return (None if v is None else v.astimezone(utc).replace(tzinfo=None) if v.tzinfo is not None else v
            for v in values)


def _strings(values: Sequence[Any]) -> Iterator[str | None]:
    return (None if v is None else v if isinstance(v, str) else str(v) for v in values)  # a uuid


def _same(values: Sequence[Any]) -> Sequence[Any]:
    return values


def _integers(values: Sequence[Any]) -> Iterator[int | None]:
    return (None if v is None else int(v) for v in values)


_CONVERT: dict[Kind, Callable[[Sequence[Any]], Any]] = {
    "string": _strings, "integer": _integers, "number": _numbers, "boolean": _same, "date": _same,
    "datetime": _same, "instant": _instants, "duration": _same, "time": _same,
}
