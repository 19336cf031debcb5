"""My phone: an employee's own pages (pbx.portal.views.myphone) under /my/, and the
admin's invitation of the employee on the extension's page; included by the portal's
URLconf in its namespace."""

from django.urls import path

from pbx.portal.views import endusers, myphone

urlpatterns = [
    path("extensions/<int:pk>/login/", endusers.ExtensionLoginView.as_view(), name="extension-login"),
    path("my/", myphone.OverviewView.as_view(), name="myphone"),
    path("my/phones/", myphone.PhonesView.as_view(), name="myphone-phones"),
    path("my/forwarding/", myphone.ForwardingView.as_view(), name="myphone-forwarding"),
    path("my/follow-me/", myphone.FollowMeView.as_view(), name="myphone-follow-me"),
    path("my/blocking/", myphone.BlockingView.as_view(), name="myphone-blocking"),
    path("my/blocking/<int:pk>/delete/", myphone.BlockDeleteView.as_view(), name="myphone-blocking-delete"),
    path("my/voicemail/", myphone.VoicemailView.as_view(), name="myphone-voicemail"),
    path("my/voicemail/greetings/", myphone.GreetingView.as_view(), name="myphone-greeting"),
    path("my/voicemail/<str:uuid>/", myphone.MessageView.as_view(), name="myphone-message"),
    path("my/calls/", myphone.CallHistoryView.as_view(), name="myphone-calls"),
    path("my/welcome/<uidb64>/<token>/", myphone.WelcomeView.as_view(), name="myphone-welcome"),
]
