"""The English catalogs: every string translated, nothing fuzzy, each .mo compiled from its .po.

Chinese is the source language (the msgids are the Chinese UI text), so an untranslated or
stale entry would show Chinese to someone who chose English. The compiled .mo files are
kept in the repository (a fresh machine needs no gettext tools); this checks they match.
"""

import ast
import gettext
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "lixiao"
CATALOGS = sorted(ROOT.glob("**/locale/en/LC_MESSAGES/django.po"))


def parse_po(path: Path) -> tuple[dict[str, str], list[str]]:
    """(msgid → msgstr for every entry but the header, msgids marked fuzzy).

    Entries are blocks separated by blank lines: flags, msgid, msgstr, each string possibly
    continued on following quoted lines. Obsolete entries (#~) are not compiled.
    """
    entries: dict[str, str] = {}
    fuzzy: list[str] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        parts = {"msgctxt": None, "msgid": None, "msgstr": None}
        field, is_fuzzy = None, False
        for line in block.strip().splitlines():
            line = line.strip()
            if line.startswith("#,") and "fuzzy" in line:
                is_fuzzy = True
            elif line.startswith("#"):
                continue
            elif line.startswith(("msgctxt ", "msgid ", "msgstr ")):
                field, _, rest = line.partition(" ")
                parts[field] = ast.literal_eval(rest)
            elif line.startswith('"') and field:
                parts[field] += ast.literal_eval(line)
        msgid = parts["msgid"]
        if msgid and parts["msgctxt"] is not None:  # pgettext: stored as context EOT msgid
            msgid = f"{parts['msgctxt']}\x04{msgid}"
        if msgid:  # the header's msgid is empty
            entries[msgid] = parts["msgstr"] or ""
            if is_fuzzy:
                fuzzy.append(msgid)
    return entries, fuzzy


def test_there_are_english_catalogs():
    assert CATALOGS, "no lixiao/**/locale/en/LC_MESSAGES/django.po found"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_entry_is_translated_and_none_is_fuzzy(po):
    entries, fuzzy = parse_po(po)
    assert entries, f"{po} is empty"
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr.strip()]
    assert not untranslated, f"untranslated in {po}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {po}: {fuzzy[:10]}"


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalog_matches_its_source(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run compilemessages in its app directory"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    compiled = {k: v for k, v in compiled.items() if k}  # drop the header
    entries, _fuzzy = parse_po(po)
    assert compiled == entries, f"{mo} is stale: run compilemessages after editing {po.name}"


def test_one_chinese_text_reads_the_same_in_english_everywhere():
    """Catalogs merge into one: a msgid translated two ways would show either, unpredictably."""
    seen: dict[str, tuple[str, Path]] = {}
    clashes = []
    for po in CATALOGS:
        for msgid, msgstr in parse_po(po)[0].items():
            if msgid in seen and seen[msgid][0] != msgstr:
                clashes.append((msgid, seen[msgid], (msgstr, po)))
            seen.setdefault(msgid, (msgstr, po))
    assert not clashes, "\n".join(
        f"{m!r}: {a[0]!r} ({a[1].relative_to(ROOT)}) vs {b[0]!r} ({b[1].relative_to(ROOT)})"
        for m, a, b in clashes[:20]
    )
