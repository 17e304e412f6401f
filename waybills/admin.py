"""Operator admin for platform e-waybills and their tracking events (read-mostly)."""
from __future__ import annotations

from django.contrib import admin

from .models import TrackingEvent, Waybill, WaybillSequence


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    fields = ["occurred_at", "code", "location", "delivery_method", "proof_type", "proof_url", "event_id", "received_at"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Waybill)
class WaybillAdmin(admin.ModelAdmin):
    list_display = ["number", "carrier", "status", "status_at", "delivery_method", "delivered_at", "is_platform_issued"]
    list_filter = ["carrier", "status", "delivery_method", "is_platform_issued"]
    list_select_related = ["carrier"]
    search_fields = ["number", "order__order_number"]
    raw_id_fields = ["order"]
    readonly_fields = ["number", "status", "status_at", "delivery_method", "delivered_at", "created_at"]
    inlines = [TrackingEventInline]


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "carrier", "waybill", "code", "occurred_at", "delivery_method", "received_at"]
    list_filter = ["carrier", "code", "delivery_method"]
    list_select_related = ["carrier", "waybill"]
    search_fields = ["event_id", "waybill__number"]
    raw_id_fields = ["waybill"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # carrier data, stored as received


@admin.register(WaybillSequence)
class WaybillSequenceAdmin(admin.ModelAdmin):
    list_display = ["carrier", "next_serial"]
    readonly_fields = ["carrier", "next_serial"]
