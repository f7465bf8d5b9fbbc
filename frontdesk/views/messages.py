"""The message log: every email and text the clinic sent or tried to send, with failures and their reasons.

Receptionists and managers only. The list filters by status, kind and channel and searches recipients and
patients; one message's page shows its text; a failed (or not sent) message can be put back in the queue,
and the worker sends it. Reads come from notifications.selectors in a fixed number of queries.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from clinic.http import ClinicRequest
from frontdesk.access import front_desk_required
from frontdesk.message_forms import MessageFilterForm
from notifications import delivery, outbox, selectors
from notifications.models import OutboundMessage

PAGE_SIZE = 25

# A link carrying a secret (a patient's private link, a stop-reminders or waitlist link: at least 128 bits,
# so twenty-odd URL-safe characters). Staff pages never link to a patient's private page, so the text shown
# here keeps the rest of the message and hides the link.
PRIVATE_LINK = re.compile(r"https?://\S*?[/=][A-Za-z0-9_-]{20,}\S*")
HIDDEN_LINK = "[private link]"


def shown_text(body: str) -> str:
    return PRIVATE_LINK.sub(HIDDEN_LINK, body)


def _message_or_404(pk: int) -> OutboundMessage:
    message = selectors.message_for_staff(pk)
    if message is None:
        raise Http404("No such message.")
    return message


@front_desk_required
@require_GET
def message_log(request: ClinicRequest) -> HttpResponse:
    """GET ?status=&kind=&channel=&q=&page=: the newest messages first, a page at a time."""
    form = MessageFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "frontdesk/messages.html", {"form": form, "page": None}, status=400)
    filters = form.filters()
    page = Paginator(selectors.message_log(filters), PAGE_SIZE).get_page(form.cleaned_data["page"])
    context = {
        "form": form,
        "page": page,
        "filtered": any((filters.status, filters.kind, filters.channel, filters.q)),
        "query": form.query_without_page(),
        "here": request.get_full_path(),
    }
    return render(request, "frontdesk/messages.html", context)


@front_desk_required
@require_GET
def message_detail(request: ClinicRequest, pk: int) -> HttpResponse:
    message = _message_or_404(pk)
    context = {
        "outbound": message,
        "text": shown_text(message.body_text),
        "retryable": message.status in selectors.RETRYABLE,
        "here": request.get_full_path(),
    }
    return render(request, "frontdesk/messages_detail.html", context)


def _back(request: ClinicRequest, message: OutboundMessage) -> str:
    """Where the button was pressed (the log with its filters, the appointment), if it is one of our pages."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        return back
    return reverse("frontdesk:message", args=[message.pk])


@front_desk_required
@require_POST
def message_retry(request: ClinicRequest, pk: int) -> HttpResponse:
    """Put a failed or unsent message back in the queue with a fresh count of attempts; the worker sends it."""
    message = _message_or_404(pk)
    if message.status not in selectors.RETRYABLE:
        messages.error(
            request,
            f"Only a failed or unsent message can be tried again; this one is “{message.get_status_display()}”.",
        )
        return redirect(_back(request, message))
    delivery.retry(message, timezone.now())
    outbox.wake_worker_after_commit()
    messages.success(
        request, f"The {message.get_kind_display().lower()} to {message.recipient} will be sent again shortly."
    )
    return redirect(_back(request, message))
