"""The demo university's undergraduate survey (调查问卷): five realistic questions.

Seeded with the 本科生离校 category, so an undergraduate (2022000001 in README's walk-through)
finds 填写调查问卷 on their form page; tests use the same questions.
"""

from lixiao.survey.models import Question

QUESTIONS = [
    (
        "您毕业后的去向是？",
        Question.Kind.SINGLE,
        True,
        ["已签约就业", "国内升学", "出国（境）深造", "自主创业", "灵活就业", "暂未确定"],
    ),
    (
        "您对本校离校手续办理的整体满意度？",
        Question.Kind.SINGLE,
        True,
        ["非常满意", "满意", "一般", "不满意", "非常不满意"],
    ),
    (
        "您认为以下哪些离校环节需要改进？（可多选）",
        Question.Kind.MULTIPLE,
        False,
        ["图书馆", "财务处", "学生公寓", "组织关系转移", "院系离校", "都不需要"],
    ),
    (
        "您希望毕业后通过哪些方式与母校保持联系？（可多选）",
        Question.Kind.MULTIPLE,
        True,
        ["校友会微信公众号", "院系校友群", "校友返校活动", "电子邮件通讯"],
    ),
    ("您对学校的人才培养或离校工作还有什么建议？", Question.Kind.TEXT, False, []),
]


def create(category) -> list[Question]:
    """Give the category the five questions (once) and switch its survey on."""
    if not category.questions.exists():
        Question.objects.bulk_create(
            [
                Question(
                    category=category,
                    order=i,
                    text=text,
                    kind=kind,
                    required=required,
                    choices=choices,
                )
                for i, (text, kind, required, choices) in enumerate(QUESTIONS, start=1)
            ]
        )
    if not category.survey_enabled:
        category.survey_enabled = True
        category.save(update_fields=["survey_enabled"])
    return list(category.questions.all())
