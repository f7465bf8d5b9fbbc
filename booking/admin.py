from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.views.decorators.csrf import csrf_protect

from booking import services
from booking.admin_forms import AppointmentAdminForm, ServiceOptionInlineFormSet
from booking.errors import BookingError
from booking.models import Appointment, Patient, Service, ServiceOption


def own_appointments_only(request: HttpRequest, queryset: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """Staff who may change appointments see them all; a therapist who may only view sees their own."""
    user = request.user
    if user.has_perm("booking.change_appointment"):
        return queryset
    therapist = getattr(user, "therapist", None)
    if therapist is None:
        return queryset.none()
    return queryset.filter(therapist=therapist)


class ServiceOptionInline(admin.TabularInline):
    model = ServiceOption
    formset = ServiceOptionInlineFormSet
    fields = ["duration_minutes", "price", "is_default", "active"]
    extra = 1


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "order", "buffer_minutes", "lengths"]
    list_filter = ["active"]
    search_fields = ["name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ServiceOptionInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "summary", "description"]}),
        ("Booking", {"fields": ["buffer_minutes", "active", "order"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("options")

    @admin.display(description="lengths (minutes)")
    def lengths(self, service: Service) -> str:
        options = [option for option in service.options.all() if option.active]
        if not options:
            return "none"
        return ", ".join(f"{o.duration_minutes}{' (default)' if o.is_default else ''}" for o in options)


class PatientAppointmentInline(admin.TabularInline):
    """The patient's appointments, read only: they are booked, moved and cancelled from the appointment pages."""

    model = Appointment
    fields = ["start", "therapist", "service", "duration_minutes", "status", "channel"]
    readonly_fields = fields
    ordering = ["-start"]
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "appointments"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("therapist", "service")
        return own_appointments_only(request, queryset)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "date_of_birth", "created_at"]
    search_fields = ["name", "email", "phone"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at"]
    fields = ["name", "email", "phone", "date_of_birth", "created_at"]
    inlines = [PatientAppointmentInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.has_perm("booking.change_appointment"):
            return queryset
        return queryset.filter(pk__in=own_appointments_only(request, Appointment.objects.all()).values("patient_id"))


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Every write goes through booking.services: the form books, moves and cancels; the actions change status.

    Appointments are never deleted here: a cancelled one is kept with who
    cancelled it, when and why.
    """

    form = AppointmentAdminForm
    list_display = ["when", "patient", "therapist", "service", "duration_minutes", "status", "channel"]
    list_filter = ["status", "channel", "therapist", "service"]
    search_fields = ["patient__name", "patient__email", "patient__phone"]
    date_hierarchy = "start"
    ordering = ["-start"]
    list_select_related = ["patient", "therapist", "service"]
    autocomplete_fields = ["patient"]
    actions = ["mark_checked_in", "mark_completed", "mark_no_show", "cancel_appointments"]

    add_fieldsets = [
        (None, {"fields": ["patient", "therapist", "service", "duration_minutes", "start", "patient_note"]}),
    ]
    change_fieldsets = [
        (
            None,
            {
                "fields": [
                    "patient",
                    "service",
                    ("duration_minutes", "price"),
                    "therapist",
                    "start",
                    ("end", "blocked_until"),
                    "status",
                    "patient_note",
                ]
            },
        ),
        ("Cancellation", {"fields": ["cancellation_reason", ("cancelled_at", "cancelled_by_role", "cancelled_by")]}),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": ["channel", "booked_by", ("created_at", "updated_at"), "manage_token"],
            },
        ),
    ]
    change_readonly_fields = [
        "patient",
        "service",
        "duration_minutes",
        "price",
        "end",
        "blocked_until",
        "patient_note",
        "channel",
        "booked_by",
        "created_at",
        "updated_at",
        "cancelled_at",
        "cancelled_by_role",
        "cancelled_by",
        "manage_token",
    ]

    @admin.display(description="start", ordering="start")
    def when(self, appointment: Appointment) -> str:
        return date_format(timezone.localtime(appointment.start), "D j M Y, H:i")

    def get_queryset(self, request):
        return own_appointments_only(request, super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.change_fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.change_readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a new class per request, so this is not shared
        return form

    @method_decorator(csrf_protect)
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The add and change views, without the transaction Django's admin wraps them in.

        The form writes through booking.services, whose operations each run in
        their own durable transaction (`transaction.atomic(durable=True)`) and
        refuse to nest inside another one. The service's transaction is the
        unit of work here; the admin's log entry is written after it commits.
        """
        return self._changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        """Nothing to do: the form already wrote the appointment through booking.services during validation."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status == Appointment.Status.CANCELLED:
            return False
        return super().has_change_permission(request, obj)

    def _set_status(self, request, queryset, status: str, done: str) -> None:
        now = timezone.now()
        changed = 0
        for appointment in queryset.select_related("patient", "therapist"):
            try:
                if status == Appointment.Status.CANCELLED:
                    services.appointment_cancel(appointment=appointment, now=now, actor=request.user)
                else:
                    services.appointment_set_status(appointment=appointment, status=status, now=now, actor=request.user)
            except BookingError as error:
                self.message_user(request, f"{appointment}: {error.message}", messages.ERROR)
            else:
                changed += 1
        if changed:
            noun = "appointment" if changed == 1 else "appointments"
            self.message_user(request, f"{done} {changed} {noun}.", messages.SUCCESS)

    @admin.action(description="Mark checked in", permissions=["change"])
    def mark_checked_in(self, request, queryset) -> None:
        self._set_status(request, queryset, Appointment.Status.CHECKED_IN, "Checked in")

    @admin.action(description="Mark completed", permissions=["change"])
    def mark_completed(self, request, queryset) -> None:
        self._set_status(request, queryset, Appointment.Status.COMPLETED, "Completed")

    @admin.action(description="Mark no-show", permissions=["change"])
    def mark_no_show(self, request, queryset) -> None:
        self._set_status(request, queryset, Appointment.Status.NO_SHOW, "Marked as no-show")

    @admin.action(description="Cancel selected appointments", permissions=["change"])
    def cancel_appointments(self, request, queryset) -> None:
        self._set_status(request, queryset, Appointment.Status.CANCELLED, "Cancelled")
