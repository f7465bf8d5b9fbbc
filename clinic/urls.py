from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import views
from clinic.password_forms import LimitedPasswordResetView

urlpatterns = [
    path("", views.home, name="home"),
    path("conditions/sciatica/", views.sciatica, name="sciatica"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/home/", views.staff_home, name="staff_home"),
    path("accounts/two-factor/", include("clinic.two_factor_urls")),
    path("accounts/password-reset/", LimitedPasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("frontdesk/", include("frontdesk.urls")),
    path("reminders/", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("", include("therapists.urls")),
    path("", include("booking.urls")),
]

handler400 = "clinic.views.bad_request"
handler404 = "clinic.views.page_not_found"
# A database that cannot be reached gets a 503 that needs no database; anything else the plain 500 page.
handler500 = "clinic.faults.server_error"
