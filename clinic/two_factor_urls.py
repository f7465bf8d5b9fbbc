from django.urls import path

from clinic import two_factor_views as views

app_name = "two_factor"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("setup/", views.setup, name="setup"),
    path("verify/", views.verify, name="verify"),
    path("turn-off/", views.turn_off, name="turn_off"),
    path("staff/<int:user_id>/remove/", views.remove_for, name="remove_for"),
]
