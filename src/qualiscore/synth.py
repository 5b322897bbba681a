"""Deterministic synthetic customer-service records for the demo, the tests and the benchmarks.

Three generators, standard library only:

* :func:`generate` — interaction records for the ``cs-quality`` scheme, one row per
  chat, call, ticket or e-mail, exactly as a CSV export would show them (strings;
  an empty string is null). Rows come in ``started_at`` order and their ids ascend.
* :func:`generate_qa` — record-level quality-inspection forms (质检表): one row per
  inspected interaction, with yes/no checks written 是/否.
* :func:`generate_sources` — one run's four record sources for a scheme with
  ``sources:``: the interactions (通话记录), and the surveys (满意度评价), QA inspections
  (质检记录) and complaint tickets (投诉工单) that name them, each table in time order.

Every agent gets a skill in [0, 1], drawn once from the seed; skill moves response
times, first-contact resolution, satisfaction, the structure of the transcript and the
chance of a forbidden phrase, so that an agent-month spreads over all four grades of a
typical scheme (优秀 / 良好 / 合格 / 不合格). Skills are stratified (one per slice of
[0, 1], then shuffled) so even a handful of agents covers the whole range.

A fraction ``dirty`` of the rows breaks the data contract in one field each (a channel
outside the enum, a negative response time, an impossible timestamp, a csat of 7, a
boolean "maybe"), rotating through the kinds so a demo shows rejects of every kind; in
``generate_sources`` every table has its own dirty rows, among them surveys and
inspections naming an interaction the export does not hold.
Dirty rows are chosen by their own random stream, so ``dirty=0`` and ``dirty=0.01``
give the same clean rows.

Same seed and arguments give byte-identical files: only ``random.Random.random()`` is
used (its sequence for an integer seed is stable across Python versions); normal
deviates come from a precomputed quantile table rather than ``random.gauss``.
Generation streams: rows are produced one at a time, so ``write_csv`` of ten million
rows runs in bounded memory.

Command line (``-o`` defaults to standard output)::

    python -m qualiscore.synth cs -n 3000 --seed 7 --start 2026-04-01 --months 3 --agents 24 -o out.csv
    python -m qualiscore.synth qa -n 300 --start 2026-04-01 -o qa.csv
    qualiscore synth cs-sources -n 3000 --start 2026-07-01 --months 3 --agents 24 -o DIR
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import heapq
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, timedelta
from random import Random
from statistics import NormalDist
from typing import IO, Any

from .i18n import _

__all__ = [
    "COLUMNS",
    "FORBIDDEN_PHRASES",
    "QA_COLUMNS",
    "QA_REVIEW_COLUMNS",
    "SOURCE_COLUMNS",
    "SOURCE_TABLES",
    "generate",
    "generate_qa",
    "generate_qa_reviews",
    "generate_sources",
    "write_csv",
    "write_jsonl",
    "write_qa_csv",
    "write_qa_jsonl",
    "write_qa_reviews_csv",
    "write_sources_csv",
]

COLUMNS: tuple[str, ...] = (
    "interaction_id",
    "agent_id",
    "team",
    "channel",
    "started_at",
    "first_response_s",
    "handle_time_s",
    "resolved_first_contact",
    "repeat_contact_7d",
    "complaint",
    "csat",
    "nps",
    "transcript",
    "unauthorised_promise",
)

QA_COLUMNS: tuple[str, ...] = (
    "interaction_id",
    "agent_id",
    "team",
    "channel",
    "inspected_on",
    "greeting",
    "restated_need",
    "explained_clearly",
    "step_by_step",
    "positive_phrasing",
    "empathy",
    "solution_options",
    "promise_beyond_authority",
    "transcript",
)

FORBIDDEN_PHRASES: tuple[str, ...] = ("不清楚", "不归我管", "不知道", "没办法")

CHANNELS: tuple[str, ...] = ("chat", "phone", "ticket", "email")

TZ = "+08:00"

# --------------------------------------------------------------------------------------------
# Phrase lists (agent side of the conversation only, so a customer's words never trip the
# forbidden-phrase check). None of the clean phrases contains a forbidden phrase; the tests
# check that.

_GREETINGS: dict[str, tuple[str, ...]] = {
    "chat": (
        "您好，很高兴为您服务，请问有什么可以帮您？",
        "您好，在线客服为您服务。",
        "亲，您好，请问有什么可以帮到您？",
    ),
    "phone": (
        "您好，很高兴为您服务。",
        "您好，感谢您的来电，请问有什么可以帮您？",
        "您好，客服热线为您服务。",
    ),
    "ticket": (
        "您好，您的工单已受理。",
        "您好，我们已收到您提交的工单。",
    ),
    "email": (
        "您好，您的邮件已收到，感谢您的反馈。",
        "您好，感谢您来信。",
    ),
}

# (need, three solution steps, action for 我会帮您…, way for 我们将通过…的方式, three options to offer)
_TOPICS: tuple[tuple[str, tuple[str, str, str], str, str, tuple[str, str, str]], ...] = (
    ("查询订单的物流进度",
     ("我为您查询一下物流信息", "包裹目前在派送途中，预计明天送达", "我已为您备注加急派送"),
     "催促快递尽快派送", "加急派送", ("加急派送", "改约送货时间", "补偿优惠券")),
    ("申请这笔订单的退款",
     ("我为您核实订单和付款信息", "核实无误后为您提交退款申请", "退款会在1到3个工作日内原路退回"),
     "提交退款申请", "原路退款", ("原路退款", "退到账户余额", "补偿优惠券")),
    ("更换收到的商品",
     ("请您拍照上传商品的问题", "我为您登记换货申请并安排上门取件", "新商品会在取件后48小时内发出"),
     "登记换货", "上门取件换货", ("换货", "退货退款", "补偿优惠券")),
    ("解决账户无法登录的问题",
     ("请您确认账户绑定的手机号", "我为您发送一条验证短信重置密码", "重置后请使用新密码重新登录"),
     "重置登录密码", "短信验证重置密码", ("短信验证重置密码", "人工核验身份后解锁", "更换绑定手机号")),
    ("变更手机话费套餐",
     ("我为您查询当前套餐和使用情况", "为您对比两个更合适的套餐", "确认后新套餐将于下月1日生效"),
     "办理套餐变更", "变更套餐", ("下月生效的新套餐", "本月加购流量包", "保留原套餐")),
    ("开具这笔订单的电子发票",
     ("请您提供开票抬头和税号", "我为您提交开票申请", "电子发票会在24小时内发送到您的邮箱"),
     "开具电子发票", "电子发票", ("电子发票", "纸质发票邮寄", "增值税专用发票")),
    ("报修家里的宽带故障",
     ("请您重启一下光猫和路由器", "我为您远程检测线路状态", "如仍无法上网，我为您预约维修师傅上门"),
     "预约上门维修", "预约上门维修", ("远程修复", "预约上门维修", "临时流量补偿")),
    ("查询会员积分为什么没有到账",
     ("我为您查询积分明细", "这笔积分会在确认收货后7天内到账", "我已为您提交积分补录申请"),
     "补录积分", "补录积分", ("补录积分", "等值优惠券补偿", "延长积分有效期")),
)

_RESTATE = ("您是想{}，对吗？", "跟您确认一下，您需要{}，是吗？", "我理解您的问题是想{}。")
_STEP_LINKS = ("首先，", "然后，", "最后，")
# Per topic: the three steps as one step-by-step sentence (首先…；然后…；最后…。).
_STEPWISE = tuple("；".join(link + step for link, step in zip(_STEP_LINKS, t[1])) + "。" for t in _TOPICS)
# {} is the topic's action in the first and last template, its way in the middle one.
_POSITIVE = ("我会帮您{}。", "我们将通过{}的方式为您解决。", "请您放心，我会帮您{}，并跟进到底。")
_EMPATHY = ("非常理解您的心情，给您添麻烦了。", "让您久等了，非常抱歉。", "理解您着急的心情。")
_CLOSINGS = (
    "请问还有其他可以帮您的吗？",
    "感谢您的耐心等待，祝您生活愉快！",
    "如有其他问题，欢迎随时联系我们。",
)
_FORBIDDEN_SENTENCES = (
    "这个问题我也不清楚。",
    "这个不归我管，您去问问别的部门吧。",
    "具体什么原因我也不知道。",
    "这个我们也没办法。",
    "不清楚，系统就是这样显示的。",
)
_PROMISES = (
    "放心，我保证给您全额退款。",
    "我可以直接给您免单，不用走审核。",
    "我个人保证明天一定送到，送不到就赔偿您。",
)

# --------------------------------------------------------------------------------------------
# Time: business hours weighted, Asia/Shanghai (+08:00).

_HOUR_WEIGHTS = (
    0.04, 0.02, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15,  # 00-07
    0.55, 1.00, 1.00, 1.00, 0.70, 0.85, 1.00, 1.00,  # 08-15
    1.00, 0.95, 0.60, 0.45, 0.45, 0.35, 0.18, 0.08,  # 16-23
)
_WEEKEND_WEIGHT = 0.55
_HOLIDAY_WEIGHT = 0.45

# China's 2026 public holidays and make-up workdays (调休), as in the cs-quality schemes;
# other years just get weekday/weekend weights.
_HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in (
        "2026-01-01", "2026-01-02", "2026-01-03",
        "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
        "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
        "2026-04-04", "2026-04-05", "2026-04-06",
        "2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05",
        "2026-06-19", "2026-06-20", "2026-06-21",
        "2026-09-25", "2026-09-26", "2026-09-27",
        "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05",
        "2026-10-06", "2026-10-07",
    )
)
_WORKDAYS = frozenset(
    date.fromisoformat(d)
    for d in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")
)

_MMSS = tuple(f"{s // 60:02d}:{s % 60:02d}" for s in range(3600))

# Standard normal quantiles at the midpoints of 8192 equal-probability slices: z = _Z[int(u * 8192)].
_ZN = 8192
_Z = tuple(NormalDist().inv_cdf((i + 0.5) / _ZN) for i in range(_ZN))


def _parse_start(start: str) -> date:
    try:
        return date.fromisoformat(start)
    except (TypeError, ValueError):
        raise ValueError(_("start must be a date YYYY-MM-DD, got {start!r}", start=start)) from None


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _is_business_day(day: date) -> bool:
    if day in _WORKDAYS:
        return True
    return day.isoweekday() < 6 and day not in _HOLIDAYS


def _days(first: date, months: int) -> list[date]:
    if months < 1:
        raise ValueError(_("months must be at least 1, got {months}", months=months))
    end = _add_months(first, months)
    return [first + timedelta(days=k) for k in range((end - first).days)]


def _time_bins(first: date, months: int) -> tuple[list[float], list[str]]:
    """Cumulative upper bounds (normalised to 1) and "YYYY-MM-DDTHH:" prefixes of hour bins."""
    weights: list[float] = []
    prefixes: list[str] = []
    for day in _days(first, months):
        if _is_business_day(day):
            dw = 1.0
        elif day in _HOLIDAYS:
            dw = _HOLIDAY_WEIGHT
        else:
            dw = _WEEKEND_WEIGHT
        iso = day.isoformat()
        for hour, hw in enumerate(_HOUR_WEIGHTS):
            weights.append(dw * hw)
            prefixes.append(f"{iso}T{hour:02d}:")
    total = math.fsum(weights)
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc / total)
    cum[-1] = 1.0
    return cum, prefixes


def _ascending_uniforms(rnd: Callable[[], float], n: int) -> Iterator[float]:
    """n sorted uniforms on [0, 1), ascending, in O(1) memory (order statistics, top down)."""
    cur = 1.0
    for k in range(n, 0, -1):
        cur *= (1.0 - rnd()) ** (1.0 / k)  # 1 - rnd() is in (0, 1]
        yield 1.0 - cur


# --------------------------------------------------------------------------------------------
# Agents


def _agents(seed: int, count: int) -> list[tuple[str, str, float]]:
    """(agent_id, team, skill) per agent, deterministic in seed and count."""
    if count < 1:
        raise ValueError(_("agents must be at least 1, got {agents}", agents=count))
    rng = Random(seed * 7919 + 101)
    rnd = rng.random
    # one per slice of [0, 1], bent towards the top: most agents are competent, a few are weak
    skills = [((k + rnd()) / count) ** 0.8 for k in range(count)]
    for k in range(count - 1, 0, -1):  # Fisher-Yates with random() only
        j = int(rnd() * (k + 1))
        skills[k], skills[j] = skills[j], skills[k]
    teams = min(6, max(1, math.ceil(count / 4)))
    width = max(3, len(str(count)))
    return [(f"A{k + 1:0{width}d}", f"T{k % teams + 1}", skills[k]) for k in range(count)]


def _risky(seed: int, count: int, overall: float, per_row: float) -> dict[int, float]:
    """The few agents behind a rare breach, and their per-row rate, so the overall rate is `overall`."""
    k = max(1, min(count, round(overall * count / per_row)))
    rnd = Random(seed * 104729 + 3).random
    picked: dict[int, float] = {}
    rate = min(1.0, overall * count / k)
    while len(picked) < k:
        picked[int(rnd() * count)] = rate
    return picked


def _default_agents(n: int, agents: int | None) -> int:
    return max(5, n // 400) if agents is None else agents


# --------------------------------------------------------------------------------------------
# Dirty rows: jittered systematic positions, one per block of 1/dirty rows.


def _dirty_positions(seed: int, dirty: float) -> Iterator[int]:
    """Strictly increasing row indexes: one at a random place in each block of 1/dirty rows."""
    if dirty <= 0.0:
        return
    period = 1.0 / dirty
    rnd = Random(seed * 1_000_003 + 17).random
    last = -1
    j = 0
    while True:
        # neighbouring blocks can share an integer when the period is not a whole number
        last = max(last + 1, int((j + rnd()) * period))
        yield last
        j += 1


def _check(n: int, start: str, months: int, agents: int | None, dirty: float) -> None:
    """Refuse bad arguments up front (before a file is opened or a row produced)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(_("n must be a non-negative integer, got {n!r}", n=n))
    _parse_start(start)
    if months < 1:
        raise ValueError(_("months must be at least 1, got {months}", months=months))
    if agents is not None and agents < 1:
        raise ValueError(_("agents must be at least 1, got {agents}", agents=agents))
    if not 0.0 <= dirty <= 1.0:
        raise ValueError(_("dirty must be a fraction in [0, 1], got {dirty}", dirty=dirty))


_BOOL_COLUMNS = (7, 8, 9, 13)  # indexes in COLUMNS


def _dirty_kinds(seed: int, count: int = 5) -> Iterator[int]:
    """Kinds 0 to count-1 for successive dirty rows: each cycle is a fresh shuffle of all of them."""
    rnd = Random(seed * 1_000_003 + 29).random
    while True:
        kinds = list(range(count))
        for k in range(count - 1, 0, -1):
            j = int(rnd() * (k + 1))
            kinds[k], kinds[j] = kinds[j], kinds[k]
        yield from kinds


def _corrupt(row: list[str], kind: int, k: int) -> None:
    """Break the k-th dirty row in one field, the way `kind` says."""
    if kind == 0:
        row[3] = "wechat"
    elif kind == 1:
        row[5] = "-5"
    elif kind == 2:
        row[4] = "2026-13-45 25:00"
    elif kind == 3:
        row[10] = "7"
    else:
        row[_BOOL_COLUMNS[(k // 5) % 4]] = "maybe"


# --------------------------------------------------------------------------------------------
# Interaction records (cs-quality)

# Per channel: first response (median s, sigma, slow-tail median s, tail sigma),
# handle time (median s, sigma).
_CHANNEL_PARAMS = {
    "chat": (36.0, 0.45, 260.0, 0.35, 330.0, 0.55),
    "phone": (16.0, 0.45, 55.0, 0.35, 300.0, 0.50),
    "ticket": (4320.0, 0.35, 11000.0, 0.30, 420.0, 0.60),
    "email": (4320.0, 0.35, 11000.0, 0.30, 480.0, 0.60),
}

# How strongly skill moves the median first response (log scale, per unit of skill).
_SKILL_ON_RESPONSE = {"chat": 0.8, "phone": 0.5, "ticket": 0.35, "email": 0.35}

_BOOL = ("false", "true")


def _width(n: int) -> int:
    return max(7, len(str(n)))


def _rows(n: int, seed: int, start: str, months: int, agents: int | None, dirty: float) -> Iterator[list[str]]:
    _check(n, start, months, agents, dirty)
    return _cs_rows(n, seed, start, months, agents, dirty)


def _cs_rows(n: int, seed: int, start: str, months: int, agents: int | None, dirty: float) -> Iterator[list[str]]:
    first = _parse_start(start)
    count = _default_agents(n, agents)
    roster = _agents(seed, count)
    risky = _risky(seed, count, overall=0.003, per_row=0.04)
    cum, prefixes = _time_bins(first, months)
    dirty_at = _dirty_positions(seed, dirty)
    next_dirty = next(dirty_at, -1)
    kinds = _dirty_kinds(seed)
    n_dirty = 0

    # Per agent: id, team, and the parameters the skill moves.
    prof = []
    for a, (agent_id, team, s) in enumerate(roster):
        d = 0.5 - s  # > 0 for weak agents
        per_channel = []
        for ch in CHANNELS:
            fr_med, fr_sig, tail_med, tail_sig, ht_med, ht_sig = _CHANNEL_PARAMS[ch]
            per_channel.append((
                ch,
                math.log(fr_med) + _SKILL_ON_RESPONSE[ch] * d,
                fr_sig,
                math.log(tail_med),
                tail_sig,
                math.log(ht_med) + 0.5 * d,
                ht_sig,
                _GREETINGS[ch],
            ))
        prof.append((
            agent_id,
            team,
            per_channel,
            0.01 + 0.06 * (1.0 - s),  # chance of a slow first response (queue overflow)
            0.55 + 0.40 * s,  # first-contact resolution
            3.45 + 1.4 * s,  # satisfaction baseline
            0.16 + 0.28 * s,  # survey answered
            0.005 + 0.085 * (1.0 - s),  # forbidden phrase in the transcript
            risky.get(a, 0.0),  # unauthorised promise
            0.55 + 0.40 * s,  # restates the need
            0.35 + 0.60 * s,  # explains step by step
            0.55 + 0.40 * s,  # positive phrasing
        ))

    rng = Random(seed)
    rnd = rng.random
    exp = math.exp
    Z, ZN = _Z, _ZN
    MMSS = _MMSS
    BOOL = _BOOL
    n_agents = len(prof)
    width = _width(n)
    topics = _TOPICS
    n_topics = len(topics)
    # complaint probability by satisfaction, in half points (sat < 0.5, < 1.0, ...)
    complaint_p = (0.40, 0.40, 0.40, 0.30, 0.18, 0.08, 0.03, 0.012, 0.006, 0.004, 0.003, 0.003)
    bin_i = 0
    hi = cum[0]
    lo = 0.0

    for i, u in enumerate(_ascending_uniforms(rnd, n)):
        # started_at: sorted across the whole file
        while u >= hi and bin_i < len(cum) - 1:
            bin_i += 1
            lo, hi = hi, cum[bin_i]
        sec = int((u - lo) / (hi - lo) * 3600.0) if hi > lo else 0
        started = prefixes[bin_i] + MMSS[sec if sec < 3600 else 3599] + TZ

        (agent_id, team, per_channel, p_slow, p_fcr, sat0, p_survey, p_forbid, p_promise,
         p_restate, p_steps, p_positive) = prof[int(rnd() * n_agents)]

        r = rnd()
        c = 0 if r < 0.45 else 1 if r < 0.75 else 2 if r < 0.90 else 3
        channel, fr_mu, fr_sig, tail_mu, tail_sig, ht_mu, ht_sig, greetings = per_channel[c]

        # first response
        if rnd() < 0.02:
            first_response = ""
        elif rnd() < p_slow:
            first_response = str(int(exp(tail_mu + tail_sig * Z[int(rnd() * ZN)])))
        else:
            first_response = str(int(exp(fr_mu + fr_sig * Z[int(rnd() * ZN)])))

        resolved = rnd() < p_fcr
        # handle time: unresolved contacts take longer
        r = rnd()
        if r < 0.03:
            handle = ""
        else:
            ht = int(exp(ht_mu + ht_sig * Z[int(rnd() * ZN)]) * (1.0 if resolved else 1.25)) + 15
            handle = f"{ht // 3600:02d}:" + MMSS[ht % 3600] if r < 0.13 else str(ht)

        repeat = rnd() < (0.03 if resolved else 0.35)
        sat = sat0 + (0.5 if resolved else -0.9) + 0.9 * Z[int(rnd() * ZN)]
        si = int(sat * 2.0)
        complaint = rnd() < complaint_p[0 if si < 0 else si if si < 12 else 11]

        answered = rnd() < p_survey
        if answered:
            v = int(sat + 0.5)
            csat = "1" if v < 1 else "5" if v > 5 else str(v)
        else:
            csat = ""
        if rnd() < (0.35 if answered else 0.02):
            v = int(2.2 * sat - 1.0 + 1.2 * Z[int(rnd() * ZN)])
            nps = "0" if v < 0 else "10" if v > 10 else str(v)
        else:
            nps = ""

        promise = p_promise > 0.0 and rnd() < p_promise

        # transcript
        if rnd() < 0.05:
            transcript = ""
        else:
            t = int(rnd() * n_topics)
            need, steps, action, way, _unused = topics[t]
            parts = [greetings[int(rnd() * len(greetings))]]
            if rnd() < p_restate:
                parts.append(_RESTATE[int(rnd() * 3)].format(need))
            if not resolved and rnd() < 0.5:
                parts.append(_EMPATHY[int(rnd() * 3)])
            if rnd() < p_steps:
                parts.append(_STEPWISE[t])
            else:
                parts.append(steps[int(rnd() * 3)] + "。")
            if rnd() < p_forbid:
                parts.append(_FORBIDDEN_SENTENCES[int(rnd() * 5)])
            elif rnd() < p_positive:
                k = int(rnd() * 3)
                parts.append(_POSITIVE[k].format(way if k == 1 else action))
            if promise:
                parts.append(_PROMISES[int(rnd() * 3)])
            if rnd() < 0.7:
                parts.append(_CLOSINGS[int(rnd() * 3)])
            transcript = "".join(parts)

        row = [
            f"I{i + 1:0{width}d}", agent_id, team, channel, started, first_response, handle,
            BOOL[resolved], BOOL[repeat], BOOL[complaint], csat, nps, transcript, BOOL[promise],
        ]
        if i == next_dirty:
            _corrupt(row, next(kinds), n_dirty)
            n_dirty += 1
            next_dirty = next(dirty_at, -1)
        yield row


def generate(
    n: int,
    *,
    seed: int = 7,
    start: str = "2026-04-01",
    months: int = 1,
    agents: int | None = None,
    dirty: float = 0.01,
) -> Iterator[dict[str, str]]:
    """Yield n interaction records as CSV-export strings ("" is null), in started_at order.

    ``started_at`` falls in [start, start + months months), Beijing time, mostly in
    business hours. ``agents`` defaults to max(5, n // 400). A fraction ``dirty`` of the
    rows breaks the cs-quality data contract in one field each.
    """
    rows = _rows(n, seed, start, months, agents, dirty)  # checks the arguments now
    return (dict(zip(COLUMNS, row)) for row in rows)


# --------------------------------------------------------------------------------------------
# QA inspection forms

_YES_NO = ("否", "是")


def _qa_rows(n: int, seed: int, start: str, dirty: float) -> Iterator[list[str]]:
    _check(n, start, 1, None, dirty)
    return _qa_form_rows(n, seed, start, dirty)


def _qa_form_rows(n: int, seed: int, start: str, dirty: float) -> Iterator[list[str]]:
    first = _parse_start(start)
    days = [d.isoformat() for d in _days(first, 1) if _is_business_day(d)] or [first.isoformat()]
    count = max(5, n // 20)
    roster = _agents(seed, count)
    risky = _risky(seed, count, overall=0.01, per_row=0.08)
    dirty_at = _dirty_positions(seed + 1, dirty)
    next_dirty = next(dirty_at, -1)
    kinds = _dirty_kinds(seed + 1)
    n_dirty = 0
    rng = Random(seed * 31 + 5)
    rnd = rng.random
    width = max(7, len(str(5 * n)))
    n_days = len(days)

    for i, u in enumerate(_ascending_uniforms(rnd, n)):
        a = int(rnd() * count)
        agent_id, team, s = roster[a]
        r = rnd()
        c = 0 if r < 0.45 else 1 if r < 0.75 else 2 if r < 0.90 else 3
        channel = CHANNELS[c]
        greeting = rnd() < 0.88 + 0.10 * s
        restated = rnd() < 0.50 + 0.45 * s
        clear = rnd() < 0.60 + 0.35 * s
        stepwise = rnd() < 0.40 + 0.55 * s
        forbidden = rnd() < 0.01 + 0.12 * (1.0 - s)
        positive = not forbidden and rnd() < 0.60 + 0.38 * s
        empathy = max(1, min(5, int(1.5 + 3.5 * s + 1.0 * _Z[int(rnd() * _ZN)])))
        options = max(0, min(3, int(0.5 + 2.6 * s + 0.8 * _Z[int(rnd() * _ZN)])))
        promise = rnd() < risky.get(a, 0.0)

        t = int(rnd() * len(_TOPICS))
        need, steps, action, way, offers = _TOPICS[t]
        parts = []
        if greeting:
            greets = _GREETINGS[channel]
            parts.append(greets[int(rnd() * len(greets))])
        if restated:
            parts.append(_RESTATE[int(rnd() * 3)].format(need))
        if empathy >= 4:
            parts.append(_EMPATHY[int(rnd() * 3)])
        if stepwise:
            parts.append(_STEPWISE[t])
        else:
            parts.append(steps[int(rnd() * 3)] + "。")
        if options:
            chosen = offers[:options]
            parts.append("您可以选择" + ("、".join(chosen[:-1]) + "或" if options > 1 else "") + chosen[-1] + "。")
        if forbidden:
            parts.append(_FORBIDDEN_SENTENCES[int(rnd() * 5)])
        elif positive:
            k = int(rnd() * 3)
            parts.append(_POSITIVE[k].format(way if k == 1 else action))
        if promise:
            parts.append(_PROMISES[int(rnd() * 3)])
        parts.append(_CLOSINGS[int(rnd() * 3)])

        row = [
            f"I{i * 5 + 1 + int(rnd() * 5):0{width}d}", agent_id, team, channel,
            days[min(int(u * n_days), n_days - 1)],
            _YES_NO[greeting], _YES_NO[restated], _YES_NO[clear], _YES_NO[stepwise], _YES_NO[positive],
            str(empathy), str(options), _YES_NO[promise], "".join(parts),
        ]
        if i == next_dirty:
            kind = next(kinds)
            if kind == 0:
                row[3] = "wechat"
            elif kind == 1:
                row[4] = f"{first.year:04d}-{first.month:02d}-31" if first.month in (4, 6, 9, 11) else f"{first.year:04d}-02-30"
            elif kind == 2:
                row[10] = "6"
            elif kind == 3:
                row[5 + (n_dirty // 5) % 5] = "也许"
            else:
                row[11] = "-1"
            n_dirty += 1
            next_dirty = next(dirty_at, -1)
        yield row


def generate_qa(
    n: int, *, seed: int = 7, start: str = "2026-04-01", dirty: float = 0.01
) -> Iterator[dict[str, str]]:
    """Yield n quality-inspection form rows (one inspected interaction each) for the month from start.

    ``inspected_on`` is a working day in [start, start + 1 month), ascending. Checks are
    written 是/否; empathy is 1–5, solution_options 0–3; promise_beyond_authority is rare
    and concentrated in one or two agents. A fraction ``dirty`` of the rows breaks one field.
    """
    rows = _qa_rows(n, seed, start, dirty)  # checks the arguments now
    return (dict(zip(QA_COLUMNS, row)) for row in rows)


# --------------------------------------------------------------------------------------------
# QA calibration (qa-reviews): the same interactions scored by several reviewers, each with habits.

QA_REVIEW_COLUMNS: tuple[str, ...] = (QA_COLUMNS[0], "reviewer_id", *QA_COLUMNS[1:])

# A reviewer's habits: bias (> 0 lenient: says yes and scores higher; < 0 strict) and noise
# (slips and spread). Reviewer k has profile k mod 4.
_REVIEWER_PROFILES: tuple[tuple[float, float], ...] = (
    (0.0, 0.3),   # careful
    (0.8, 0.4),   # lenient
    (-0.8, 0.4),  # strict
    (0.0, 1.2),   # noisy
)
# How much each item is a matter of judgement (0: plain fact anyone sees alike; 1: opinion):
# habits act on an item in proportion. Indexes are those of QA_COLUMNS.
_JUDGEMENT: dict[int, float] = {
    5: 0.1,   # greeting: said or not
    6: 0.35,  # restated_need
    7: 0.7,   # explained_clearly
    8: 0.35,  # step_by_step
    9: 0.7,   # positive_phrasing
    12: 0.05,  # promise_beyond_authority
}
_EMPATHY_COLUMN, _OPTIONS_COLUMN = 10, 11


def _reviewed(truth: list[str], bias: float, noise: float, rnd: Callable[[], float]) -> list[str]:
    """One reviewer's form for an interaction: the true answers, bent by the reviewer's habits."""
    row = list(truth)
    for column, judgement in _JUDGEMENT.items():
        said = row[column] == _YES_NO[1]
        lean = 0.3 * abs(bias) * judgement
        if (bias > 0 and not said) or (bias < 0 and said):
            said = said ^ (rnd() < lean)
        said = said ^ (rnd() < 0.08 * noise * judgement)
        row[column] = _YES_NO[said]
    empathy = int(truth[_EMPATHY_COLUMN]) + bias * 0.9 + noise * 0.9 * _Z[int(rnd() * _ZN)]
    row[_EMPATHY_COLUMN] = str(max(1, min(5, round(empathy))))
    options = int(truth[_OPTIONS_COLUMN])
    if rnd() < 0.06 * noise:  # a count: a slip of one now and then
        options += 1 if rnd() < 0.5 else -1
    row[_OPTIONS_COLUMN] = str(max(0, min(3, options)))
    return row


def _qa_review_rows(n: int, seed: int, start: str, reviewers: int, dirty: float) -> Iterator[list[str]]:
    _check(n, start, 1, None, dirty)
    if isinstance(reviewers, bool) or not isinstance(reviewers, int) or reviewers < 2:
        raise ValueError(_("reviewers must be an integer of at least 2, got {reviewers!r}", reviewers=reviewers))
    return _review_rows(n, seed, start, reviewers, dirty)


def _review_rows(n: int, seed: int, start: str, reviewers: int, dirty: float) -> Iterator[list[str]]:
    rnd = Random(seed * 53 + 11).random
    names = [f"R{k + 1:02d}" for k in range(reviewers)]
    dirty_at = _dirty_positions(seed + 2, dirty)
    next_dirty = next(dirty_at, -1)
    index = 0
    for truth in _qa_form_rows(n, seed, start, 0.0):
        for k, name in enumerate(names):
            bias, noise = _REVIEWER_PROFILES[k % len(_REVIEWER_PROFILES)]
            row = _reviewed(truth, bias, noise, rnd)
            if index == next_dirty:  # a cell the form refuses: empathy out of range, or a 是/否 written otherwise
                if (index // 7) % 2:
                    row[_EMPATHY_COLUMN] = "6"
                else:
                    row[5] = "也许"
                next_dirty = next(dirty_at, -1)
            index += 1
            yield [row[0], name, *row[1:]]


def generate_qa_reviews(n: int, *, seed: int = 7, start: str = "2026-04-01", reviewers: int = 4,
                        dirty: float = 0.01) -> Iterator[dict[str, str]]:
    """Yield the QA forms of n interactions (those of :func:`generate_qa`), each scored by every reviewer.

    Reviewers R01, R02, … are careful, lenient, strict and noisy in turn: they agree on
    plain items (greeting, promise_beyond_authority, solution_options) and less on
    judgement items (explained_clearly, positive_phrasing, empathy). A fraction ``dirty``
    of the rows has a cell the form refuses.
    """
    rows = _qa_review_rows(n, seed, start, reviewers, dirty)
    return (dict(zip(QA_REVIEW_COLUMNS, row)) for row in rows)


# --------------------------------------------------------------------------------------------
# One run's four record sources (cs-sources): the interactions of `cs`, and the surveys,
# QA inspections and complaint tickets that refer to them.

SOURCE_TABLES: tuple[str, ...] = ("interactions", "surveys", "inspections", "complaints")

SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "interactions": (
        "interaction_id", "agent_id", "team", "channel", "started_at", "first_response_s", "handle_time_s",
        "resolved_first_contact", "repeat_contact_7d", "transcript",
    ),
    "surveys": ("survey_id", "interaction_id", "answered_at", "csat", "nps"),
    "inspections": (
        "inspection_id", "interaction_id", "reviewer_id", "inspected_at", "score", "forbidden_phrase",
        "unauthorised_promise",
    ),
    "complaints": ("ticket_id", "agent_id", "team", "filed_at", "category", "interaction_id", "customer_phone"),
}

COMPLAINT_CATEGORIES: tuple[str, ...] = ("服务态度", "处理时效", "问题未解决", "业务差错", "其他")

_INTERACTION_COLUMNS = tuple(COLUMNS.index(c) for c in SOURCE_COLUMNS["interactions"])
_ID_PREFIX = {"surveys": "S", "inspections": "Q", "complaints": "C"}
_REVIEWERS = 6
# Chance that an interaction is inspected: a random sample, plus most of the interactions
# a complaint or a reported promise brought to QA's attention.
_INSPECTED = 0.12
_INSPECTED_FLAGGED = 0.75
# Dirty kinds per derived table; interactions break as `cs` rows do, minus the columns it drops.
_DIRTY_KINDS = {"interactions": 4, "surveys": 4, "inspections": 4, "complaints": 3}


def _seconds_later(stamp: datetime, seconds: float) -> datetime:
    return stamp + timedelta(seconds=int(seconds))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + TZ


def _corrupt_source(table: str, row: list[str], kind: int, k: int, orphan: str) -> None:
    """Break the k-th dirty row of a table in one field; `orphan` is an interaction id no row has.

    A dirty complaint may repeat the previous ticket's id (the first ticket loses its id).
    """
    if table == "interactions":
        if kind == 0:
            row[3] = "wechat"
        elif kind == 1:
            row[5] = "-5"
        elif kind == 2:
            row[4] = "2026-13-45 25:00"
        else:
            row[7 + (k // 4) % 2] = "maybe"
    elif table == "surveys":
        if kind == 0:
            row[3] = "7"
        elif kind == 1:
            row[4] = "11"
        elif kind == 2:
            row[1] = ""  # interaction_id missing
        else:
            row[1] = orphan  # a survey of an interaction the export does not hold: lookup-unmatched
    elif table == "inspections":
        if kind == 0:
            row[4] = "120"
        elif kind == 1:
            row[5 + (k // 4) % 2] = "maybe"
        elif kind == 2:
            row[4] = ""  # score missing
        else:
            row[1] = orphan
    elif kind == 0:
        row[0] = f"{row[0][0]}{int(row[0][1:]) - 1:0{len(row[0]) - 1}d}" if row[0][1:].lstrip("0") != "1" else ""
    elif kind == 1:
        row[3] = "2026-02-30T10:00:00+08:00"
    else:
        row[1] = ""  # agent_id missing


def _customer_phone(seed: int, interaction_id: str) -> str:
    """The mobile number a complaint was filed from: personal data, made up from a hash (no draw of the generator,
    so every other value stays as it was)."""
    digits = str(int.from_bytes(hashlib.sha256(f"{seed}:{interaction_id}".encode()).digest()[:8], "big"))
    return f"1{3 + int(digits[0]) % 7}{digits[-9:]:0>9}"


def _qa_score(transcript: str, resolved: bool, forbidden: bool, promise: bool, z: float) -> int:
    """An inspection score 0–100 that follows what the transcript shows of the agent's work."""
    score = 62.0 + 6.0 * z + (4.0 if resolved else -4.0)
    if transcript:
        score += 10.0 if "首先" in transcript else 0.0
        score += 8.0 if any(t.split("{}")[0] in transcript for t in _RESTATE) else 0.0
        score += 6.0 if any(c in transcript for c in _CLOSINGS) else 0.0
    score -= 25.0 if forbidden else 0.0
    score -= 35.0 if promise else 0.0
    return max(0, min(100, int(score + 0.5)))


def _source_rows(n: int, seed: int, start: str, months: int, agents: int | None,
                 dirty: float) -> Iterator[tuple[str, list[str]]]:
    _check(n, start, months, agents, dirty)
    return _tables(n, seed, start, months, agents, dirty)


def _tables(n: int, seed: int, start: str, months: int, agents: int | None,
            dirty: float) -> Iterator[tuple[str, list[str]]]:
    """(table, row) in the order the tables' files are written, each table in its own time order.

    Surveys, inspections and complaints come after their interaction; a heap holds them
    until the interactions have passed their time, so each file ascends in time and ids.
    The export is taken at the end of the last month: rows dated later are not in it.
    """
    end = datetime.combine(_add_months(_parse_start(start), months), datetime.min.time())
    width = _width(n)
    rng = Random(seed * 131 + 23)
    rnd = rng.random
    Z, ZN = _Z, _ZN
    dirty_at = {t: _dirty_positions(seed * 64 + 11 + k, dirty) for k, t in enumerate(SOURCE_TABLES)}
    next_dirty = {t: next(dirty_at[t], -1) for t in SOURCE_TABLES}
    kinds = {t: _dirty_kinds(seed * 64 + 11 + k, _DIRTY_KINDS[t]) for k, t in enumerate(SOURCE_TABLES)}
    written = dict.fromkeys(SOURCE_TABLES, 0)
    broken = dict.fromkeys(SOURCE_TABLES, 0)
    pending: list[tuple[datetime, int, str, list[str]]] = []
    seq = 0

    def emit(table: str, row: list[str]) -> tuple[str, list[str]]:
        i = written[table]
        written[table] = i + 1
        if table != "interactions":
            row[0] = f"{_ID_PREFIX[table]}{i + 1:0{width}d}"
        if i == next_dirty[table]:
            _corrupt_source(table, row, next(kinds[table]), broken[table], f"I{n + 1 + broken[table]:0{width}d}")
            broken[table] += 1
            next_dirty[table] = next(dirty_at[table], -1)
        return table, row

    for row in _cs_rows(n, seed, start, months, agents, 0.0):
        started = datetime.fromisoformat(row[4][:19])
        while pending and pending[0][0] <= started:
            _moment, _seq, table, derived = heapq.heappop(pending)
            yield emit(table, derived)
        yield emit("interactions", [row[c] for c in _INTERACTION_COLUMNS])

        interaction_id, agent_id, team, resolved = row[0], row[1], row[2], row[7] == "true"
        complaint, csat, nps, transcript, promise = row[9] == "true", row[10], row[11], row[12], row[13] == "true"
        later: list[tuple[datetime, str, list[str]]] = []
        if csat or nps:
            # most answer the survey sent when the contact ends, the rest within three days
            delay = 60 + rnd() * 3540 if rnd() < 0.6 else 3600 + rnd() * 255_600
            later.append((_seconds_later(started, delay), "surveys", ["", interaction_id, "", csat, nps]))
        if rnd() < (_INSPECTED_FLAGGED if complaint or promise else _INSPECTED):
            forbidden = any(p in transcript for p in FORBIDDEN_PHRASES)
            score = _qa_score(transcript, resolved, forbidden, promise, Z[int(rnd() * ZN)])
            reviewer = f"QA{int(rnd() * _REVIEWERS) + 1:02d}"
            delay = 43_200 + rnd() * 475_200  # half a day to six days
            later.append((_seconds_later(started, delay), "inspections",
                          ["", interaction_id, reviewer, "", str(score), _BOOL[forbidden], _BOOL[promise]]))
        if complaint:
            r = rnd()
            c = (2 if r < 0.5 else 1 if r < 0.75 else 0 if r < 0.9 else 3) if not resolved else (
                0 if r < 0.4 else 1 if r < 0.65 else 3 if r < 0.85 else 4)
            delay = 7200 + rnd() * 165_600 if rnd() < 0.7 else 172_800 + rnd() * 1_123_200  # 2 h–2 d, else to 15 d
            later.append((_seconds_later(started, delay), "complaints",
                          ["", agent_id, team, "", COMPLAINT_CATEGORIES[c], interaction_id if rnd() < 0.8 else "",
                           _customer_phone(seed, interaction_id)]))
        for moment, table, derived in later:
            if moment >= end:
                continue
            derived[2 if table == "surveys" else 3] = _stamp(moment)
            heapq.heappush(pending, (moment, seq, table, derived))
            seq += 1
    while pending:
        _moment, _seq, table, derived = heapq.heappop(pending)
        yield emit(table, derived)


def generate_sources(
    n: int,
    *,
    seed: int = 7,
    start: str = "2026-04-01",
    months: int = 1,
    agents: int | None = None,
    dirty: float = 0.01,
) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (table, row) for one run's four sources: n interactions and what refers to them.

    The interactions are those :func:`generate` gives with ``dirty=0``, without the survey
    answers, the complaint flag and the QA finding. ``surveys`` holds one row per answered
    survey (csat 1–5 and nps 0–10, either may be empty), ``inspections`` a QA result for a
    sample of about 15% of the interactions, ``complaints`` a ticket per complaint, filed
    up to 15 days later (so sometimes in the next month); each names its interaction.
    A fraction ``dirty`` of every table breaks one field (surveys and inspections: some
    name an interaction the export does not hold).
    """
    rows = _source_rows(n, seed, start, months, agents, dirty)  # checks the arguments now
    return ((table, dict(zip(SOURCE_COLUMNS[table], row))) for table, row in rows)


# --------------------------------------------------------------------------------------------
# Writers

Target = str | os.PathLike[str] | IO[str]


@contextmanager
def _open(path: Target) -> Iterator[IO[str]]:
    if isinstance(path, (str, os.PathLike)):
        with open(path, "w", encoding="utf-8", newline="") as f:
            yield f
    else:
        yield path


def _write_csv(path: Target, header: Iterable[str], rows: Iterable[list[str]]) -> int:
    count = 0

    def counted() -> Iterator[list[str]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    with _open(path) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(counted())
    return count


def _kw(kw: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(kw) - set(allowed))
    if unknown:
        raise TypeError(_("unexpected keyword argument(s): {names}", names=", ".join(unknown)))
    return kw


_CS_KW = ("seed", "start", "months", "agents", "dirty")
_QA_KW = ("seed", "start", "dirty")
_CS_DEFAULTS: dict[str, Any] = {"seed": 7, "start": "2026-04-01", "months": 1, "agents": None, "dirty": 0.01}
_QA_DEFAULTS: dict[str, Any] = {"seed": 7, "start": "2026-04-01", "dirty": 0.01}


def write_csv(path: Target, n: int, **kw: Any) -> int:
    """Write n interaction records (see :func:`generate`) as UTF-8 CSV with a header; return rows written."""
    opts = {**_CS_DEFAULTS, **_kw(kw, _CS_KW)}
    return _write_csv(path, COLUMNS, _rows(n, opts["seed"], opts["start"], opts["months"], opts["agents"], opts["dirty"]))


def write_qa_csv(path: Target, n: int, **kw: Any) -> int:
    """Write n QA inspection rows (see :func:`generate_qa`) as UTF-8 CSV with a header; return rows written."""
    opts = {**_QA_DEFAULTS, **_kw(kw, _QA_KW)}
    return _write_csv(path, QA_COLUMNS, _qa_rows(n, opts["seed"], opts["start"], opts["dirty"]))


def write_qa_reviews_csv(path: Target, n: int, **kw: Any) -> int:
    """Write the reviews of n interactions (see :func:`generate_qa_reviews`) as UTF-8 CSV; return rows written."""
    opts = {**_QA_DEFAULTS, "reviewers": 4, **_kw(kw, (*_QA_KW, "reviewers"))}
    return _write_csv(path, QA_REVIEW_COLUMNS,
                      _qa_review_rows(n, opts["seed"], opts["start"], opts["reviewers"], opts["dirty"]))


def write_sources_csv(directory: str | os.PathLike[str], n: int, **kw: Any) -> dict[str, int]:
    """Write the four tables of :func:`generate_sources` as ``directory/<table>.csv``; return rows per table.

    The directory is created if needed; files of the same names in it are replaced.
    """
    opts = {**_CS_DEFAULTS, **_kw(kw, _CS_KW)}
    rows = _source_rows(n, opts["seed"], opts["start"], opts["months"], opts["agents"], opts["dirty"])
    os.makedirs(directory, exist_ok=True)
    counts = dict.fromkeys(SOURCE_TABLES, 0)
    with ExitStack() as stack:
        writers = {}
        for table in SOURCE_TABLES:
            f = stack.enter_context(open(os.path.join(directory, f"{table}.csv"), "w", encoding="utf-8", newline=""))
            writers[table] = csv.writer(f, lineterminator="\n")
            writers[table].writerow(SOURCE_COLUMNS[table])
        for table, row in rows:
            writers[table].writerow(row)
            counts[table] += 1
    return counts


def _as_int(v: str) -> Any:
    if v == "":
        return None
    try:
        return int(v)
    except ValueError:
        return v  # a dirty value, or an HH:MM:SS duration: kept as written


_JSON_BOOL = {"true": True, "false": False}


def _typed_cs(row: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(zip(COLUMNS, row))
    for k in ("first_response_s", "handle_time_s", "csat", "nps"):
        out[k] = _as_int(out[k])
    for k in ("resolved_first_contact", "repeat_contact_7d", "complaint", "unauthorised_promise"):
        out[k] = _JSON_BOOL.get(out[k], out[k])
    if out["transcript"] == "":
        out["transcript"] = None
    return out


def _typed_qa(row: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(zip(QA_COLUMNS, row))
    out["empathy"] = _as_int(out["empathy"])
    out["solution_options"] = _as_int(out["solution_options"])
    return out


def _write_jsonl(path: Target, rows: Iterable[list[str]], typed: Callable[[list[str]], dict[str, Any]]) -> int:
    count = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with _open(path) as f:
        write = f.write
        for row in rows:
            write(dumps(typed(row)) + "\n")
            count += 1
    return count


def write_jsonl(path: Target, n: int, **kw: Any) -> int:
    """Write n interaction records as JSON Lines, one object a line; return rows written.

    Values are typed: numbers, booleans, null for empty cells. What cannot be typed stays
    a string as written: "HH:MM:SS" handle times and the dirty values ("wechat", "maybe",
    the impossible timestamp); the dirty numbers -5 and 7 are written as numbers.
    """
    opts = {**_CS_DEFAULTS, **_kw(kw, _CS_KW)}
    rows = _rows(n, opts["seed"], opts["start"], opts["months"], opts["agents"], opts["dirty"])
    return _write_jsonl(path, rows, _typed_cs)


def write_qa_jsonl(path: Target, n: int, **kw: Any) -> int:
    """Write n QA inspection rows as JSON Lines (empathy and solution_options as numbers)."""
    opts = {**_QA_DEFAULTS, **_kw(kw, _QA_KW)}
    return _write_jsonl(path, _qa_rows(n, opts["seed"], opts["start"], opts["dirty"]), _typed_qa)


# --------------------------------------------------------------------------------------------
# Command line


# --------------------------------------------------------------------------- reviews of a sample
# The reviewers' checklist results for the interactions of a drawn sample (`qualiscore sample`),
# one reviewer each, with the QA form's items; a fraction `dirty` of the rows is wrong the ways
# reviewers' files are: a value outside the form, an interaction not in the sample.

REVIEW_COLUMNS: tuple[str, ...] = (
    "interaction_id", "reviewer_id", "reviewed_on", "greeting", "restated_need", "explained_clearly",
    "step_by_step", "positive_phrasing", "empathy", "solution_options", "promise_beyond_authority",
)


def write_reviews_csv(sample: str | os.PathLike[str], path: Target, *, seed: int = 7, reviewers: int = 6,
                      dirty: float = 0.02) -> int:
    """Write one review per row of the sample file ``sample`` (its ``interaction_id``, ``started_at`` and
    ``resolved_first_contact`` columns); deterministic for the same sample and arguments."""
    if reviewers < 1 or not 0 <= dirty <= 1:
        raise ValueError(_("reviewers must be at least 1 and dirty between 0 and 1"))
    with open(sample, encoding="utf-8", newline="") as f:
        sampled = list(csv.DictReader(f))
    rnd = Random(seed).random

    def rows() -> Iterator[list[str]]:
        for k, rec in enumerate(sampled):
            day = (datetime.fromisoformat(rec["started_at"][:10]) + timedelta(days=1 + int(rnd() * 3))).date()
            solved = rec.get("resolved_first_contact", "true") == "true"
            good = 0.85 if solved else 0.6
            items = [_BOOL[rnd() < good + 0.1], _BOOL[rnd() < good], _BOOL[rnd() < good], _BOOL[rnd() < good - 0.1],
                     _BOOL[rnd() < good]]
            empathy = str(max(1, min(5, round(3.6 + (0.8 if solved else -0.4) + (rnd() - 0.5) * 2))))
            options = str(min(3, int(rnd() * 4 * good + (1 if solved else 0))))
            promise = _BOOL[rnd() < 0.02]
            row = [rec["interaction_id"], f"QA{int(rnd() * reviewers) + 1:02d}", day.isoformat(), *items, empathy,
                   options, promise]
            if rnd() < dirty:
                kind = k % 3
                if kind == 0:
                    row[0] = f"{rec['interaction_id']}-X"  # an interaction the sample does not hold
                elif kind == 1:
                    row[8] = "6"  # outside the form's 1–5
                else:
                    row[3] = "maybe"
            yield row

    return _write_csv(path, REVIEW_COLUMNS, rows())
