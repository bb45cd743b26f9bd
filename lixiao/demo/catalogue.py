"""What the demo university is made of: colleges, departments, staff, and the two categories' steps."""

from dataclasses import dataclass, field

# The GB/T 4762 group: 中共党员 and 中共预备党员 (lixiao.directory.codes.POLITICAL_GROUPS).
PARTY = {"attr": "political_status", "op": "in", "values": ["中共党员（含预备党员）"]}
# Laboratory colleges only: everybody else sees this step grey (无需办理).
LAB_COLLEGES = {"attr": "college", "op": "in", "values": ["CHEM", "PHYS"]}


@dataclass(frozen=True)
class CollegeSpec:
    code: str
    name: str
    majors: tuple[tuple[str, str], ...]  # (major, short name used in class names)
    male_share: float  # so a language college is not 50/50 like an engineering one
    weight: float  # share of the graduating cohort


COLLEGES = [
    CollegeSpec(
        "CS",
        "计算机与信息科学学院",
        (
            ("计算机科学与技术", "计科"),
            ("软件工程", "软工"),
            ("网络工程", "网工"),
            ("数据科学与大数据技术", "数据"),
            ("人工智能", "智能"),
        ),
        0.72,
        0.16,
    ),
    CollegeSpec(
        "LIT",
        "文学院",
        (
            ("汉语言文学", "汉语言"),
            ("汉语国际教育", "汉教"),
            ("秘书学", "秘书"),
        ),
        0.22,
        0.10,
    ),
    CollegeSpec(
        "MATH",
        "数学与统计学院",
        (
            ("数学与应用数学", "数学"),
            ("统计学", "统计"),
            ("信息与计算科学", "信计"),
        ),
        0.55,
        0.09,
    ),
    CollegeSpec(
        "ECON",
        "经济管理学院",
        (
            ("经济学", "经济"),
            ("金融学", "金融"),
            ("会计学", "会计"),
            ("工商管理", "工商"),
            ("市场营销", "营销"),
        ),
        0.40,
        0.16,
    ),
    CollegeSpec(
        "CHEM",
        "化学化工学院",
        (
            ("化学", "化学"),
            ("应用化学", "应化"),
            ("化学工程与工艺", "化工"),
        ),
        0.58,
        0.09,
    ),
    CollegeSpec(
        "FL",
        "外国语学院",
        (
            ("英语", "英语"),
            ("日语", "日语"),
            ("翻译", "翻译"),
            ("商务英语", "商英"),
        ),
        0.18,
        0.10,
    ),
    CollegeSpec(
        "PHYS",
        "物理科学与技术学院",
        (
            ("物理学", "物理"),
            ("应用物理学", "应物"),
            ("电子信息科学与技术", "电信"),
        ),
        0.68,
        0.08,
    ),
    CollegeSpec("LAW", "法学院", (("法学", "法学"), ("知识产权", "知产")), 0.42, 0.08),
    CollegeSpec(
        "HIST", "历史文化学院", (("历史学", "历史"), ("文物与博物馆学", "文博")), 0.45, 0.06
    ),
    CollegeSpec("ART", "美术学院", (("美术学", "美术"), ("视觉传达设计", "视传")), 0.30, 0.08),
]


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    contact: str


DEPARTMENTS = [
    DepartmentSpec("LIB", "图书馆", "图书馆一楼总服务台，电话 6677-1001，工作日 8:30–17:00"),
    DepartmentSpec("FIN", "财务处", "行政楼 102 学生收费窗口，电话 6677-1102，工作日 8:30–17:00"),
    DepartmentSpec(
        "DORM", "学生公寓管理中心", "各公寓楼值班室；中心办公室 紫荆苑 1 幢 101，电话 6677-1203"
    ),
    DepartmentSpec("LAB", "实验室与设备管理处", "实验楼 A201，电话 6677-1304，工作日 9:00–16:30"),
    DepartmentSpec("SEC", "保卫处", "行政楼一楼户籍室，电话 6677-1405，周二、周四办理"),
    DepartmentSpec("ARCH", "档案馆", "老图书馆三楼，电话 6677-1506，工作日 8:30–17:00"),
    DepartmentSpec(
        "CARD", "校园卡中心", "学生活动中心一楼服务大厅，电话 6677-1607，每天 9:00–17:00"
    ),
    DepartmentSpec("ALUM", "校友会", "校友楼 105，电话 6677-1708，微信小程序“校友之家”"),
    DepartmentSpec("GRAD", "研究生院", "研究生院 306 学位办，电话 6677-1809，工作日 9:00–17:00"),
]

# Integration sources: the manual numbers finance 集成表1 and library 集成表2.
SOURCES = [("finance", "集成表1 财务处", "FIN"), ("library", "集成表2 图书馆", "LIB")]


@dataclass(frozen=True)
class StaffSpec:
    username: str
    name: str
    department: str = ""  # department code
    college: str = ""  # college code
    # Step titles granted: school scope for a department's handler, college scope for a counselor.
    steps: tuple[str, ...] = ()
    is_lead: bool = False
    is_office: bool = False


_COLLEGE_STEPS = ("组织关系转移", "院系离校")
STAFF = [
    StaffSpec("admin", "离校办管理员", is_office=True),
    StaffSpec("library", "王丽萍", "LIB", steps=("图书馆",)),
    StaffSpec("finance", "赵建国", "FIN", steps=("财务处",)),
    StaffSpec("dorm", "刘芳", "DORM", steps=("学生公寓",)),
    StaffSpec("lab", "孙立新", "LAB", steps=("实验室安全检查",)),
    StaffSpec("security", "周强", "SEC", steps=("保卫处（户籍迁移）",)),
    StaffSpec("archives", "吴敏", "ARCH", steps=("档案馆",)),
    StaffSpec("card", "郑晓燕", "CARD", steps=("校园卡中心",)),
    StaffSpec("alumni", "冯雪", "ALUM", steps=("校友会登记",)),
    StaffSpec("gradschool", "陈静", "GRAD", steps=("学位论文归档",)),
    StaffSpec("counselor-cs", "张伟", college="CS", steps=_COLLEGE_STEPS, is_lead=True),
    StaffSpec("counselor-lit", "李娜", college="LIT", steps=_COLLEGE_STEPS),
    StaffSpec("counselor-math", "杨帆", college="MATH", steps=_COLLEGE_STEPS),
    StaffSpec("counselor-econ", "黄磊", college="ECON", steps=_COLLEGE_STEPS),
    StaffSpec("counselor-chem", "何静", college="CHEM", steps=_COLLEGE_STEPS),
    StaffSpec("counselor-fl", "林晓", college="FL", steps=_COLLEGE_STEPS),
    StaffSpec("counselor-phys", "高峰", college="PHYS", steps=_COLLEGE_STEPS),
    StaffSpec("counselor-law", "罗敏", college="LAW", steps=_COLLEGE_STEPS),
    StaffSpec("counselor-hist", "梁宇", college="HIST", steps=_COLLEGE_STEPS),
    StaffSpec("counselor-art", "宋佳", college="ART", steps=_COLLEGE_STEPS),
]


@dataclass(frozen=True)
class StepSpec:
    title: str
    department: str | None  # department code; None for a college-owned step
    instructions: str
    required: bool = True
    source: str | None = None  # integration source code for an automatic step
    condition: list = field(default_factory=list)
    is_final: bool = False
    contact: str = ""  # defaults to the department's contact
    deadline_days: int | None = None  # 办理截止日期, in days from the day the demo is seeded


_COLLEGE_CONTACT = "所在学院学生工作办公室（辅导员）"

LIBRARY = StepSpec(
    "图书馆",
    "LIB",
    "地点：图书馆一楼总服务台。时间：工作日 8:30–11:30、14:00–17:00。携带：校园卡、所借图书。\n"
    "本环节自动办理：图书管理系统确认已归还全部图书、缴清逾期费用后，次日凌晨同步为“已办理”，无需到场。",
    source="library",
)
FINANCE = StepSpec(
    "财务处",
    "FIN",
    "本环节自动办理：财务系统确认学费、住宿费等已缴清后，次日凌晨同步为“已办理”。\n"
    "可在“校园统一支付平台”在线缴费；对欠费金额有疑问，请携带缴费凭证到行政楼 102 学生收费窗口核对（工作日 8:30–17:00）。",
    source="finance",
)
DORM = StepSpec(
    "学生公寓",
    "DORM",
    "地点：所住公寓楼值班室。时间：每天 8:00–20:00。携带：宿舍钥匙、校园卡。\n"
    "宿管老师检查房间设施完好、个人物品清空后办理；公物损坏须按价赔偿后办理。",
    deadline_days=3,  # near: `manage.py remind_deadlines` reminds its students and handlers
)
LAB = StepSpec(
    "实验室安全检查",
    "LAB",
    "仅化学化工学院、物理科学与技术学院学生办理。地点：所在实验室，再到实验楼 A201 确认。时间：工作日 9:00–16:30。\n"
    "归还实验室钥匙、门禁卡和实验服，清理个人实验用品和化学试剂，由实验室负责人签字后办理。",
    condition=[LAB_COLLEGES],
)
SECURITY = StepSpec(
    "保卫处（户籍迁移）",
    "SEC",
    "地点：行政楼一楼保卫处户籍室。时间：周二、周四 9:00–11:30、14:00–16:30。\n"
    "户口在学校集体户的同学携带身份证、毕业去向证明（就业报到证或接收函）办理户口迁出；户口不在学校的同学到场确认即可。",
    deadline_days=-1,  # passed: shown in red at the desk and in the follow-up page
)
ARCHIVES = StepSpec(
    "档案馆",
    "ARCH",
    "地点：老图书馆三楼档案馆。时间：工作日 8:30–17:00。携带：身份证、就业协议书或接收函复印件。\n"
    "核对个人档案材料，确认档案转递地址（就业单位或生源地人才服务中心）。",
)
CARD = StepSpec(
    "校园卡中心",
    "CARD",
    "地点：学生活动中心一楼校园卡服务大厅。时间：每天 9:00–17:00。携带：校园卡、本人银行卡。\n"
    "办理校园卡销户，卡内余额和押金退还至本人银行卡。",
)
ALUMNI = StepSpec(
    "校友会登记",
    "ALUM",
    "在微信小程序“校友之家”填写毕业去向和联系方式（约 3 分钟），或到校友楼 105 现场登记。非必办环节。",
    required=False,
)
THESIS = StepSpec(
    "学位论文归档",
    "GRAD",
    "地点：研究生院 306 学位办。时间：工作日 9:00–11:30、14:00–17:00。\n"
    "提交学位论文纸质版 2 份（含本人签字的原创性声明和授权书）及电子版，领取论文提交回执。",
)
PARTY_TRANSFER = StepSpec(
    "组织关系转移",
    None,
    "仅中共党员、中共预备党员办理。地点：所在学院党委（党总支）办公室。时间：工作日。\n"
    "携带：接收党组织的名称和地址（就业单位或户籍所在地），在全国党员管理信息系统办理组织关系转接并开具介绍信。",
    condition=[PARTY],
    contact=_COLLEGE_CONTACT,
)
COLLEGE_FINAL = StepSpec(
    "院系离校",
    None,
    "以上必办环节全部通过后办理。地点：所在学院学生工作办公室。携带：学生证（交回）、离校单打印件。\n"
    "辅导员核对后办理；办结后凭离校单领取毕业证书和学位证书。",
    is_final=True,
    contact=_COLLEGE_CONTACT,
)

UNDERGRADUATE = "本科生离校"
GRADUATE = "研究生离校"
CATEGORY_STEPS = {
    UNDERGRADUATE: [
        LIBRARY,
        FINANCE,
        DORM,
        LAB,
        SECURITY,
        ARCHIVES,
        CARD,
        ALUMNI,
        PARTY_TRANSFER,
        COLLEGE_FINAL,
    ],
    GRADUATE: [
        LIBRARY,
        FINANCE,
        THESIS,
        DORM,
        LAB,
        SECURITY,
        ARCHIVES,
        CARD,
        ALUMNI,
        PARTY_TRANSFER,
        COLLEGE_FINAL,
    ],
}

# Share of applicable forms whose step has passed by now (the final step: of those it may pass).
PASS_RATES = {
    "图书馆": 0.85,
    "财务处": 0.80,
    "学生公寓": 0.60,
    "实验室安全检查": 0.75,
    "保卫处（户籍迁移）": 0.70,
    "档案馆": 0.66,
    "校园卡中心": 0.72,
    "校友会登记": 0.55,
    "学位论文归档": 0.82,
    "组织关系转移": 0.50,
    "院系离校": 0.75,
}

# Political status shares (about one in five graduates is a party member), GB/T 4762 names.
POLITICAL_MIX = {
    "本科生": {"中共党员": 0.07, "中共预备党员": 0.10, "共青团员": 0.75, "群众": 0.08},
    "硕士研究生": {
        "中共党员": 0.21,
        "中共预备党员": 0.05,
        "共青团员": 0.58,
        "群众": 0.15,
        "民盟盟员": 0.004,
        "九三学社社员": 0.003,
        "民进会员": 0.003,
    },
}

# Real county-level area codes, many from the university's own province (浙江).
AREA_CODES = """
    330106 330108 330102 330203 330302 330402 330501 330602 330702 330781 330881 331002 331102
    110101 110108 120101 130102 140105 210102 220102 230103 310104 310115 320102 320582 340104
    350102 360102 370102 370202 410105 420106 430102 440106 440305 450103 460105 500103 510107
    520102 530102 610113 620102 640104 650102
""".split()
UNDERGRAD_HALLS = ["桃李苑", "丹桂苑", "紫荆苑", "青松苑"]
GRADUATE_HALLS = ["研究生公寓"]
