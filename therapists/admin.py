"""The manager's admin for therapists, their weekly hours and their time off.

A change that would leave booked appointments outside working time or inside
time off (new hours, time off, making a therapist inactive) is refused with the
list of those appointments until the manager ticks "Save anyway": nobody is
silently left without a therapist. The front desk then moves or cancels them.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import time
from itertools import pairwise
from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from booking import selectors, waitlist_services
from booking.models import Appointment
from clinic import permissions, policy
from clinic.admin import VisibleRowsAdmin
from clinic.models import ClinicSettings
from therapists.models import Therapist, TimeOff, Weekday, WorkingHours

END_BEFORE_START = "The end must be after the start."


def _check_start_before_end(form: forms.ModelForm, cleaned: dict) -> None:
    # The database refuses it too (a check constraint); this says so in words next to the field.
    start, end = cleaned.get("start"), cleaned.get("end")
    if start is not None and end is not None and start >= end:
        form.add_error("end", END_BEFORE_START)


# The box the manager ticks to save anyway; its value lists the appointments they were shown, so one booked
# since then is shown too before anything is saved.
SAVE_ANYWAY = "save_anyway"


def confirmed_ids(data) -> set[int]:
    raw = data.get(SAVE_ANYWAY, "") if data is not None else ""
    parts = [part for part in str(raw).split(",") if part]
    if len(parts) > 500 or not all(part.isdigit() and len(part) < 12 for part in parts):
        return set()
    return {int(part) for part in parts}


def stranded_error(stranded: Sequence[Appointment], tz) -> forms.ValidationError:
    """One message for the top of the form: the appointments, each linked to the front desk, and the box to tick."""
    count = len(stranded)
    therapist = stranded[0].therapist.name
    rows = format_html_join(
        "",
        '<li><a href="{}">{}</a>, {}, {} ({} min)</li>',
        (
            (
                reverse("frontdesk:appointment", args=[appointment.pk]),
                appointment.patient.name,
                date_format(timezone.localtime(appointment.start, tz), "D j M Y, H:i"),
                appointment.service.name,
                appointment.duration_minutes,
            )
            for appointment in stranded
        ),
    )
    return forms.ValidationError(
        format_html(
            '<span class="stranded-note">Not saved yet: this change would leave {} booked appointment{} with {} '
            "outside working time or inside time off.</span>"
            '<ul class="stranded-appointments">{}</ul>'
            '<label class="stranded-confirm"><input type="checkbox" name="{}" value="{}"> '
            "Save anyway: I will move or cancel these appointments at the front desk.</label>",
            count,
            "" if count == 1 else "s",
            therapist,
            rows,
            SAVE_ANYWAY,
            ",".join(str(appointment.pk) for appointment in stranded),
        ),
        code="stranded",
    )


def refuse_if_stranded(form: forms.BaseForm, therapist: Therapist, **change) -> None:
    """Add the stranded error to `form` unless the manager confirmed every appointment the change would strand."""
    clinic = ClinicSettings.load()
    stranded = selectors.stranded_appointments(therapist, now=timezone.now(), clinic=clinic, **change)
    if {appointment.pk for appointment in stranded} - confirmed_ids(form.data):
        form.add_error(None, stranded_error(stranded, clinic.tz))


def _weekly(pairs) -> dict[int, list[tuple[time, time]]]:
    weekly: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in pairs:
        weekly.setdefault(weekday, []).append((start, end))
    return weekly


class WorkingHoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["therapist", "weekday", "start", "end"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        _check_start_before_end(self, self.cleaned_data)
        return self.cleaned_data


class WorkingHoursAdminForm(WorkingHoursForm):
    """One interval edited on its own: it must not overlap the therapist's other hours that day,
    and it must not strand booked appointments unless the manager says so."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        therapist, weekday = cleaned.get("therapist"), cleaned.get("weekday")
        start, end = cleaned.get("start"), cleaned.get("end")
        if self.errors or therapist is None or weekday is None or start is None or end is None:
            return cleaned
        clash = (
            WorkingHours.objects.filter(therapist=therapist, weekday=weekday, start__lt=end, end__gt=start)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if clash is not None:
            raise forms.ValidationError(f"This overlaps {therapist}'s hours on {clash}.")
        # Until saved, the instance still holds the stored interval and therapist.
        previous_therapist_id = self.instance.therapist_id
        others = (
            WorkingHours.objects.filter(therapist_id__in={therapist.pk, previous_therapist_id} - {None})
            .exclude(pk=self.instance.pk)
            .values_list("therapist_id", "weekday", "start", "end")
        )
        rows = list(others)
        weekly = _weekly((day, s, e) for owner, day, s, e in rows if owner == therapist.pk)
        weekly.setdefault(weekday, []).append((start, end))
        refuse_if_stranded(self, therapist, weekly=weekly)
        if previous_therapist_id is not None and previous_therapist_id != therapist.pk:
            # Moved to someone else: the previous therapist loses these hours.
            left = _weekly((day, s, e) for owner, day, s, e in rows if owner == previous_therapist_id)
            refuse_if_stranded(self, self.instance.therapist, weekly=left)
        return cleaned


# The therapist page saves its hours, its time off and the active flag at once, so the stranded check must see
# all three together. Its inline formsets are built before the therapist form is validated and share its
# instance; they put themselves on it under this name, and the therapist form checks the whole change.
PAGE_FORMSETS = "_admin_inline_formsets"
# Where the therapist page keeps the therapist's open time from before the save, for the waitlist.
OPEN_BEFORE = "_waitlist_open_before"


class TherapistPageFormSet(forms.BaseInlineFormSet):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.instance.__dict__.setdefault(PAGE_FORMSETS, []).append(self)

    def kept_forms(self) -> list[forms.BaseForm]:
        return [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]

    def proposed_change(self) -> dict:
        """What saving this formset would change, as `selectors.stranded_appointments` takes it."""
        raise NotImplementedError


class WorkingHoursInlineFormSet(TherapistPageFormSet):
    """All of a therapist's weekly hours; the intervals of one weekday must not overlap each other."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        by_weekday = defaultdict(list)
        for form in self.kept_forms():
            data = form.cleaned_data
            by_weekday[data["weekday"]].append((data["start"], data["end"]))
        for weekday, intervals in sorted(by_weekday.items()):
            for (_, first_end), (second_start, _) in pairwise(sorted(intervals)):
                if second_start < first_end:
                    raise forms.ValidationError(
                        f"Two working intervals on {Weekday(weekday).label} overlap; join them into one."
                    )

    def proposed_change(self) -> dict:
        kept = [form.cleaned_data for form in self.kept_forms()]
        return {"weekly": _weekly((data["weekday"], data["start"], data["end"]) for data in kept)}


class TimeOffInlineFormSet(TherapistPageFormSet):
    """Current and upcoming time off. Only new and changed entries can strand anything."""

    def proposed_change(self) -> dict:
        initial = self.initial_forms
        added = [
            (form.cleaned_data["start"], form.cleaned_data["end"])
            for form in self.kept_forms()
            if form not in initial or form.has_changed()
        ]
        return {"add_time_off": added}


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = ["therapist", "start", "end", "reason"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        _check_start_before_end(self, self.cleaned_data)
        return self.cleaned_data


class TimeOffAdminForm(TimeOffForm):
    """One time off edited on its own: refused while it strands booked appointments the manager has not accepted."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        therapist, start, end = cleaned.get("therapist"), cleaned.get("start"), cleaned.get("end")
        if self.errors or therapist is None or start is None or end is None:
            return cleaned
        refuse_if_stranded(self, therapist, add_time_off=[(start, end)])
        return cleaned


class TherapistAdminForm(forms.ModelForm):
    """The therapist page: checks its hours, time off and active flag together before anything is saved."""

    class Meta:
        model = Therapist
        fields = ["name", "slug", "title", "registration_number", "bio", "services", "active", "order", "user"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        therapist = self.instance
        if self.errors or therapist.pk is None:
            return cleaned  # a new therapist has no appointments to strand
        formsets = therapist.__dict__.get(PAGE_FORMSETS, [])
        if not all(formset.is_valid() for formset in formsets):
            return cleaned  # their own errors come first; nothing is saved meanwhile
        change: dict = {"active": cleaned.get("active")}
        for formset in formsets:
            change.update(formset.proposed_change())
        refuse_if_stranded(self, therapist, **change)
        return cleaned


def _therapists_of(row: WorkingHours | TimeOff) -> list[Therapist]:
    """Whose time a saved row of hours or time off changes: its therapist, and the one it belonged to before."""
    stored = type(row).objects.select_related("therapist").filter(pk=row.pk).first() if row.pk else None
    return [row.therapist] + ([stored.therapist] if stored is not None else [])


@contextmanager
def _offering_opened_time(therapists: list[Therapist]) -> Iterator[None]:
    """Around a change to these therapists' time: in one transaction, what it opens is offered to the waitlist."""
    now = timezone.now()
    with transaction.atomic():
        before = waitlist_services.open_times(therapists, now)
        yield
        waitlist_services.offer_time_opened(before=before, now=now)


class OffersOpenedTime(admin.ModelAdmin):
    """Hours or time off saved or deleted here can open time: it is offered to the waitlist in the same
    transaction (booking.waitlist_services), as when the front desk takes time off away."""

    def save_model(self, request, obj, form, change) -> None:
        with _offering_opened_time(_therapists_of(obj)):
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj) -> None:
        with _offering_opened_time([obj.therapist]):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with _offering_opened_time([row.therapist for row in queryset.select_related("therapist")]):
            super().delete_queryset(request, queryset)


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
    formset = TimeOffInlineFormSet
    fields = ["start", "end", "reason", "status"]
    readonly_fields = ["status"]
    extra = 1
    verbose_name_plural = "current and upcoming time off"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(end__gt=timezone.now())


@admin.register(Therapist)
class TherapistAdmin(VisibleRowsAdmin):
    class Media:
        css = {"all": ["therapists/admin.css"]}

    form = TherapistAdminForm
    list_display = ["name", "title", "registration_number", "active", "services_count"]
    list_filter = ["active", "services"]
    search_fields = ["name", "registration_number", "user__username"]
    # Explicit: the services count groups the rows, which drops the model's default order, and the autocomplete
    # of fields pointing at therapists pages through this queryset.
    ordering = ["order", "name"]
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

    def get_readonly_fields(self, request, obj=None):
        # Managers link a therapist's login on the staff accounts page, which offers only accounts they may
        # manage; here only a superuser may point a therapist at any login.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if policy.may_manage_permissions(request.user) else [*readonly, "user"]

    # The page saves the therapist, then its hours and time off: the time that opens is offered to the waitlist
    # once all are saved, against what was open before any of it (kept on the instance, as PAGE_FORMSETS is).
    def save_model(self, request, obj, form, change) -> None:
        obj.__dict__[OPEN_BEFORE] = waitlist_services.open_times([obj], timezone.now()) if change else []
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        therapist = form.instance
        before = therapist.__dict__.pop(OPEN_BEFORE, None)
        if before is not None:
            opened = before or [waitlist_services.OpenTime(therapist, [])]
            waitlist_services.offer_time_opened(before=opened, now=timezone.now())

    def rows_visible_to(self, user, queryset):
        return permissions.therapists_visible_to(user, queryset)

    def sees_row(self, user, obj) -> bool:
        return permissions.sees_therapist_records(user, obj.pk)

    @admin.display(description="services", ordering="services_count")
    def services_count(self, therapist: Therapist) -> int:
        return therapist.services_count  # type: ignore[attr-defined]


@admin.register(WorkingHours)
class WorkingHoursAdmin(OffersOpenedTime, VisibleRowsAdmin):
    class Media:
        css = {"all": ["therapists/admin.css"]}

    form = WorkingHoursAdminForm
    list_display = ["therapist", "weekday", "start", "end"]
    list_filter = ["therapist", "weekday"]
    list_select_related = ["therapist"]
    ordering = ["therapist__order", "therapist__name", "weekday", "start"]
    delete_confirmation_template = "therapists/admin/workinghours_delete_confirmation.html"

    def rows_visible_to(self, user, queryset):
        return permissions.working_hours_visible_to(user, queryset)

    def sees_row(self, user, obj) -> bool:
        return permissions.sees_therapist_records(user, obj.therapist_id)

    def get_actions(self, request):
        # Deleting hours in bulk would strand appointments unseen; one at a time, the page lists them first.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        hours = WorkingHours.objects.select_related("therapist").filter(pk=object_id).first()
        if hours is not None:
            rest = WorkingHours.objects.filter(therapist_id=hours.therapist_id).exclude(pk=hours.pk)
            clinic = ClinicSettings.load()
            extra_context = {
                **(extra_context or {}),
                "stranded": selectors.stranded_appointments(
                    hours.therapist,
                    now=timezone.now(),
                    clinic=clinic,
                    weekly=_weekly(rest.values_list("weekday", "start", "end")),
                ),
            }
        return super().delete_view(request, object_id, extra_context)


@admin.register(TimeOff)
class TimeOffAdmin(OffersOpenedTime, VisibleRowsAdmin):
    class Media:
        css = {"all": ["therapists/admin.css"]}

    form = TimeOffAdminForm
    list_display = ["therapist", "start", "end", "reason", "status"]
    list_filter = ["status", "therapist"]
    # A therapist's request is answered at the front desk (which re-checks what is booked), not here.
    readonly_fields = ["status", "requested_by", "decided_by", "decided_at", "decision_note"]
    list_select_related = ["therapist"]
    search_fields = ["reason", "therapist__name"]
    date_hierarchy = "start"
    ordering = ["-start"]

    def rows_visible_to(self, user, queryset):
        return permissions.time_off_visible_to(user, queryset)

    def sees_row(self, user, obj) -> bool:
        return permissions.sees_therapist_records(user, obj.therapist_id)
