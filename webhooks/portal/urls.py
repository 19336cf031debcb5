"""Under the portal's ``webhooks/`` (included by pbx.portal.urls, so in its ``portal``
namespace and walked by its page x role matrix)."""

from django.urls import path

from webhooks.portal import views

urlpatterns = [
    path("", views.WebhookListView.as_view(), name="webhook-list"),
    path("add/", views.WebhookEditView.as_view(), name="webhook-create"),
    path("<int:pk>/", views.WebhookEditView.as_view(), name="webhook-edit"),
    path("<int:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook-delete"),
    path("<int:pk>/secret/", views.WebhookSecretView.as_view(), name="webhook-secret"),
    path("<int:pk>/deliveries/", views.WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("deliveries/<int:pk>/redeliver/", views.WebhookRedeliverView.as_view(), name="webhook-redeliver"),
]
