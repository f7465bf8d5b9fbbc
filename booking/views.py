from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from booking import selectors


def service_list(request: HttpRequest) -> HttpResponse:
    return render(request, "booking/service_list.html", {"services": selectors.active_services()})


def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    raise NotImplementedError


def book(request):
    raise NotImplementedError


appointment_manage = appointment_cancel = appointment_reschedule = appointment_ics = book
