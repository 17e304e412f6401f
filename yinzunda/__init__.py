"""Yinzunda (音尊达) claims portal project package."""
from .celery import app as celery_app

__all__ = ("celery_app",)
