from django.urls import path

from pbx.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.portal_logout, name="logout"),
    path("masquerade/", views.masquerade_start, name="masquerade-start"),
    path("masquerade/end/", views.masquerade_end, name="masquerade-end"),
]
