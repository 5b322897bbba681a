-- cs-quality 2026Q2 (rules/cs-quality/2026Q2.yaml) written by hand as one DuckDB query.
--
-- The benchmark peer of bench/peer.py: what an analyst who has read the scheme and
-- docs/scheme-format.md would write to score the same file without qualiscore. One
-- scorecard per agent and calendar month (Asia/Shanghai): nine indicators in four
-- dimensions, weights redistributed over the indicators (and dimensions) that apply, the
-- total rounded half-even to 2 decimals, the grade read from the rounded total, and the
-- unauthorised-promise veto.
--
-- The file has three parts, each starting with a "-- part: NAME" line. bench/peer.py runs
-- the settings, then ONE of the two "records" views (by the input's kind), then the query;
-- {source} is replaced by read_csv(...) or read_parquet(...) of the input file. DuckDB
-- inlines the view into the query, so the whole run is one query over the file.
--
-- The record contract is enforced as an analyst would: a row that cannot be typed, or
-- breaks an obvious rule of the contract (channel outside the enum, a negative time, a
-- csat outside 1-5 ...), is left out. qualiscore rejects the same rows, with reasons.

-- part: settings
-- Date-times without an offset are Beijing time, and months are cut in Beijing time.
SET TimeZone = 'Asia/Shanghai';

-- part: records_from_text
-- A CSV export, or a Parquet file holding the same columns as text: type every field.
CREATE OR REPLACE TEMP VIEW records AS
SELECT *
FROM (
    SELECT
        interaction_id,
        agent_id,
        team,
        channel,
        try_cast(started_at AS TIMESTAMPTZ)             AS started_at,
        try_cast(first_response_s AS DOUBLE)            AS first_response_s,
        -- a duration: seconds, or HH:MM:SS / MM:SS as the call centre exports it
        CASE WHEN contains(handle_time_s, ':')
             THEN epoch(try_cast(CASE WHEN length(handle_time_s) <= 5 THEN '00:' || handle_time_s
                                      ELSE handle_time_s END AS INTERVAL))
             ELSE try_cast(handle_time_s AS DOUBLE) END AS handle_time_s,
        try_cast(resolved_first_contact AS BOOLEAN)     AS resolved_first_contact,
        try_cast(repeat_contact_7d AS BOOLEAN)          AS repeat_contact_7d,
        try_cast(complaint AS BOOLEAN)                  AS complaint,
        try_cast(csat AS INTEGER)                       AS csat,
        try_cast(nps AS INTEGER)                        AS nps,
        transcript,
        try_cast(unauthorised_promise AS BOOLEAN)       AS unauthorised_promise,
        -- a nullable field is null only when its cell is empty; a value that cannot be typed is an error
        (first_response_s IS NULL OR try_cast(first_response_s AS DOUBLE) IS NOT NULL)
        AND (handle_time_s IS NULL OR
             CASE WHEN contains(handle_time_s, ':') THEN try_cast(CASE WHEN length(handle_time_s) <= 5
                  THEN '00:' || handle_time_s ELSE handle_time_s END AS INTERVAL) IS NOT NULL
                  ELSE try_cast(handle_time_s AS DOUBLE) IS NOT NULL END)
        AND (csat IS NULL OR try_cast(csat AS INTEGER) IS NOT NULL)
        AND (nps IS NULL OR try_cast(nps AS INTEGER) IS NOT NULL) AS typed
    FROM {source}
)
WHERE typed
  AND interaction_id IS NOT NULL AND agent_id IS NOT NULL AND team IS NOT NULL
  AND channel IN ('chat', 'phone', 'ticket', 'email')
  AND started_at IS NOT NULL
  AND (first_response_s IS NULL OR first_response_s >= 0)
  AND (handle_time_s IS NULL OR handle_time_s >= 0)
  AND resolved_first_contact IS NOT NULL AND repeat_contact_7d IS NOT NULL
  AND complaint IS NOT NULL AND unauthorised_promise IS NOT NULL
  AND (csat IS NULL OR csat BETWEEN 1 AND 5)
  AND (nps IS NULL OR nps BETWEEN 0 AND 10);

-- part: records_from_typed
-- A Parquet file with typed columns (TIMESTAMPTZ, BOOLEAN, numbers): only the rules remain.
-- Values that could not be typed when the file was written are null there.
CREATE OR REPLACE TEMP VIEW records AS
SELECT *
FROM {source}
WHERE interaction_id IS NOT NULL AND agent_id IS NOT NULL AND team IS NOT NULL
  AND channel IN ('chat', 'phone', 'ticket', 'email')
  AND started_at IS NOT NULL
  AND (first_response_s IS NULL OR first_response_s >= 0)
  AND (handle_time_s IS NULL OR handle_time_s >= 0)
  AND resolved_first_contact IS NOT NULL AND repeat_contact_7d IS NOT NULL
  AND complaint IS NOT NULL AND unauthorised_promise IS NOT NULL
  AND (csat IS NULL OR csat BETWEEN 1 AND 5)
  AND (nps IS NULL OR nps BETWEEN 0 AND 10);

-- part: query
-- A measured value is kept to 12 significant digits before it is scored
-- (docs/scheme-format.md, section 19), so that a sum's last binary digits never move points.
CREATE OR REPLACE TEMP MACRO c12(x) AS CAST(format('{:.12g}', x) AS DOUBLE);
-- linear points: clamp((value - from) / (to - from), 0, 1) x 100
-- (from and to as DOUBLE: 0.98 - 0.80 is 0.17999999999999994 in binary, not the DECIMAL 0.18;
-- and NULL stays NULL, which least/greatest would ignore)
CREATE OR REPLACE TEMP MACRO linear(x, lo, hi) AS CASE WHEN x IS NOT NULL THEN
    100 * least(1, greatest(0, (x - CAST(lo AS DOUBLE)) / (CAST(hi AS DOUBLE) - CAST(lo AS DOUBLE)))) END;

WITH
-- 1. One row per agent-month: the counts and sums every measure needs.
counts AS (
    SELECT
        agent_id,
        strftime(started_at, '%Y-%m')                                  AS period,
        count(*)                                                       AS records,
        -- csat: share of answers >= 4 among the answered (top-2-box)
        count(csat)                                                    AS csat_n,
        count_if(csat >= 4)                                            AS csat_top2,
        -- nps: promoters (9-10) minus detractors (0-6) among the answered
        count(nps)                                                     AS nps_n,
        count_if(nps >= 9)                                             AS nps_promoters,
        count_if(nps <= 6)                                             AS nps_detractors,
        -- complaint_rate, fcr, no_repeat: shares over every record (the fields are never null)
        count_if(complaint)                                            AS complaints,
        count_if(resolved_first_contact)                               AS resolved,
        count_if(NOT repeat_contact_7d)                                AS not_repeated,
        -- first_response: in time against the channel's standard; no response time, not counted
        count(first_response_s)                                        AS fr_n,
        count_if(first_response_s <= CASE channel WHEN 'chat' THEN 60 WHEN 'phone' THEN 30
                                                  ELSE 7200 END)       AS fr_in_time,
        -- conformance: transcripts without a forbidden (deflecting) phrase
        count(transcript)                                              AS tr_n,
        count_if(NOT (contains(transcript, '不清楚') OR contains(transcript, '不归我管')
                      OR contains(transcript, '不知道') OR contains(transcript, '没办法')))
                                                                       AS tr_clean,
        -- aht: mean handle time of the records that have one
        count(handle_time_s)                                           AS aht_n,
        sum(handle_time_s)                                             AS aht_sum,
        -- the veto
        bool_or(unauthorised_promise)                                  AS promised
    FROM records
    GROUP BY ALL
),

-- 2. Each indicator's value (12 significant digits); NULL when it is not applicable
--    (sample 0, or below min_sample: csat 5, nps 10).
vals AS (
    SELECT
        agent_id, period, records, promised,
        CASE WHEN csat_n >= 5  THEN c12(csat_top2 / csat_n) END                                AS csat,
        CASE WHEN nps_n >= 10  THEN c12(100 * (nps_promoters - nps_detractors) / nps_n) END  AS nps,
        c12(complaints / records)                                                              AS complaint_rate,
        CASE WHEN fr_n > 0     THEN c12(fr_in_time / fr_n) END                                 AS first_response,
        CASE WHEN tr_n > 0     THEN c12(tr_clean / tr_n) END                                   AS conformance,
        CASE WHEN aht_n > 0    THEN c12(aht_sum / aht_n) END                                   AS aht,
        c12(resolved / records)                                                                AS fcr,
        c12(not_repeated / records)                                                            AS no_repeat,
        c12(csat_n / records)                                                                  AS survey_response_rate
    FROM counts
),

-- 3. Points by each indicator's scoring rule (NULL stays NULL: not applicable).
points AS (
    SELECT
        agent_id, period, records, promised,
        CASE WHEN csat >= 0.90 THEN 100 WHEN csat >= 0.80 THEN 85 WHEN csat >= 0.65 THEN 60
             WHEN csat IS NOT NULL THEN 0 END                                          AS p_csat,
        linear(nps, -20, 50)                                                           AS p_nps,
        CASE WHEN complaint_rate <= 0.02 THEN 100 WHEN complaint_rate <= 0.05 THEN 80
             WHEN complaint_rate <= 0.10 THEN 50 ELSE 0 END                            AS p_complaint_rate,
        linear(first_response, 0.80, 0.98)                                             AS p_first_response,
        CASE WHEN conformance >= 1.0 THEN 100 WHEN conformance >= 0.95 THEN 80
             WHEN conformance >= 0.90 THEN 60 WHEN conformance >= 0.80 THEN 40
             WHEN conformance IS NOT NULL THEN 0 END                                   AS p_conformance,
        linear(aht, 900, 300)                                                          AS p_aht,
        linear(fcr, 0.65, 0.85)                                                        AS p_fcr,
        CASE WHEN no_repeat >= 0.95 THEN 100 WHEN no_repeat >= 0.90 THEN 80
             WHEN no_repeat >= 0.80 THEN 60 ELSE 0 END                                 AS p_no_repeat,
        linear(survey_response_rate, 0.30, 0.60)                                       AS p_survey_response_rate
    FROM vals
),

-- 4. The weights of the indicators that apply, per dimension (a not-applicable
--    indicator's weight goes to the others of its dimension in proportion to theirs).
weights AS (
    SELECT *,
        (CASE WHEN p_csat IS NOT NULL THEN 50 ELSE 0 END
         + CASE WHEN p_nps IS NOT NULL THEN 30 ELSE 0 END
         + CASE WHEN p_complaint_rate IS NOT NULL THEN 20 ELSE 0 END)        AS w_perception,
        (CASE WHEN p_first_response IS NOT NULL THEN 40 ELSE 0 END
         + CASE WHEN p_conformance IS NOT NULL THEN 30 ELSE 0 END
         + CASE WHEN p_aht IS NOT NULL THEN 30 ELSE 0 END)                   AS w_process,
        (CASE WHEN p_fcr IS NOT NULL THEN 60 ELSE 0 END
         + CASE WHEN p_no_repeat IS NOT NULL THEN 40 ELSE 0 END)             AS w_outcome,
        (CASE WHEN p_survey_response_rate IS NOT NULL THEN 100 ELSE 0 END)   AS w_support
    FROM points
),

-- 5. Dimension scores: each applicable indicator's share of its dimension's weight
--    times its points. NULL when no indicator of the dimension applies.
dimensions AS (
    SELECT agent_id, period, records, promised,
        CASE WHEN w_perception > 0 THEN
            coalesce(50 / w_perception * p_csat, 0) + coalesce(30 / w_perception * p_nps, 0)
            + coalesce(20 / w_perception * p_complaint_rate, 0) END                          AS perception,
        CASE WHEN w_process > 0 THEN
            coalesce(40 / w_process * p_first_response, 0) + coalesce(30 / w_process * p_conformance, 0)
            + coalesce(30 / w_process * p_aht, 0) END                                         AS process,
        CASE WHEN w_outcome > 0 THEN
            coalesce(60 / w_outcome * p_fcr, 0) + coalesce(40 / w_outcome * p_no_repeat, 0) END AS outcome,
        CASE WHEN w_support > 0 THEN
            coalesce(100 / w_support * p_survey_response_rate, 0) END                        AS support
    FROM weights
),

-- 6. The total: each dimension that has a score weighs 30/30/30/10, redistributed the same way.
totals AS (
    SELECT *,
        CASE WHEN perception IS NOT NULL THEN 30 ELSE 0 END + CASE WHEN process IS NOT NULL THEN 30 ELSE 0 END
        + CASE WHEN outcome IS NOT NULL THEN 30 ELSE 0 END + CASE WHEN support IS NOT NULL THEN 10 ELSE 0 END
                                                                                       AS w_total
    FROM dimensions
),
scored AS (
    SELECT agent_id, period, records, promised,
        CASE WHEN w_total > 0 THEN
            coalesce(30 / w_total * perception, 0) + coalesce(30 / w_total * process, 0)
            + coalesce(30 / w_total * outcome, 0) + coalesce(10 / w_total * support, 0) END AS total
    FROM totals
),

-- 7. Printed score: half-even to 2 decimals, of the number as written (its shortest form).
rounded AS (
    SELECT *, round_even(CAST(CAST(total AS VARCHAR) AS DECIMAL(38, 30)), 2) AS score
    FROM scored
)

-- 8. The grade, read from the printed score; the unauthorised-promise veto makes it 不合格.
SELECT
    agent_id || '/' || period AS subject,
    agent_id,
    period,
    records,
    score,
    CASE WHEN score IS NULL THEN NULL
         WHEN promised THEN '不合格'
         WHEN score >= 90 THEN '优秀'
         WHEN score >= 75 THEN '良好'
         WHEN score >= 60 THEN '合格'
         ELSE '不合格' END AS grade,
    CASE WHEN promised THEN 'unauthorised_promise' ELSE '' END AS vetoes
FROM rounded
ORDER BY agent_id, period
