"""The Makefile and the docs tell the truth: declared targets have rules, named files exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
# Paths a guide may name that a run creates (git-ignored), not the repository.
MADE_BY_RUNS = {"bench/out", "var"}


def makefile_rules() -> dict[str, tuple[str, list[str]]]:
    """target → (prerequisites, recipe lines), for plain `target: …` rules."""
    rules: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t") and current:
            rules[current][1].append(line.strip())
            continue
        match = re.match(r"^([A-Za-z0-9_.$()/-]+)\s*:(?![=:])\s*(.*)$", line)
        current = match.group(1) if match else None
        if current:
            rules[current] = (match.group(2), [])
    return rules


def phony_targets() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    return [name for line in re.findall(r"^\.PHONY:(.*)$", text, re.M) for name in line.split()]


@pytest.mark.parametrize("target", phony_targets())
def test_every_declared_target_has_a_rule_that_does_something(target):
    rules = makefile_rules()
    assert target in rules, f"make {target} is declared in .PHONY but has no rule"
    prerequisites, recipe = rules[target]
    assert prerequisites.strip() or recipe, f"make {target} has a rule that does nothing"


def test_the_single_database_targets_run_the_suite_on_that_database():
    rules = makefile_rules()
    assert any("LIXIAO_TEST_DATABASES=sqlite" in line for line in rules["test-sqlite"][1])
    assert any("LIXIAO_TEST_DATABASES=postgres" in line for line in rules["test-postgres"][1])
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert "LIXIAO_TEST_DATABASES" in script


def layout_paths() -> list[str]:
    """The files and folders README's project-layout tree names, as paths from the root."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## 项目结构 / Project layout\s+```\n(.*?)```", text, re.S).group(1)
    paths, stack = [], []  # stack: (indent, folder)
    for line in block.splitlines():
        match = re.match(r"^( *)(\S+)", line)
        if not match:
            continue
        indent, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "/".join([*(folder for _i, folder in stack), name.rstrip("/")])
        paths.append(path)
        if name.endswith("/"):
            stack.append((indent, name.rstrip("/")))
    return paths


def test_readme_layout_names_files_that_exist():
    paths = layout_paths()
    assert "lixiao/clearance/rules.py" in paths and "lixiao/directory/codes.py" in paths
    missing = [p for p in paths if not any(ROOT.glob(p))]
    assert not missing, f"README's layout names what does not exist: {missing}"


_REPO_PATH = re.compile(
    r"(?<![\w/.-])((?:lixiao|tests|bench|docs|scripts|deploy|\.ci)/[\w./*-]*"
    r"|\.env\.example|manage\.py|pyproject\.toml|Makefile)"
)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: str(p.relative_to(ROOT)))
def test_guides_name_files_targets_and_links_that_exist(guide):
    missing, targets = [], makefile_rules()
    for number, line in enumerate(guide.read_text().splitlines(), start=1):
        for match in _REPO_PATH.finditer(line):
            path = match.group(1).rstrip(".").rstrip("/")
            if path in MADE_BY_RUNS or not any(ROOT.glob(path)):
                if path not in MADE_BY_RUNS:
                    missing.append(f"line {number}: {path}")
        for target in re.findall(r"(?:^|`)make ([a-z][a-z-]*)", line):
            if target not in targets:
                missing.append(f"line {number}: make {target}")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", line):
            if not target.startswith(("http://", "https://", "mailto:")):
                if not (guide.parent / target).exists():
                    missing.append(f"line {number}: link {target}")
    assert not missing, f"{guide.relative_to(ROOT)} names what does not exist: {missing}"
