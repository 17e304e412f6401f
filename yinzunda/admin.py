"""Operators' view of the kernel tables: the outbox (what is still to run) and alerts."""
from django.contrib import admin
from django.utils import timezone

from .models import OperatorAlert, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "task_name", "queue", "created_at", "attempts", "published_at", "done_at")
    list_filter = ("task_name", "queue", ("done_at", admin.EmptyFieldListFilter))
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    ordering = ("-id",)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(OperatorAlert)
class OperatorAlertAdmin(admin.ModelAdmin):
    list_display = ("kind", "key", "level", "count", "last_seen_at", "resolved_at", "message")
    list_filter = ("kind", "level", ("resolved_at", admin.EmptyFieldListFilter))
    readonly_fields = ("kind", "key", "level", "message", "count", "created_at", "last_seen_at")
    actions = ["resolve"]

    @admin.action(description="Mark resolved")
    def resolve(self, request, queryset):
        queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())

    def has_add_permission(self, request) -> bool:
        return False
