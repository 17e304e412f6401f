"""URL routes of the carriers app."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
