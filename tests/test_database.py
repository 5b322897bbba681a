"""Records read from a database by a .sql query file, against a real PostgreSQL server (tests/pgserver.py).

The proof: the bundled sample, loaded into a table with proper column types, scores to the
same scorecards.jsonl and scorecards.csv as a CSV export of that table, on both engines.
The sample's deliberately bad cells that a typed column cannot hold (``maybe`` in a
boolean, ``2026-13-45 25:00`` in a timestamptz) are loaded as NULL: those rows are still
rejected (a null where the contract allows none), so every scorecard is the same; the
cells a typed column can hold (``wechat``, ``-5``, a csat of 7) are kept and rejected
as in the CSV. MySQL has no server here: its DSN, connection arguments and type mapping
are tested without one.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Cli
from pgserver import DATABASE, PASSWORD, USER, Server

pytest.importorskip("psycopg")
pl = pytest.importorskip("polars")

from qualiscore.errors import DatabaseError, UsageError  # noqa: E402
from qualiscore.records import database  # noqa: E402
from qualiscore.records.database import (  # noqa: E402
    frame_of,
    has_order_by,
    mysql_columns,
    mysql_connect_args,
    parse_dsn,
    read_query,
    sql_location,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEME = str(ROOT / "rules" / "cs-quality" / "2026Q2.yaml")
SAMPLE = ROOT / "data" / "sample" / "interactions.csv"
EXIT_DATABASE = 8
EXIT_INPUT_CHANGED = 11
EXIT_INPUT_UNREACHABLE = 18

TABLE = """
CREATE TABLE interactions (
    interaction_id text PRIMARY KEY,
    agent_id text NOT NULL,
    team text NOT NULL,
    channel text NOT NULL,
    started_at timestamptz,
    first_response_s numeric,
    handle_time_s interval,
    resolved_first_contact boolean,
    repeat_contact_7d boolean,
    complaint boolean,
    csat smallint,
    nps integer,
    transcript text,
    unauthorised_promise boolean
)"""
BOOLEANS = ("resolved_first_contact", "repeat_contact_7d", "complaint", "unauthorised_promise")
QUERY = "-- the sample quarter, one row per interaction\nSELECT *\n  FROM interactions\n ORDER BY interaction_id;\n"
# The table as a CSV file reads it: instants with their offset, durations in seconds, booleans as words.
EXPORT = """COPY (SELECT interaction_id, agent_id, team, channel,
    to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at,
    first_response_s, extract(epoch FROM handle_time_s) AS handle_time_s,
    resolved_first_contact::text AS resolved_first_contact, repeat_contact_7d::text AS repeat_contact_7d,
    complaint::text AS complaint, csat, nps, transcript, unauthorised_promise::text AS unauthorised_promise
  FROM interactions ORDER BY interaction_id) TO STDOUT WITH (FORMAT csv, HEADER)"""


def _cell(column: str, text: str) -> str | None:
    """A sample cell as the typed column holds it: None when empty, or when the type cannot hold it."""
    if text == "":
        return None
    if column in BOOLEANS and text not in ("true", "false"):
        return None  # "maybe"
    if column == "started_at":
        try:
            dt.datetime.fromisoformat(text)
        except ValueError:
            return None  # "2026-13-45 25:00"
    return text


@pytest.fixture(scope="module")
def loaded(postgres: Server) -> Server:
    """The sample in the table ``interactions`` (once per module: the tests that change it restore it)."""
    with postgres.admin() as conn:
        conn.execute("DROP TABLE IF EXISTS interactions")
        conn.execute(TABLE)
        conn.execute(f"ALTER TABLE interactions OWNER TO {USER}")
        conn.execute("SET TimeZone = 'Asia/Shanghai'")  # a date-time without an offset is Beijing time
        with SAMPLE.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        header = rows[0]
        with conn.cursor().copy(f"COPY interactions ({', '.join(header)}) FROM STDIN") as copy:
            for row in rows[1:]:
                copy.write_row([_cell(c, v) for c, v in zip(header, row)])
    return postgres


@pytest.fixture
def dsn_env(loaded: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    monkeypatch.setenv("QUALISCORE_DSN", loaded.dsn)
    return loaded


@pytest.fixture
def query(tmp_path: Path) -> Path:
    path = tmp_path / "q.sql"
    path.write_text(QUERY, encoding="utf-8")
    return path


def _export(server: Server, path: Path) -> Path:
    with server.admin() as conn, conn.cursor().copy(EXPORT) as copy:
        path.write_bytes(b"".join(bytes(chunk) for chunk in copy))
    return path


def _bytes_of(directory: Path) -> Iterator[tuple[str, bytes]]:
    for p in sorted(directory.rglob("*")):
        if p.is_file():
            yield str(p), p.read_bytes()


def _rejected_ids(out: Path) -> set[str]:
    with (out / "rejects.csv").open(encoding="utf-8", newline="") as f:
        return {row["record_id"] for row in csv.DictReader(f)}


# --------------------------------------------------------------------------- the proof


@pytest.mark.parametrize("engine", ["rows", "columnar"])
def test_query_scores_as_the_csv_export_of_its_table(cli: Cli, dsn_env: Server, query: Path, tmp_path: Path,
                                                     engine: str) -> None:
    db_out, csv_out, sample_out = tmp_path / "A", tmp_path / "B", tmp_path / "C"
    export = _export(dsn_env, tmp_path / "export.csv")
    ran = cli("evaluate", SCHEME, str(query), "-o", str(db_out), "--engine", engine)
    assert ran.exit_code == 0, ran.output
    assert "rows read 3000 = scored 2970 + rejected 30" in ran.output
    assert cli("evaluate", SCHEME, str(export), "-o", str(csv_out), "--engine", engine).exit_code == 0
    assert cli("evaluate", SCHEME, str(SAMPLE), "-o", str(sample_out), "--engine", engine).exit_code == 0
    for name in ("scorecards.jsonl", "scorecards.csv"):
        assert (db_out / name).read_bytes() == (csv_out / name).read_bytes() == (sample_out / name).read_bytes()
    assert _rejected_ids(db_out) == _rejected_ids(csv_out) == _rejected_ids(sample_out)
    rejects = (db_out / "rejects.csv").read_text(encoding="utf-8")
    assert f"{query},92,I0000092,resolved_first_contact,,missing-value," in rejects  # row 92 of the result
    assert f"{query},314,I0000314,channel,wechat,not-in-enum," in rejects
    manifest = json.loads((db_out / "manifest.json").read_text(encoding="utf-8"))
    [entry] = manifest["inputs"]
    assert entry == {"path": str(query), "format": "sql", "encoding": "utf-8",
                     "sha256": database.hashlib.sha256(query.read_bytes()).hexdigest(),
                     "server": dsn_env.server, "rows_read": 3000, "rows_rejected": 30,
                     "rows_sha256": entry["rows_sha256"]}
    assert entry["rows_sha256"] == read_query(str(query)).sha256
    for name, data in [*_bytes_of(db_out), ("output", ran.output.encode())]:
        assert PASSWORD.encode() not in data, name
        assert USER.encode() not in data, name


def test_engines_give_the_same_bytes(cli: Cli, dsn_env: Server, query: Path, tmp_path: Path) -> None:
    outs = {}
    for engine in ("rows", "columnar"):
        outs[engine] = tmp_path / engine
        assert cli("evaluate", SCHEME, str(query), "-o", str(outs[engine]), "--engine", engine).exit_code == 0
    for name in ("scorecards.jsonl", "scorecards.csv", "rejects.csv"):
        assert (outs["rows"] / name).read_bytes() == (outs["columnar"] / name).read_bytes()


# --------------------------------------------------------------------------- verify


def test_verify_reruns_the_query(cli: Cli, dsn_env: Server, query: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert cli("evaluate", SCHEME, str(query), "-o", str(out), "--engine", "rows").exit_code == 0
    checked = cli("verify", str(out))
    assert checked.exit_code == 0, checked.output
    assert "verified" in checked.output
    record = cli("verify", str(out), "--format", "json")
    rows_check = next(c for c in json.loads(record.output)["checks"] if c["check"] == "query rows SHA-256")
    assert rows_check["result"] == "pass"

    # The DSN from a private file instead of the environment.
    monkeypatch.delenv("QUALISCORE_DSN")
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text(dsn_env.dsn + "\n", encoding="utf-8")
    assert cli("verify", str(out), "--dsn-file", str(dsn_file)).exit_code == 0

    # No DSN: the rows cannot be checked, and the message says how to give it.
    unreachable = cli("verify", str(out))
    assert unreachable.exit_code == EXIT_INPUT_UNREACHABLE, unreachable.output
    assert "input-unreachable" in unreachable.output and "QUALISCORE_DSN" in unreachable.output
    assert "--dsn-file" in unreachable.output
    assert "not recomputed: the query's rows could not be read again" in unreachable.output

    # One row changed in the database.
    monkeypatch.setenv("QUALISCORE_DSN", dsn_env.dsn)
    dsn_env.execute("UPDATE interactions SET unauthorised_promise = true WHERE interaction_id = 'I0000001'")
    try:
        changed = cli("verify", str(out))
    finally:
        dsn_env.execute("UPDATE interactions SET unauthorised_promise = false WHERE interaction_id = 'I0000001'")
    assert changed.exit_code == EXIT_INPUT_CHANGED, changed.output
    assert f"input-changed: the query {query} now returns different rows: 3000 rows" in changed.output
    assert "A004/2026-04 moves" in changed.output  # the subject the changed row belongs to
    assert cli("verify", str(out)).exit_code == 0

    # The query file edited.
    query.write_text(QUERY.replace("ORDER BY", "WHERE team = 'T1' ORDER BY"), encoding="utf-8")
    edited = cli("verify", str(out))
    assert edited.exit_code == EXIT_INPUT_CHANGED
    assert f"input-changed: the query file {query} was edited after the run" in edited.output
    for data in (changed.output, edited.output, unreachable.output):
        assert PASSWORD not in data


def test_library_scores_a_query_and_its_result_publishes(dsn_env: Server, query: Path, tmp_path: Path) -> None:
    import qualiscore

    result = qualiscore.score(SCHEME, str(query), engine="rows")
    assert result.summary.rows_read == 3000
    result.write(tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["format"] == "sql"


# --------------------------------------------------------------------------- errors


def test_wrong_password_is_one_clean_line(cli: Cli, loaded: Server, query: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "Wr0ng-" + PASSWORD[::-1]
    monkeypatch.setenv("QUALISCORE_DSN", loaded.dsn.replace(PASSWORD, wrong))
    ran = cli("evaluate", SCHEME, str(query), "-o", str(tmp_path / "out"))
    assert ran.exit_code == EXIT_DATABASE
    first = ran.output.splitlines()[0]
    assert first.startswith(f"{query}: error[database-unreachable] cannot connect to {loaded.server}: ")
    assert "password authentication failed" in first
    assert wrong not in ran.output and PASSWORD not in ran.output and "Traceback" not in ran.output
    assert not (tmp_path / "out").exists()


def test_unreachable_server(cli: Cli, loaded: Server, query: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("QUALISCORE_DSN", f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}")
    ran = cli("evaluate", SCHEME, str(query), "-o", str(tmp_path / "out"))
    assert ran.exit_code == EXIT_DATABASE
    assert f"error[database-unreachable] cannot connect to postgresql://127.0.0.1:{port}/{DATABASE}" in ran.output
    assert PASSWORD not in ran.output


def test_sql_error_is_located_in_the_query_file(cli: Cli, dsn_env: Server, tmp_path: Path) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("-- a typo on line 3\nSELECT interaction_id,\n       csatt\n  FROM interactions\n", encoding="utf-8")
    ran = cli("evaluate", SCHEME, str(bad), "-o", str(tmp_path / "out"))
    assert ran.exit_code == EXIT_DATABASE
    assert ran.output.startswith(f"{bad}:3:8: error[query-failed] the query failed on {dsn_env.server}: "
                                 'column "csatt" does not exist')
    syntax = tmp_path / "syntax.sql"
    syntax.write_text("SELECT *\nFROM interactions\nORDER interaction_id\n", encoding="utf-8")
    ran = cli("evaluate", SCHEME, str(syntax), "-o", str(tmp_path / "out"))
    assert ran.exit_code == EXIT_DATABASE
    assert ran.output.startswith(f"{syntax}:3:7: error[query-failed]")
    assert "syntax error" in ran.output


def test_query_reads_only(cli: Cli, dsn_env: Server, tmp_path: Path) -> None:
    """A query file runs one statement in a read-only transaction: nothing else reaches the data."""
    two = tmp_path / "two.sql"
    two.write_text("SELECT * FROM interactions; COMMIT; DELETE FROM interactions", encoding="utf-8")
    ran = cli("evaluate", SCHEME, str(two), "-o", str(tmp_path / "out"))
    assert ran.exit_code == EXIT_DATABASE and "multiple commands" in ran.output
    write = tmp_path / "write.sql"
    write.write_text("DELETE FROM interactions RETURNING *", encoding="utf-8")
    ran = cli("evaluate", SCHEME, str(write), "-o", str(tmp_path / "out"))
    assert ran.exit_code == EXIT_DATABASE and "read-only transaction" in ran.output
    count = tmp_path / "count.sql"
    count.write_text("SELECT count(*) AS n FROM interactions", encoding="utf-8")
    assert read_query(str(count)).frame["n"].to_list() == [3000]


def test_usage_errors(cli: Cli, dsn_env: Server, query: Path, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    mixed = cli("evaluate", SCHEME, str(query), str(SAMPLE), "-o", str(tmp_path / "out"))
    assert mixed.exit_code == 2 and "must be the only input of its run" in mixed.output
    encoding = cli("evaluate", SCHEME, str(query), "-o", str(tmp_path / "out"), "--encoding", "gbk")
    assert encoding.exit_code == 2 and "--encoding applies to input files" in encoding.output
    monkeypatch.delenv("QUALISCORE_DSN")
    for name in database.LIBPQ_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    none = cli("evaluate", SCHEME, str(query), "-o", str(tmp_path / "out"))
    assert none.exit_code == 2
    assert "no database was given" in none.output and "QUALISCORE_DSN" in none.output
    two_lines = tmp_path / "dsn"
    two_lines.write_text(f"{dsn_env.dsn}\n{dsn_env.dsn}\n", encoding="utf-8")
    ran = cli("evaluate", SCHEME, str(query), "-o", str(tmp_path / "out"), "--dsn-file", str(two_lines))
    assert ran.exit_code == 2 and "must hold one line" in ran.output and PASSWORD not in ran.output
    missing = cli("evaluate", SCHEME, str(tmp_path / "none.sql"), "-o", str(tmp_path / "out"))
    assert missing.exit_code == 4 and "no such file" in missing.output
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing yet\n;\n", encoding="utf-8")
    assert "holds no query" in cli("evaluate", SCHEME, str(empty), "-o", str(tmp_path / "out")).output


def test_libpq_environment(cli: Cli, loaded: Server, query: Path, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUALISCORE_DSN", raising=False)
    for name, value in {"PGHOST": loaded.host, "PGPORT": str(loaded.port), "PGUSER": USER,
                        "PGPASSWORD": PASSWORD, "PGDATABASE": DATABASE}.items():
        monkeypatch.setenv(name, value)
    ran = cli("evaluate", SCHEME, str(query), "-o", str(tmp_path / "out"), "--engine", "rows")
    assert ran.exit_code == 0, ran.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["server"] == loaded.server
    monkeypatch.setenv("PGPASSWORD", "not-" + PASSWORD)
    ran = cli("evaluate", SCHEME, str(query), "-o", str(tmp_path / "out2"))
    assert ran.exit_code == EXIT_DATABASE and "not-" + PASSWORD not in ran.output
    assert f"cannot connect to {loaded.server}: " in ran.output


def test_missing_connector_says_how_to_install(dsn_env: Server, query: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(Exception) as raised:
        read_query(str(query))
    assert "needs the psycopg package" in str(raised.value) and "[db]" in str(raised.value)


# --------------------------------------------------------------------------- the other commands


def test_validate_data_checks_a_query(cli: Cli, dsn_env: Server, query: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    ran = cli("validate", SCHEME, "--data", str(query), "--sample", "100")
    assert ran.exit_code == 0, ran.output
    assert f"{query}: the first 100 row(s) checked, 99 would be scored, 1 rejected" in ran.output
    assert "query-unordered" not in ran.output
    unordered = tmp_path / "unordered.sql"
    unordered.write_text("SELECT * FROM interactions -- ORDER BY in a comment does not count\n", encoding="utf-8")
    ran = cli("validate", SCHEME, "--data", str(unordered), "--strict", "--sample", "5000")
    assert ran.exit_code == 1
    assert f"{unordered}: warning[query-unordered] the query has no ORDER BY" in ran.output
    assert "all 3000 row(s) checked" in ran.output
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT *\n  FROM interaction\n", encoding="utf-8")
    ran = cli("validate", SCHEME, "--data", str(bad))
    assert ran.exit_code == 1 and f"{bad}:2:8: error[query-failed]" in ran.output
    monkeypatch.delenv("QUALISCORE_DSN")
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text(dsn_env.dsn, encoding="utf-8")
    assert cli("validate", SCHEME, "--data", str(query), "--dsn-file", str(dsn_file)).exit_code == 0


def test_explain_and_diff_read_a_query(cli: Cli, dsn_env: Server, query: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUALISCORE_DSN")
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text(dsn_env.dsn, encoding="utf-8")
    ran = cli("explain", SCHEME, str(query), "--subject", "A004/2026-04", "--dsn-file", str(dsn_file))
    assert ran.exit_code == 0, ran.output
    assert "A004/2026-04" in ran.output
    q1 = str(ROOT / "rules" / "cs-quality" / "2026Q1.yaml")
    ran = cli("diff", q1, SCHEME, "--data", str(query), "--dsn-file", str(dsn_file))
    assert ran.exit_code == 1, ran.output  # the versions differ
    assert "3000" in ran.output


def test_test_command_takes_a_dsn_file(cli: Cli, tmp_path: Path) -> None:
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text("postgresql://u:p@localhost/db", encoding="utf-8")
    assert cli("test", SCHEME, "--dsn-file", str(dsn_file)).exit_code == 0


# --------------------------------------------------------------------------- column types


def test_postgres_types_map_to_field_types(dsn_env: Server, tmp_path: Path) -> None:
    path = tmp_path / "types.sql"
    path.write_text("""SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8,
        0.1::numeric AS n, 123456789.123456789::numeric(20,9) AS n9, 1.5::float8 AS f8,
        true AS b, DATE '2026-05-14' AS d,
        TIMESTAMP '2026-05-14 09:30:00.123456' AS ts, TIMESTAMPTZ '2026-05-14 09:30:00+08' AS tstz,
        INTERVAL '1 day 00:02:59.5' AS iv, TIME '12:00' AS t, 'text'::varchar(10) AS v, 'x'::char(3) AS c,
        '6b5c1a52-6c2e-4a8e-9c2d-64d3c2d2b0a1'::uuid AS u, NULL::text AS nothing""", encoding="utf-8")
    table = read_query(str(path))
    assert dict(table.frame.schema) == {
        "i2": pl.Int64, "i4": pl.Int64, "i8": pl.Int64, "n": pl.Float64, "n9": pl.Float64, "f8": pl.Float64,
        "b": pl.Boolean, "d": pl.Date, "ts": pl.Datetime("us"), "tstz": pl.Datetime("us", "UTC"),
        "iv": pl.Duration("us"), "t": pl.Time, "v": pl.String, "c": pl.String, "u": pl.String,
        "nothing": pl.String}
    row = table.frame.row(0, named=True)
    assert row["i8"] == 9007199254740993  # exact, beyond a double's integers
    assert row["n"] == 0.1 and row["n9"] == float("123456789.123456789")
    assert row["ts"] == dt.datetime(2026, 5, 14, 9, 30, 0, 123456)
    assert row["tstz"] == dt.datetime(2026, 5, 14, 1, 30, tzinfo=dt.timezone.utc)
    assert row["iv"] == dt.timedelta(days=1, seconds=179.5)
    assert row["c"] == "x  " and row["u"] == "6b5c1a52-6c2e-4a8e-9c2d-64d3c2d2b0a1"
    empty = tmp_path / "empty.sql"
    empty.write_text(path.read_text(encoding="utf-8") + " WHERE false", encoding="utf-8")
    assert read_query(str(empty)).frame.schema == table.frame.schema  # typed from the result, not the values
    same = read_query(str(path))
    assert same.sha256 == table.sha256  # the same rows, the same SHA-256


def test_a_type_no_field_reads_is_refused(dsn_env: Server, tmp_path: Path) -> None:
    path = tmp_path / "json.sql"
    path.write_text("SELECT '{\"a\": 1}'::jsonb AS extra", encoding="utf-8")
    with pytest.raises(Exception) as raised:
        read_query(str(path))
    assert "column 'extra' of the query is of type jsonb" in str(raised.value)
    assert "CAST(extra AS text)" in str(raised.value)


# --------------------------------------------------------------------------- without a server


def test_dsn_parsing() -> None:
    dsn = parse_dsn("postgresql://ana:p%40ss%2Fw0rd@db.example:6543/calls?sslmode=require")
    assert (dsn.dialect, dsn.host, dsn.port, dsn.dbname, dsn.user, dsn.password) == \
        ("postgresql", "db.example", 6543, "calls", "ana", "p@ss/w0rd")
    assert dsn.server == "postgresql://db.example:6543/calls"
    assert dsn.params == (("sslmode", "require"),)
    assert "p@ss" not in repr(dsn) and "ana" not in repr(dsn)
    assert dsn.scrub("bad p@ss/w0rd and p%40ss%2Fw0rd\n there") == "bad *** and *** there"
    assert parse_dsn("postgres://h/db").server == "postgresql://h:5432/db"
    mysql = parse_dsn("mysql://root:pw@10.0.0.5/crm?unix_socket=/run/mysqld.sock")
    assert (mysql.dialect, mysql.server) == ("mysql", "mysql://10.0.0.5:3306/crm")
    args = mysql_connect_args(mysql)
    assert args["host"] == "10.0.0.5" and args["port"] == 3306 and args["user"] == "root"
    assert args["password"] == "pw" and args["database"] == "crm" and args["charset"] == "utf8mb4"
    assert args["unix_socket"] == "/run/mysqld.sock" and "+00:00" in args["init_command"]
    for bad in ("sqlite:///x.db", "host=h dbname=d password=secret", "postgresql://u:secret@h:99999/db"):
        with pytest.raises(UsageError) as raised:
            parse_dsn(bad)
        assert "secret" not in raised.value.format()


def test_mysql_types_map_to_field_types() -> None:
    """PyMySQL's description and values, as it gives them, typed as PostgreSQL's are."""
    description = [("id", 253), ("n", 246), ("f", 5), ("i", 3), ("b", 1), ("d", 10), ("dt", 12), ("ts", 7),
                   ("t", 11), ("e", 247), ("j", 245)]
    columns = mysql_columns(description)
    assert [kind for _, kind, _ in columns] == ["string", "number", "number", "integer", "integer", "date",
                                                "datetime", "instant", "duration", "string", None]
    row = ("I1", decimal.Decimal("0.1"), 1.5, 7, 1, dt.date(2026, 5, 14), dt.datetime(2026, 5, 14, 9, 30),
           dt.datetime(2026, 5, 14, 1, 30), dt.timedelta(minutes=2, seconds=59), "chat", '{"a": 1}')
    frame = frame_of(columns, [row, (None,) * len(row)], "m.sql")
    assert frame.schema["ts"] == pl.Datetime("us", "UTC") and frame.schema["j"] == pl.String
    first = frame.row(0, named=True)
    assert first["n"] == 0.1 and first["ts"] == dt.datetime(2026, 5, 14, 1, 30, tzinfo=dt.timezone.utc)
    assert first["t"] == dt.timedelta(seconds=179) and first["j"] == '{"a": 1}'
    with pytest.raises(Exception, match="type bit"):
        frame_of(mysql_columns([("flags", 16)]), [(b"\x01",)], "m.sql")
    with pytest.raises(DatabaseError, match="two columns named 'a'"):
        frame_of(mysql_columns([("a", 3), ("a", 3)]), [], "m.sql")


def test_mysql_errors_name_the_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A MySQL error is located by the line it names; PyMySQL is driven without a server."""
    pymysql = pytest.importorskip("pymysql")
    path = tmp_path / "m.sql"
    path.write_text("SELECT *\nFROM calls\nWHERE oops(\n", encoding="utf-8")

    class Cursor:
        description = None

        def __enter__(self) -> Cursor:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def execute(self, text: str) -> None:
            if text.startswith("SELECT"):
                raise pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax; check the manual "
                                                         "near '' at line 3")

    class Connection:
        def cursor(self) -> Cursor:
            return Cursor()

        def close(self) -> None:
            pass

    monkeypatch.setattr(pymysql, "connect", lambda **kwargs: Connection())
    with pytest.raises(DatabaseError) as raised:
        read_query(str(path), parse_dsn("mysql://u:pw@h/db"))
    assert raised.value.format().startswith(f"{path}:3: error[query-failed] the query failed on mysql://h:3306/db")

    def refuse(**kwargs: object) -> None:
        raise pymysql.err.OperationalError(1045, "Access denied for user 'u'@'10.0.0.9' (using password: YES)")

    monkeypatch.setattr(pymysql, "connect", refuse)
    with pytest.raises(DatabaseError) as raised:
        read_query(str(path), parse_dsn("mysql://u:pw@h/db"))
    assert raised.value.code == "database-unreachable" and "Access denied" in raised.value.message


def test_order_by_is_found_at_the_top_level_only() -> None:
    assert has_order_by("SELECT * FROM t ORDER BY id")
    assert has_order_by("SELECT * FROM t\n  order\n  by id;")
    assert not has_order_by("SELECT * FROM t -- ORDER BY id")
    assert not has_order_by("SELECT * FROM t /* order by id */")
    assert not has_order_by("SELECT 'order by' AS x FROM t")
    assert not has_order_by("SELECT * FROM (SELECT * FROM t ORDER BY id) s")
    assert not has_order_by("SELECT row_number() OVER (ORDER BY id) FROM t")
    assert has_order_by("SELECT row_number() OVER (ORDER BY id) AS n FROM t ORDER BY n")


def test_sql_location() -> None:
    text = "-- c\nSELECT x\n  FROM y"
    assert str(sql_location("q.sql", text, 8)) == "q.sql:2:3"
    assert str(sql_location("q.sql", text, 1)) == "q.sql:1:1"
    assert str(sql_location("q.sql", text, None, 3)) == "q.sql:3"
    assert str(sql_location("q.sql", text, None)) == "q.sql"


def test_dsn_file_is_forgotten_after_the_command(cli: Cli, tmp_path: Path) -> None:
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text("postgresql://u:p@localhost/db", encoding="utf-8")
    cli("validate", SCHEME, "--dsn-file", str(dsn_file))
    assert database._dsn_file.get() is None


def test_core_install_does_not_import_the_connectors() -> None:
    import subprocess

    code = ("import sys, qualiscore.runs, qualiscore.records.database; "
            "print(any(m in sys.modules for m in ('psycopg', 'pymysql')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ}).stdout.strip() == "False"


def test_unreachable_query_is_milder_than_other_findings_but_not_than_an_unchecked_signer() -> None:
    from qualiscore.verify import Discrepancy, Report

    def status(*kinds: str) -> int:
        return Report("out", tuple(Discrepancy(k, "f", "m") for k in kinds), recomputed=False).exit_code

    assert status("signer-unchecked", "input-unreachable") == EXIT_INPUT_UNREACHABLE
    assert status("output-changed", "input-unreachable") == 13
    assert status("signature", "input-unreachable") == 9
    assert status("signer-unchecked") == 17


def test_manifest_checks_what_a_query_records(tmp_path: Path) -> None:
    from qualiscore.errors import DamagedOutputError
    from qualiscore.manifest import check_manifest

    out = tmp_path / "out"
    import qualiscore

    qualiscore.score(SCHEME, str(SAMPLE), engine="rows").write(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    check_manifest(manifest)  # a manifest without a query's keys, as every earlier one
    manifest["inputs"][0].update(format="sql", server="postgresql://h:5432/db", rows_sha256="0" * 64)
    check_manifest(manifest)
    manifest["inputs"][0]["rows_sha256"] = "not a hash"
    with pytest.raises(DamagedOutputError, match="rows_sha256"):
        check_manifest(manifest)


def test_verification_record_of_an_unreachable_query(cli: Cli, dsn_env: Server, query: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert cli("evaluate", SCHEME, str(query), "-o", str(out), "--engine", "rows").exit_code == 0
    monkeypatch.delenv("QUALISCORE_DSN")
    record = json.loads(cli("verify", str(out), "--format", "json").output)
    assert record["exit_code"] == EXIT_INPUT_UNREACHABLE and not record["recomputed"]
    rows_check = next(c for c in record["checks"] if c["check"] == "query rows SHA-256")
    assert rows_check["result"] == "not checked"
    assert PASSWORD not in json.dumps(record)


def test_a_query_is_one_source_of_several(cli: Cli, dsn_env: Server, query: Path, tmp_path: Path) -> None:
    """Interactions from the database, complaint tickets from a CSV export: joined by agent and month."""
    import yaml

    doc = yaml.safe_load(Path(SCHEME).read_text(encoding="utf-8"))
    doc["sources"] = {"interactions": doc.pop("records"), "complaints": {
        "id": "ticket_id", "timezone": "Asia/Shanghai", "period": "filed_at",
        "fields": {"ticket_id": {"type": "string"}, "agent_id": {"type": "string"},
                   "filed_at": {"type": "datetime"}}}}
    doc["subject"]["breakdowns"] = []
    rate = doc["dimensions"][0]["indicators"][2]
    rate["measure"] = {"ratio": {"numerator": {"count": True, "source": "complaints"}, "denominator": {"count": True}}}
    doc.pop("tests")
    scheme = tmp_path / "2026Q2.yaml"
    scheme.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,agent_id,filed_at\nT1,A001,2026-04-03T10:00:00\nT2,A001,2026-05-09T10:00:00\n",
                       encoding="utf-8")
    out = tmp_path / "out"
    ran = cli("evaluate", str(scheme), f"interactions={query}", f"complaints={tickets}", "-o", str(out))
    assert "complaints    read 2 = scored 2 + rejected 0" in ran.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = next(i for i in manifest["inputs"] if i["source"] == "interactions")
    assert entry["format"] == "sql" and entry["server"] == dsn_env.server and entry["rows_read"] == 3000
    assert cli("verify", str(out)).exit_code == 0
    cards = [json.loads(line) for line in (out / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()]
    april = next(c for c in cards if c["subject"] == "A001/2026-04")
    rate_of = next(i for d in april["dimensions"] for i in d["indicators"] if i["id"] == "complaint_rate")
    assert rate_of["numerator"] == 1
