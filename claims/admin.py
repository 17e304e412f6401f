"""Django admin of complaints, claims (history read-only), settlements and the merchant inbox.

Claims and settlements change state only through services (the state machine); the admin
shows them read-only so an operator cannot bypass the audit trail.
"""
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from carriers.admin import TariffAdmin as BaseTariffAdmin
from carriers.choices import ComplaintType
from carriers.models import Tariff

from . import routing
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
        "reference", "order", "waybill", "complaint_type", "description", "status", "decision_reason_text",
        "created_at", "routed_at",
    ]
    inlines = [ComplaintPhotoInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False


class ClaimTransitionInline(admin.TabularInline):
    model = ClaimTransition
    extra = 0
    fields = ["created_at", "from_status", "to_status", "actor", "actor_user", "actor_carrier", "reason_text", "evidence"]
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


# --- Tariffs, seen with the routing rules: the carriers admin cannot know which complaint types a
# rule can claim (claims sit above carriers), so the tariff admin is extended here. ------------


def tariff_problems(tariff: Tariff) -> list[str]:
    """What is wrong with a tariff's cover: a promise a rule claims with no payout (such breaches
    would be forwarded, never paid), or a payout for a type no rule claims (dead configuration)."""
    paid = {p.complaint_type for p in tariff.payouts.all()}
    problems = []
    unpaid = sorted(str(t.label) for t in routing.COVERED_TYPES if t not in paid)
    if unpaid:
        problems.append(_("这些承诺的违约无法获赔（没有赔付金额）：%(types)s") % {"types": "、".join(unpaid)})
    dead = sorted(str(ComplaintType(t).label) for t in paid - set(routing.COVERED_TYPES) if t in ComplaintType.values)
    if dead:
        problems.append(_("这些赔付没有任何规则会发起索赔（无效配置）：%(types)s") % {"types": "、".join(dead)})
    return problems


admin.site.unregister(Tariff)


@admin.register(Tariff)
class TariffWithRulesAdmin(BaseTariffAdmin):
    list_display = [*BaseTariffAdmin.list_display, "cover_problems"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("payouts")

    @admin.display(description=_("赔付配置"))
    def cover_problems(self, obj: Tariff) -> str:
        problems = tariff_problems(obj)
        return format_html('<strong style="color:#c8102e">⚠ {}</strong>', "；".join(problems)) if problems else "✓"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tariff = self.get_object(request, object_id)
        if tariff is not None and request.method == "GET":
            for problem in tariff_problems(tariff):
                messages.error(request, problem)
        return super().change_view(request, object_id, form_url, extra_context)

    def response_change(self, request, obj):
        for problem in tariff_problems(obj):
            messages.error(request, problem)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        for problem in tariff_problems(obj):
            messages.error(request, problem)
        return super().response_add(request, obj, post_url_continue)
