"""The commented starter scheme written by `qualiscore init`, its comments in the current language.

One template for every language: its YAML (keys, values, the Chinese names a committee would
write) never changes with the language; only the comments, ``{name}`` below, are translated.
"""

from __future__ import annotations

from .i18n import N_, _

# The comments of the template, by the name of their place in it; translated when it is written.
COMMENTS = {
    "intro": N_("A starter evaluation scheme. Every key is explained in docs/scheme-format.md."),
    "stable_id": N_("stable id, the same for every version"),
    "version_note": N_("should match the file name"),
    "effective_from": N_("first day this version applies (inclusive)"),
    "effective_to": N_("last day; leave out for open-ended"),
    "subject": N_("one scorecard per agent per month"),
    "records": N_("the data contract; rows that break it are rejected"),
    "timezone": N_("datetimes without an offset are read in this zone"),
    "constants": N_("service level per channel, in seconds"),
    "derive": N_("per-record values, computed in order"),
    "min_sample": N_("fewer answers: not applicable, weight goes to siblings"),
    "bands": N_("the first band whose min the value reaches"),
    "linear": N_("80% → 0 points, 98% → 100 points"),
    "vetoes": N_("一票否决: decides the grade, never the score"),
    "grades": N_("highest first; min is inclusive"),
}

_TEMPLATE = """\
# yaml-language-server: $schema=../../schemas/scheme.schema.json
# {intro}
# {check}
format: qualiscore/v1
scheme: {scheme}                    # {stable_id}
version: {version}                  # {version_note}
title: 客服服务质量评价方案
effective_from: 2026-01-01          # {effective_from}
# effective_to: 2026-12-31          # {effective_to}
approved_by: 服务质量委员会
changelog:
  - 初始版本

subject:                            # {subject}
  group_by: [agent_id]
  period: {{field: started_at, every: month}}

records:                            # {records}
  id: interaction_id
  timezone: Asia/Shanghai           # {timezone}
  fields:
    interaction_id: {{type: string}}
    agent_id: {{type: string}}
    channel: {{type: string, enum: [chat, phone, ticket, email]}}
    started_at: {{type: datetime}}
    first_response_s: {{type: number, minimum: 0, nullable: true}}
    resolved_first_contact: {{type: boolean}}
    csat: {{type: integer, minimum: 1, maximum: 5, nullable: true}}
    unauthorised_promise: {{type: boolean}}

constants:                          # {constants}
  response_target_s: {{chat: 60, phone: 30, ticket: 7200, email: 7200}}

derive:                             # {derive}
  responded_in_time: first_response_s <= response_target_s[channel]

dimensions:
  - id: perception
    name: 客户感知
    weight: 40
    indicators:
      - id: csat
        name: 客户满意度
        measure: {{share: csat >= 4, where: csat is not None}}
        min_sample: 5               # {min_sample}
        scoring:
          bands:                    # {bands}
            - {{min: 0.90, points: 100}}
            - {{min: 0.80, points: 85}}
            - {{min: 0.65, points: 60}}
            - {{points: 0}}
        weight: 100
  - id: process
    name: 服务过程
    weight: 60
    indicators:
      - id: first_response
        name: 首次响应及时率
        measure: {{share: responded_in_time}}
        scoring: {{linear: {{from: 0.80, to: 0.98}}}}   # {linear}
        weight: 50
      - id: fcr
        name: 首次解决率
        measure: {{share: resolved_first_contact}}
        scoring: {{linear: {{from: 0.70, to: 0.90}}}}
        target: 0.85
        weight: 50

vetoes:                             # {vetoes}
  - id: unauthorised_promise
    name: 超权限承诺
    when: {{any: unauthorised_promise}}
    effect: {{grade: 不合格}}
    reason: 超权限承诺属于一票否决项

grades:                             # {grades}
  - {{name: 优秀, min: 90}}
  - {{name: 良好, min: 75}}
  - {{name: 合格, min: 60}}
  - {{name: 不合格, min: 0}}
"""


def starter_scheme(scheme: str, version: str) -> str:
    """The starter scheme ``scheme`` at ``version``, commented in the current language."""
    comments = {name: _(text) for name, text in COMMENTS.items()}
    path = f"rules/{scheme}/{version}.yaml"
    check = _("Check it with:  qualiscore validate {path}", path=path)
    return _TEMPLATE.format(scheme=scheme, version=version, check=check, **comments)
