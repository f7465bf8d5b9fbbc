import zoneinfo

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from clinic.models import ClinicSettings

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic admin"
admin.site.index_title = "Calendar, patients and clinic settings"


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
        ]


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
    ]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        settings_row = ClinicSettings.load()
        return HttpResponseRedirect(reverse("admin:clinic_clinicsettings_change", args=[settings_row.pk]))
