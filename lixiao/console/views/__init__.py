"""Supervising office pages (管理员), one module per page group; `home` is the console's start."""

from lixiao.console.views.home import home

__all__ = ["home"]
