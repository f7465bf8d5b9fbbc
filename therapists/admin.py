from collections import defaultdict
from itertools import pairwise

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone

from booking.models import Appointment
from therapists.models import Therapist, TimeOff, Weekday, WorkingHours

END_BEFORE_START = "The end must be after the start."


def _check_start_before_end(form: forms.ModelForm, cleaned: dict) -> None:
    # The database refuses it too (a check constraint); this says so in words next to the field.
    start, end = cleaned.get("start"), cleaned.get("end")
    if start is not None and end is not None and start >= end:
        form.add_error("end", END_BEFORE_START)


class WorkingHoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["therapist", "weekday", "start", "end"]

    def clean(self) -> dict:
        cleaned = super().clean()
        _check_start_before_end(self, cleaned)
        return cleaned


class WorkingHoursAdminForm(WorkingHoursForm):
    """One interval edited on its own: it must not overlap the therapist's other hours that day."""

    def clean(self) -> dict:
        cleaned = super().clean()
        therapist, weekday = cleaned.get("therapist"), cleaned.get("weekday")
        start, end = cleaned.get("start"), cleaned.get("end")
        if self.errors or None in (therapist, weekday, start, end):
            return cleaned
        clash = (
            WorkingHours.objects.filter(therapist=therapist, weekday=weekday, start__lt=end, end__gt=start)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if clash is not None:
            raise forms.ValidationError(f"This overlaps {therapist}'s hours on {clash}.")
        return cleaned


class WorkingHoursInlineFormSet(forms.BaseInlineFormSet):
    """The intervals of one weekday must not overlap each other."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        by_weekday = defaultdict(list)
        for form in self.forms:
            data = form.cleaned_data
            if data and not data.get("DELETE"):
                by_weekday[data["weekday"]].append((data["start"], data["end"]))
        for weekday, intervals in sorted(by_weekday.items()):
            for (_, first_end), (second_start, _) in pairwise(sorted(intervals)):
                if second_start < first_end:
                    raise forms.ValidationError(
                        f"Two working intervals on {Weekday(weekday).label} overlap; join them into one."
                    )


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = ["therapist", "start", "end", "reason"]

    def clean(self) -> dict:
        cleaned = super().clean()
        _check_start_before_end(self, cleaned)
        return cleaned


def warn_about_booked_appointments(modeladmin: admin.ModelAdmin, request, time_off: TimeOff) -> None:
    """Time off does not cancel what is already booked: say so, so the front desk can call those patients."""
    clashes = (
        Appointment.objects.active()
        .filter(therapist_id=time_off.therapist_id)
        .overlapping(time_off.start, time_off.end)
        .count()
    )
    if clashes:
        noun = "appointment is" if clashes == 1 else "appointments are"
        modeladmin.message_user(
            request,
            f"{clashes} {noun} still booked with {time_off.therapist} during this time off. "
            "Move or cancel them from the appointments list.",
            messages.WARNING,
        )


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    form = WorkingHoursForm
    formset = WorkingHoursInlineFormSet
    fields = ["weekday", "start", "end"]
    extra = 1


class TimeOffInline(admin.TabularInline):
    """Current and upcoming time off; past entries stay in the time off list."""

    model = TimeOff
    form = TimeOffForm
    fields = ["start", "end", "reason"]
    extra = 1
    verbose_name_plural = "current and upcoming time off"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(end__gt=timezone.now())


@admin.register(Therapist)
class TherapistAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "registration_number", "active", "services_count"]
    list_filter = ["active", "services"]
    search_fields = ["name", "registration_number", "user__username"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["services"]
    autocomplete_fields = ["user"]
    inlines = [WorkingHoursInline, TimeOffInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "title", "registration_number", "bio"]}),
        ("Booking", {"fields": ["services", "active", "order"]}),
        ("Staff login", {"fields": ["user"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(services_count=Count("services", distinct=True))

    @admin.display(description="services", ordering="services_count")
    def services_count(self, therapist: Therapist) -> int:
        return therapist.services_count

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is TimeOff:
            for time_off in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
                warn_about_booked_appointments(self, request, time_off)


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    form = WorkingHoursAdminForm
    list_display = ["therapist", "weekday", "start", "end"]
    list_filter = ["therapist", "weekday"]
    list_select_related = ["therapist"]
    ordering = ["therapist__order", "therapist__name", "weekday", "start"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    form = TimeOffForm
    list_display = ["therapist", "start", "end", "reason"]
    list_filter = ["therapist"]
    list_select_related = ["therapist"]
    search_fields = ["reason", "therapist__name"]
    date_hierarchy = "start"
    ordering = ["-start"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        warn_about_booked_appointments(self, request, obj)
