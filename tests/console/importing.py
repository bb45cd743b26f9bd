"""Helpers for the office's import and page tests (part B): files, uploads, a logged-in office."""

import io

import xlsxwriter

from tests import factories as f

ROSTER_HEADER = [
    "学号*",
    "姓名*",
    "身份证件号*",
    "性别",
    "院系*",
    "专业",
    "班级",
    "学生类别*",
    "政治面貌",
    "宿舍",
    "联系电话",
    "辅导员工号",
    "辅导员姓名",
]


def xlsx(rows) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()


def roster_row(
    number: str,
    name: str,
    college: str,
    seed: int,
    political="群众",
    counselor=("", ""),
    student_type="本科生",
    id_number=None,
) -> list[str]:
    return [
        number,
        name,
        id_number or f.id_number(seed),
        "男",
        college,
        "计算机科学与技术",
        "2026级1班",
        student_type,
        political,
        "",
        "",
        counselor[0],
        counselor[1],
    ]


def roster_file(rows) -> bytes:
    return xlsx([ROSTER_HEADER, *rows])


def upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
