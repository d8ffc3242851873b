from django.urls import path

from payments.api.quote_views import QuoteView

urlpatterns = [path("quote", QuoteView.as_view(), name="api_quote")]
