"""Admin of merchants, their logins, orders, purchases; the ledger is read-only (append-only)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import LedgerEntry, Merchant, MerchantMember, Order, YinzundaPurchase


class MerchantMemberInline(admin.TabularInline):
    model = MerchantMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "quota_percent", "quota_mode", "created_at"]
    search_fields = ["code", "name"]
    list_filter = ["quota_mode"]
    inlines = [MerchantMemberInline]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_number", "merchant", "created_at", "amount"]
    search_fields = ["order_number"]
    list_select_related = ["merchant"]
    raw_id_fields = ["merchant"]
    show_full_result_count = False  # no COUNT(*) over a million orders
    date_hierarchy = "created_at"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(YinzundaPurchase)
class YinzundaPurchaseAdmin(ReadOnlyAdmin):
    """Purchases are made and cancelled through the services (they move money), never here."""

    list_display = ["order", "merchant", "fee", "status", "purchased_at", "cancelled_at"]
    list_filter = ["status"]
    list_select_related = ["order", "merchant"]
    search_fields = ["order__order_number"]
    show_full_result_count = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "merchant",
        "kind",
        "amount",
        "purchase",
        "claim",
        "settlement",
        "memo",
    ]
    list_filter = ["kind"]
    list_select_related = ["merchant", "purchase__order", "claim", "settlement"]
    search_fields = ["memo", "merchant__code"]
    show_full_result_count = False
