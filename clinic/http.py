"""The request type of this site's views: Django's, with what django-htmx's middleware adds."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class ClinicRequest(HttpRequest):
    htmx: HtmxDetails
