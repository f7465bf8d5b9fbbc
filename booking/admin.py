from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from booking import history
from booking.admin_forms import ServiceOptionInlineFormSet
from booking.models import Appointment, AppointmentEvent, Patient, Service, ServiceOption
from clinic import permissions
from clinic.admin import VisibleRowsAdmin


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
    fields = readonly_fields = ("start", "therapist", "service", "duration_minutes", "status", "channel")
    ordering = ["-start"]
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "appointments"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("therapist", "service")
        return permissions.appointments_visible_to(request.user, queryset)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(VisibleRowsAdmin):
    list_display = ["name", "email", "phone", "date_of_birth", "created_at"]
    search_fields = ["name", "email", "phone"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at"]
    fields = ["name", "email", "phone", "date_of_birth", "created_at"]
    inlines = [PatientAppointmentInline]

    def rows_visible_to(self, user, queryset):
        return permissions.patients_visible_to(user, queryset)

    def sees_row(self, user, obj) -> bool:
        return permissions.sees_patient(user, obj)


class AppointmentEventInline(admin.TabularInline):
    """The appointment's history, as the services wrote it, in the clinic's time."""

    model = AppointmentEvent
    fields = readonly_fields = ("when", "what", "actor_name", "actor_role", "via")
    extra = 0
    can_delete = False
    verbose_name_plural = "history"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="when")
    def when(self, event: AppointmentEvent) -> str:
        return date_format(timezone.localtime(event.at), "D j M Y, H:i")

    @admin.display(description="what")
    def what(self, event: AppointmentEvent) -> str:
        return history.describe(event, timezone.get_current_timezone())


@admin.register(Appointment)
class AppointmentAdmin(VisibleRowsAdmin):
    """Appointments, read only: booking, moving, cancelling and status changes happen at the front desk.

    Appointments are never deleted: a cancelled one is kept with who cancelled
    it, when and why. There is no link to the patient's private page: staff
    never act through a patient's link.
    """

    list_display = ["when", "patient", "therapist", "service", "duration_minutes", "status", "channel", "front_desk"]
    list_filter = ["status", "channel", "therapist", "service"]
    search_fields = ["patient__name", "patient__email", "patient__phone"]
    date_hierarchy = "start"
    ordering = ["-start"]
    list_select_related = ["patient", "therapist", "service"]
    view_on_site = False
    inlines = [AppointmentEventInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "front_desk",
                    "patient",
                    "service",
                    ("duration_minutes", "price"),
                    "therapist",
                    ("local_start", "local_end"),
                    "status",
                    "patient_note",
                    "staff_note",
                ]
            },
        ),
        (
            "Cancellation",
            {"fields": ["cancellation_reason", ("local_cancelled_at", "cancelled_by_role", "cancelled_by")]},
        ),
        ("Record", {"fields": ["channel", "booked_by", ("local_created_at", "local_updated_at")]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fieldsets = self.get_fieldsets(request, obj)
        return [field for group in fieldsets for line in group[1]["fields"] for field in _flat(line)]

    # The front desk's page is closed to therapists: no link that only leads to a refusal.
    def get_fieldsets(self, request, obj=None):
        if permissions.works_front_desk(request.user):
            return self.fieldsets
        return [
            (name, {**options, "fields": _without_front_desk(options["fields"])}) for name, options in self.fieldsets
        ]

    def get_list_display(self, request):
        if permissions.works_front_desk(request.user):
            return self.list_display
        return _without_front_desk(self.list_display)

    @admin.display(description="start", ordering="start")
    def when(self, appointment: Appointment) -> str:
        return _local(appointment.start)

    @admin.display(description="start")
    def local_start(self, appointment: Appointment) -> str:
        return _local(appointment.start)

    @admin.display(description="end")
    def local_end(self, appointment: Appointment) -> str:
        return _local(appointment.end)

    @admin.display(description="cancelled at")
    def local_cancelled_at(self, appointment: Appointment) -> str:
        return _local(appointment.cancelled_at) if appointment.cancelled_at else "–"

    @admin.display(description="created")
    def local_created_at(self, appointment: Appointment) -> str:
        return _local(appointment.created_at)

    @admin.display(description="last changed")
    def local_updated_at(self, appointment: Appointment) -> str:
        return _local(appointment.updated_at)

    @admin.display(description="front desk")
    def front_desk(self, appointment: Appointment) -> str:
        url = reverse("frontdesk:appointment", args=[appointment.pk])
        return format_html('<a href="{}">Open at the front desk</a>', url)

    def rows_visible_to(self, user, queryset):
        return permissions.appointments_visible_to(user, queryset)

    def sees_row(self, user, obj) -> bool:
        return permissions.sees_appointment(user, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _without_front_desk(fields) -> list:
    return [field for field in fields if field != "front_desk"]


def _flat(line) -> tuple:
    return line if isinstance(line, tuple) else (line,)


def _local(moment) -> str:
    return date_format(timezone.localtime(moment), "D j M Y, H:i")
