"""A demo university for trying Lixiao: `python manage.py seed_demo` builds it.

The constants below are what README cites: the demo accounts and their password,
and the one student left on the initial-password rule to show the forced change.
"""

from dataclasses import dataclass

DEMO_PASSWORD = "lixiao-demo"

# Left with the initial password (last 6 of the ID number): logging in forces a new one.
INITIAL_STUDENT_NUMBER = "2022000004"
INITIAL_ID_NUMBER = "33010620040506101X"  # synthetic, valid GB 11643 check digit
INITIAL_PASSWORD = "06101X"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    role: str
    password: str = DEMO_PASSWORD


# The accounts README's walk-through uses; seed_demo creates these and a few more handlers.
ACCOUNTS = [
    DemoAccount("admin", "离校办管理员", "管理员（学生离校工作主管部门）"),
    DemoAccount("library", "王丽萍", "图书馆办理人员（全校）"),
    DemoAccount("finance", "赵建国", "财务处办理人员（全校）"),
    DemoAccount("dorm", "刘芳", "学生公寓办理人员（全校）"),
    DemoAccount("counselor-cs", "张伟", "计算机与信息科学学院辅导员（院系负责人）"),
    DemoAccount("counselor-lit", "李娜", "文学院辅导员"),
    DemoAccount("2022000001", "陈思远", "本科生，中共党员，部分办理"),
    DemoAccount("2022000002", "林晓雯", "本科生，已办结"),
    DemoAccount("2022000003", "王子涵", "硕士研究生（文学院），全部未办理"),
    DemoAccount(
        INITIAL_STUDENT_NUMBER,
        "赵一鸣",
        "本科生，仍为初始密码（首次登录须改密码）",
        INITIAL_PASSWORD,
    ),
]

# Push tokens of the demo's integration sources (POST /api/v1/sources/<code>/rows).
DEMO_TOKENS = {"finance": "demo-finance-token", "library": "demo-library-token"}
