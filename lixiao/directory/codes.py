"""National code lists in student data: GB/T 4762 political status, GB/T 2261.1 gender.

Student information systems export either the names or the codes; a roster accepts both and
stores the name (the short form GB/T 4762 gives, which is what students and forms show).
Pure data and lookups: no database, no translation (the values are data, always Chinese).
"""

# GB/T 4762-1984 政治面貌代码: (code, name stored and shown, full name).
POLITICAL_STATUS_CODES = (
    ("01", "中共党员", "中国共产党党员"),
    ("02", "中共预备党员", "中国共产党预备党员"),
    ("03", "共青团员", "中国共产主义青年团团员"),
    ("04", "民革会员", "中国国民党革命委员会会员"),
    ("05", "民盟盟员", "中国民主同盟盟员"),
    ("06", "民建会员", "中国民主建国会会员"),
    ("07", "民进会员", "中国民主促进会会员"),
    ("08", "农工党党员", "中国农工民主党党员"),
    ("09", "致公党党员", "中国致公党党员"),
    ("10", "九三学社社员", "九三学社社员"),
    ("11", "台盟盟员", "台湾民主自治同盟盟员"),
    ("12", "无党派民主人士", "无党派民主人士"),
    ("13", "群众", "群众"),
)
POLITICAL_STATUSES = [name for _code, name, _full in POLITICAL_STATUS_CODES]

# Spellings seen in exports besides the standard's, each naming one status without doubt.
# "党员" alone is not here: it may be any party's member.
POLITICAL_VARIANTS = {
    "中国共产党预备党员": "中共预备党员",
    "预备党员": "中共预备党员",
    "团员": "共青团员",
    "民革党员": "民革会员",
    "农工党员": "农工党党员",
    "致公党员": "致公党党员",
    "九三社员": "九三学社社员",
    "无党派人士": "无党派民主人士",
    # The party's own short name, as some exports write a member's status.
    "民革": "民革会员",
    "民盟": "民盟盟员",
    "民建": "民建会员",
    "民进": "民进会员",
    "农工党": "农工党党员",
    "致公党": "致公党党员",
    "九三学社": "九三学社社员",
    "台盟": "台盟盟员",
}

# What an applicability condition may name instead of listing statuses one by one.
PARTY_MEMBERS = "中共党员（含预备党员）"
DEMOCRATIC_PARTIES = "民主党派"
POLITICAL_GROUPS = {
    PARTY_MEMBERS: frozenset(POLITICAL_STATUSES[0:2]),
    DEMOCRATIC_PARTIES: frozenset(POLITICAL_STATUSES[3:11]),  # codes 04–11, the eight parties
}
# Before GB/T 4762 a roster could only say 民主党派 (which party unknown). Such stored values are
# kept, not guessed: the group of the same name reaches them, as a condition on it always did.
LEGACY_POLITICAL_STATUS = DEMOCRATIC_PARTIES

# Attribute → group name → the stored values it stands for (read by clearance.rules).
VALUE_GROUPS = {"political_status": POLITICAL_GROUPS}

_POLITICAL_LOOKUP = {
    **{full: name for _code, name, full in POLITICAL_STATUS_CODES},
    **POLITICAL_VARIANTS,
    **{name: name for name in POLITICAL_STATUSES},
    **{code: name for code, name, _full in POLITICAL_STATUS_CODES},
    # A code typed into a number cell loses its leading zero: Excel shows 1 for 01.
    **{str(int(code)): name for code, name, _full in POLITICAL_STATUS_CODES},
}

# GB/T 2261.1-2003 人的性别代码. 0 (unknown) and 9 (not stated) are stored as no gender: the
# field is blank for exactly that, and no condition on 男 or 女 should reach such a student.
GENDER_CODES = (
    ("1", "男", "男性"),
    ("2", "女", "女性"),
    ("0", "", "未知的性别"),
    ("9", "", "未说明的性别"),
)
_GENDER_LOOKUP = {
    **{code: name for code, name, _full in GENDER_CODES},
    **{full: name for _code, name, full in GENDER_CODES},
    "男": "男",
    "女": "女",
}


def political_status(raw: str) -> str | None:
    """The stored name for a GB/T 4762 name, full name, known variant or code; None if unknown."""
    return _POLITICAL_LOOKUP.get(raw.strip().replace(" ", "").replace("\u3000", ""))


def gender(raw: str) -> str | None:
    """男, 女 or "" (GB/T 2261.1 codes 0 and 9) for a name or code; None if unknown."""
    return _GENDER_LOOKUP.get(raw.strip())
