from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from booking import selectors
from clinic import permissions


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "clinic/home.html",
        {"services": selectors.active_services(), "therapists": selectors.active_therapists()},
    )


def sciatica(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/sciatica.html", {"services": selectors.active_services()})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@login_required
def staff_home(request: HttpRequest) -> HttpResponse:
    """Where the login page sends staff: each role to its own start page."""
    return redirect(permissions.landing_url(request.user))
