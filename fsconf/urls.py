from django.urls import path

from fsconf import views

urlpatterns = [
    path("", views.fetch, name="freeswitch-fetch"),
    path("<str:section>", views.fetch, name="freeswitch-fetch-section"),
]
