"""The staff account form a manager fills in: a name, an email, active or not, and exactly one of the three roles.

It has no field for a password, the superuser or staff flags, groups or permissions, so a crafted POST carrying
them changes nothing; a POST with two roles is refused.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import BaseUserManager
from django.db.models import Q

from clinic.policy import STAFF_ROLES, Role
from clinic.staff_accounts import StaffDetails, role_of_account
from therapists.models import Therapist

ROLE_LABELS = {
    Role.RECEPTIONIST: "Receptionist: the front desk (calendar, bookings, patients, messages)",
    Role.THERAPIST: "Therapist: their own schedule and patients",
    Role.MANAGER: "Manager: the front desk, every schedule, the clinic's setup and staff accounts",
}
ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in STAFF_ROLES]


class OneRoleWidget(forms.RadioSelect):
    """Hands the field every value sent, so that two roles in one POST are an error rather than the last one."""

    def value_from_datadict(self, data, files, name):
        getlist = getattr(data, "getlist", None)
        return getlist(name) if getlist is not None else data.get(name)


class OneRoleField(forms.ChoiceField):
    widget = OneRoleWidget
    default_error_messages = {
        "one_role": "Choose one role: a staff account has exactly one.",
        "required": "Choose the role of this account.",
        "invalid_choice": "Choose one of the three roles.",
    }

    def to_python(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            if len(value) > 1:
                raise forms.ValidationError(self.error_messages["one_role"], code="one_role")
            value = value[0] if value else ""
        return super().to_python(value)


class StaffAccountForm(forms.ModelForm):
    role = OneRoleField(label="Role", choices=ROLE_CHOICES)
    therapist = forms.ModelChoiceField(
        label="Therapist record",
        queryset=Therapist.objects.none(),
        required=False,
        empty_label="None",
        help_text="The therapist whose schedule this login opens. Needed for the Therapist role.",
    )

    class Meta:
        model = get_user_model()
        fields = ["username", "first_name", "last_name", "email", "is_active"]
        labels = {"is_active": "Active: may log in"}
        help_texts = {
            "username": "What they type to log in: letters, digits and @ . + - _ only, up to 150 characters.",
            "is_active": "Turn this off when someone leaves: they can no longer log in, and their history stays.",
        }

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        account = self.instance
        self.fields["email"].required = True
        self.fields["email"].help_text = "Where the link to set a password goes."
        self.fields["first_name"].required = True
        linked = Q(user__isnull=True) | (Q(user=account) if account.pk else Q())
        self.fields["therapist"].queryset = Therapist.objects.filter(linked).order_by("-active", "order", "name")  # type: ignore[attr-defined]
        if account.pk:
            self.current_role = role_of_account(account)
            self.initial.setdefault("role", self.current_role.value if self.current_role else None)
            own = Therapist.objects.filter(user=account).first()
            self.initial.setdefault("therapist", own.pk if own else None)
        else:
            self.current_role = None
            self.initial.setdefault("role", Role.RECEPTIONIST.value)

    @property
    def is_own_account(self) -> bool:
        return self.instance.pk is not None and self.instance.pk == self.actor.pk

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        taken = get_user_model()._default_manager.filter(username__iexact=username).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another account already has this username.")
        return username

    def clean_email(self) -> str:
        email = BaseUserManager.normalize_email(self.cleaned_data["email"])
        taken = get_user_model()._default_manager.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another account already uses this email address.")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        role, therapist = cleaned.get("role"), cleaned.get("therapist")
        if role == Role.THERAPIST.value and therapist is None and "therapist" not in self.errors:
            self.add_error("therapist", "A therapist's login opens their schedule: choose their therapist record.")
        if self.is_own_account:
            # Easy to do by accident, and then nobody may be left to undo it.
            if cleaned.get("is_active") is False:
                self.add_error("is_active", "You cannot deactivate your own account; another manager can.")
            if role and self.current_role is not None and role != self.current_role.value:
                self.add_error("role", "You cannot change your own role; another manager can.")
        return cleaned

    def details(self) -> StaffDetails:
        data = self.cleaned_data
        return StaffDetails(
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            is_active=data["is_active"],
            role=Role(data["role"]),
            therapist=data["therapist"],
        )


class NewStaffAccountForm(StaffAccountForm):
    send_password_link = forms.BooleanField(
        label="Email them a link to set their password",
        required=False,
        initial=True,
        help_text="The account has no password until they choose one.",
    )
