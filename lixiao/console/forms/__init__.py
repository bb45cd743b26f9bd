"""Forms of the office console, one module per page group (styled by lixiao.ui)."""


def split_values(text: str) -> list[str]:
    """Values typed as 中共党员、中共预备党员 (or commas, or one per line), blanks dropped."""
    for sep in ("、", "，", ",", ";", "；", "\r", "\n"):
        text = text.replace(sep, "\n")
    seen = []
    for value in (v.strip() for v in text.split("\n")):
        if value and value not in seen:
            seen.append(value)
    return seen
