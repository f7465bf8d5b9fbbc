import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse

from clinic import permissions, policy
from clinic.models import ClinicSettings

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic admin"
admin.site.index_title = "Calendar, patients and clinic settings"


class VisibleRowsAdmin(admin.ModelAdmin):
    """An admin that shows each user only the rows `clinic.permissions` lets them see.

    The list, its search box and URL filters, the autocomplete of fields pointing here, the change and history
    pages all start from `get_queryset`; an object reached another way is checked with `sees_row`. A filter by
    therapist lists every therapist whatever the rows, so only those who see every therapist get one.
    """

    def rows_visible_to(self, user: Any, queryset: QuerySet) -> QuerySet:
        raise NotImplementedError

    def sees_row(self, user: Any, obj: Model) -> bool:
        raise NotImplementedError

    def get_queryset(self, request):
        return self.rows_visible_to(request.user, super().get_queryset(request))

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or self.sees_row(request.user, obj))

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or self.sees_row(request.user, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or self.sees_row(request.user, obj))

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if permissions.sees_every_therapist(request.user):
            return filters
        return [item for item in filters if _filter_field(item) != "therapist"]


def _filter_field(item) -> str | None:
    name = item[0] if isinstance(item, list | tuple) else item
    return name.split("__")[0] if isinstance(name, str) else None


class ClinicSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=[(name, name) for name in sorted(zoneinfo.available_timezones())],
        help_text="Working hours, time off and the times patients see are in this zone.",
    )

    class Meta:
        model = ClinicSettings
        fields = [
            "name",
            "tagline",
            "phone",
            "email",
            "address",
            "time_zone",
            "min_notice_minutes",
            "horizon_days",
            "slot_step_minutes",
            "cancellation_window_hours",
            "first_reminder_hours",
            "second_reminder_hours",
            "waitlist_offer_minutes",
            "therapist_notice_hours",
            "online_booking_cap",
            "staff_session_minutes",
        ]

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        first, second = cleaned.get("first_reminder_hours"), cleaned.get("second_reminder_hours")
        if first and second and second >= first:
            self.add_error("second_reminder_hours", "The second reminder comes after the first: give fewer hours.")
        return cleaned


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(admin.ModelAdmin):
    """One row of settings: the list goes straight to its form, and it can be neither added twice nor deleted."""

    form = ClinicSettingsForm
    fieldsets = [
        ("Clinic", {"fields": ["name", "tagline", "phone", "email", "address", "time_zone"]}),
        (
            "Booking policies",
            {
                "fields": [
                    "min_notice_minutes",
                    "horizon_days",
                    "slot_step_minutes",
                    "cancellation_window_hours",
                ]
            },
        ),
        (
            "Messages",
            {
                "fields": [
                    ("first_reminder_hours", "second_reminder_hours"),
                    "waitlist_offer_minutes",
                    "therapist_notice_hours",
                ]
            },
        ),
        ("Safety", {"fields": ["online_booking_cap", "staff_session_minutes"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not ClinicSettings.objects.exists()

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and policy.may_edit_clinic_settings(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and policy.may_edit_clinic_settings(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        settings_row = ClinicSettings.load()
        return HttpResponseRedirect(reverse("admin:clinic_clinicsettings_change", args=[settings_row.pk]))


class SuperusersOnly(admin.ModelAdmin):
    """Logins, groups and raw permissions are a superuser's to manage, whatever permissions a group was given:
    anyone else cannot open these pages at all (a manager looks after staff accounts at /frontdesk/staff/)."""

    def has_module_permission(self, request) -> bool:
        return policy.may_manage_permissions(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return policy.may_manage_permissions(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return policy.may_manage_permissions(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return policy.may_manage_permissions(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return policy.may_manage_permissions(request.user) and super().has_delete_permission(request, obj)


class SuperusersUserAdmin(SuperusersOnly, UserAdmin):
    pass


class SuperusersGroupAdmin(SuperusersOnly, GroupAdmin):
    pass


admin.site.unregister(User)
admin.site.register(User, SuperusersUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, SuperusersGroupAdmin)
