from django.urls import path

from payments import simulated

urlpatterns = [
    path("payments/simulated/<str:token>/", simulated.pay_page, name="simulated_pay_page"),
]
