"""Template context: the person's roles and the one they act in (for the header switch)."""

from lixiao.accounts import roles as role_mod


def roles(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    available = role_mod.available(request)
    return {
        "lixiao_roles": [(r, role_mod.LABELS[r]) for r in available],
        "lixiao_role": role_mod.current(request),
        "lixiao_role_label": role_mod.LABELS.get(role_mod.current(request) or "", ""),
    }
