"""How sure a grade is: the stability figure, the uncertain flag, and where a committee reads them."""

from __future__ import annotations

import csv
from pathlib import Path
from statistics import NormalDist

import qualiscore as qs

SCHEME = """\
format: qualiscore/v1
scheme: sure
version: s1
effective_from: 2026-01-01
subject:
  group_by: [agent_id]
  period: {{field: day, every: month}}
records:
  id: id
  fields:
    id: {{type: string}}
    agent_id: {{type: string}}
    day: {{type: date}}
    resolved: {{type: boolean}}
    rude: {{type: boolean}}
{confidence}dimensions:
  - id: all
    weight: 1
    indicators:
      - {{id: fcr, weight: 1, measure: {{share: resolved}}, scoring: {{linear: {{from: 0, to: 1}}}}}}
vetoes:
  - {{id: rude, when: {{any: rude}}, effect: {{grade: poor}}, reason: rude to a customer}}
grades:
  - {{name: good, min: 50}}
  - {{name: poor, min: 0}}
"""


def _score(tmp_path: Path, agents: dict[str, tuple[int, int, bool]], confidence: str = "") -> qs.Result:
    """Each agent's (records, resolved, rude) scored by the one-indicator scheme."""
    scheme = tmp_path / "sure.yaml"
    scheme.write_text(SCHEME.format(confidence=confidence), encoding="utf-8")
    data = tmp_path / "data.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "agent_id", "day", "resolved", "rude"])
        for agent, (n, resolved, rude) in agents.items():
            for k in range(n):
                w.writerow([f"{agent}-{k}", agent, "2026-03-02", str(k < resolved).lower(), str(rude and k == 0).lower()])
    return qs.score(scheme, [str(data)], engine="rows")


def _cards(result: qs.Result) -> dict[str, qs.Scorecard]:
    return {c.keys["agent_id"]: c for c in result.scorecards}


def test_a_grade_no_plausible_value_can_change_is_certain(tmp_path: Path) -> None:
    cards = _cards(_score(tmp_path, {"sure": (1000, 990, False)}))
    assert cards["sure"].grade == "good" and cards["sure"].stability == 1.0 and not cards["sure"].uncertain


def test_a_score_on_a_grade_boundary_is_a_coin_toss(tmp_path: Path) -> None:
    card = _cards(_score(tmp_path, {"edge": (100, 50, False)}))["edge"]
    assert card.score == 50.0 and card.grade == "good"
    assert card.stability is not None and 0.4 <= card.stability <= 0.6 and card.uncertain


def test_more_records_make_the_same_rate_surer(tmp_path: Path) -> None:
    cards = _cards(_score(tmp_path, {"few": (20, 12, False), "many": (2000, 1200, False)}))
    assert cards["few"].score == cards["many"].score == 60.0
    assert cards["few"].stability < cards["many"].stability == 1.0  # type: ignore[operator]


def test_a_grade_set_by_a_veto_is_certain(tmp_path: Path) -> None:
    card = _cards(_score(tmp_path, {"rude": (100, 50, True)}))["rude"]
    assert card.grade == "poor" and card.decided_by == "veto:rude" and card.stability == 1.0


def test_the_scheme_sets_the_level_and_the_threshold(tmp_path: Path) -> None:
    default = _cards(_score(tmp_path, {"edge": (100, 50, False)}))["edge"]
    relaxed = _cards(_score(tmp_path, {"edge": (100, 50, False)},
                            "confidence: {level: 0.9, stable_at: 0.3}\n"))["edge"]
    assert relaxed.uncertain is False and (relaxed.level, relaxed.stable_at) == (0.9, 0.3)
    wide, narrow = default.indicators[0].interval, relaxed.indicators[0].interval
    assert wide is not None and narrow is not None and wide[0] < narrow[0] < narrow[1] < wide[1]


def test_the_same_numbers_give_the_same_figure_on_every_run_and_engine(tmp_path: Path) -> None:
    agents = {"a": (30, 16, False), "b": (30, 16, False)}
    first, second = _cards(_score(tmp_path, agents)), _cards(_score(tmp_path, agents))
    assert first["a"].stability == second["a"].stability == first["b"].stability  # no random draws


def test_the_figure_is_the_normal_probability_of_staying_in_the_band(tmp_path: Path) -> None:
    card = _cards(_score(tmp_path, {"a": (40, 26, False)}))["a"]  # share 0.65 → 65 points, good from 50
    low, high = card.indicators[0].interval  # type: ignore[misc]
    sd = 100 * (high - low) / (2 * 1.959963984540054)  # the points' standard error, from the interval's ends
    assert card.stability == round(1 - NormalDist().cdf((50 - 0.005 - 65) / sd), 3)


def test_explain_shows_each_interval_and_the_grades_stability(tmp_path: Path) -> None:
    result = _score(tmp_path, {"edge": (100, 50, False)})
    text = result.explain(result.scorecards[0].subject)
    assert "share = 0.5 [95% CI 0.4038 – 0.5962]" in text
    assert "uncertain (below 80%)" in text and "Stability " in text


def test_diff_with_data_lists_the_subjects_whose_grade_is_uncertain(tmp_path: Path) -> None:
    from qualiscore.diff.impact import impact
    from qualiscore.diff.render import render_text
    from qualiscore.loader import load_path
    from qualiscore.schemes import load_scheme

    rules = Path(__file__).resolve().parents[1] / "rules" / "cs-quality"
    data = str(Path(__file__).resolve().parents[1] / "data" / "sample" / "interactions.csv")
    old, new = load_scheme(rules / "2026Q1.yaml"), load_scheme(rules / "2026Q2.yaml")
    imp = impact(old, new, [data])
    cards = {c.subject: c for c in qs.score(new, [data]).scorecards}
    assert imp.uncertain and all(m.uncertain for m in imp.uncertain)
    assert {m.subject for m in imp.uncertain} >= {s for s, c in cards.items() if c.uncertain}
    assert [m.new_stability for m in imp.uncertain if m.subject in cards] == [
        cards[m.subject].stability for m in imp.uncertain if m.subject in cards]
    text = render_text(load_path(rules / "2026Q1.yaml"), load_path(rules / "2026Q2.yaml"), [], imp)
    assert f"{len(imp.uncertain)} subject(s) with an uncertain grade" in text
    assert imp.as_dict()["uncertain"][0]["subject"] == imp.uncertain[0].subject
