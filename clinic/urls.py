from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import views

urlpatterns = [
    path("", views.home, name="home"),
    path("conditions/sciatica/", views.sciatica, name="sciatica"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/home/", views.staff_home, name="staff_home"),
    path("frontdesk/", include("frontdesk.urls")),
    path("reminders/", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("", include("therapists.urls")),
    path("", include("booking.urls")),
]

handler400 = "clinic.views.bad_request"
handler404 = "clinic.views.page_not_found"
