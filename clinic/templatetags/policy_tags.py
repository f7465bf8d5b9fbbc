"""`{% load policy_tags %}{% if request.user|may:"manage_staff" %}`: templates ask clinic/policy.py too."""

from typing import Any

from django import template

from clinic.policy import Capability
from clinic.policy import may as _may

register = template.Library()


@register.filter
def may(user: Any, capability: str) -> bool:
    """Whether `user` holds the capability named (a `Capability` member's name, in any case)."""
    try:
        return _may(user, Capability[capability.upper()])
    except KeyError:
        raise template.TemplateSyntaxError(f"No such capability: {capability!r}") from None
