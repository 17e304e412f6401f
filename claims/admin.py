"""Django admin of complaints, claims (history read-only), settlements and the merchant inbox.

Claims and settlements change state only through services (the state machine); the admin
shows them read-only so an operator cannot bypass the audit trail.
"""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Claim, ClaimTransition, Complaint, ComplaintPhoto, Notification, Settlement


class ComplaintPhotoInline(admin.TabularInline):
    model = ComplaintPhoto
    extra = 0
    fields = ["photo", "content_type", "size", "uploaded_at"]
    readonly_fields = ["photo", "content_type", "size", "uploaded_at"]
    can_delete = False

    @admin.display(description=_("照片"))
    def photo(self, obj: ComplaintPhoto) -> str:
        # Private storage has no URL: the staff photo view checks who asks.
        url = reverse("staff:photo", args=[obj.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("查看照片"))

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ["reference", "order", "waybill", "complaint_type", "status", "created_at", "routed_at"]
    list_filter = ["status", "complaint_type"]
    search_fields = ["reference", "order__order_number", "waybill__number"]
    list_select_related = ["order", "waybill"]
    readonly_fields = [
        "reference", "order", "waybill", "complaint_type", "description", "status", "decision_reason",
        "created_at", "routed_at",
    ]
    inlines = [ComplaintPhotoInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False


class ClaimTransitionInline(admin.TabularInline):
    model = ClaimTransition
    extra = 0
    fields = ["created_at", "from_status", "to_status", "actor", "actor_user", "actor_carrier", "reason", "evidence"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["id", "carrier", "waybill", "merchant", "complaint_type", "amount", "status", "trigger", "deadline_at", "updated_at"]
    list_filter = ["status", "trigger", "carrier"]
    search_fields = ["waybill__number", "order__order_number", "complaint__reference"]
    list_select_related = ["carrier", "waybill", "merchant"]
    readonly_fields = [
        "complaint", "trigger", "source_event", "waybill", "carrier", "merchant", "order", "complaint_type",
        "tariff", "amount", "status", "deadline_at", "opened_at", "updated_at", "resolved_at", "settlement",
    ]
    inlines = [ClaimTransitionInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Settlement)
class SettlementAdmin(admin.ModelAdmin):
    list_display = ["reference", "carrier", "period_start", "period_end", "claim_count", "total_amount", "status", "paid_at"]
    list_filter = ["status", "carrier"]
    search_fields = ["reference", "payment_reference"]
    list_select_related = ["carrier"]
    readonly_fields = [
        "carrier", "reference", "period_start", "period_end", "claim_count", "total_amount", "status",
        "issued_at", "paid_at", "payment_reference", "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "merchant", "claim", "created_at", "read_at"]
    list_filter = ["merchant"]
    search_fields = ["title"]
    list_select_related = ["merchant", "claim"]
    readonly_fields = ["merchant", "claim", "title", "body", "created_at", "read_at"]

    def has_add_permission(self, request):
        return False
