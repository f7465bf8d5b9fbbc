from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from booking import selectors


def therapist_list(request: HttpRequest) -> HttpResponse:
    return render(request, "therapists/therapist_list.html", {"therapists": selectors.active_therapists()})


def therapist_detail(request: HttpRequest, slug: str) -> HttpResponse:
    therapist = get_object_or_404(selectors.active_therapists(), slug=slug)
    return render(request, "therapists/therapist_detail.html", {"therapist": therapist})
