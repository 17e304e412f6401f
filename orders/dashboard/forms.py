"""Forms of the merchant dashboard: list filters, the purchase selection, claim and ledger filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from carriers.models import Carrier
from claims.models import Claim
from waybills.models import Waybill

from ..models import LedgerEntry

MAX_SELECTION = 200


class DateRangeMixin:
    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data


class OrderFilterForm(DateRangeMixin, forms.Form):
    YINZUNDA_CHOICES = [
        ("", _("全部")),
        ("yes", _("已购音尊达")),
        ("no", _("未购音尊达")),
        ("eligible", _("可购买音尊达")),
    ]

    q = forms.CharField(label=_("订单号/面单号"), required=False, max_length=32)
    date_from = forms.DateField(
        label=_("下单日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    carrier = forms.ModelChoiceField(
        label=_("快递"),
        queryset=Carrier.objects.order_by("code"),
        required=False,
        empty_label=_("全部"),
    )
    status = forms.ChoiceField(
        label=_("物流状态"),
        required=False,
        choices=[("", _("全部")), ("none", _("未发货"))] + list(Waybill.Status.choices),
    )
    yinzunda = forms.ChoiceField(label=_("音尊达"), required=False, choices=YINZUNDA_CHOICES)


class ClaimFilterForm(DateRangeMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("索赔状态"), required=False, choices=[("", _("全部"))] + list(Claim.Status.choices)
    )
    carrier = forms.ModelChoiceField(
        label=_("快递"),
        queryset=Carrier.objects.order_by("code"),
        required=False,
        empty_label=_("全部"),
    )
    date_from = forms.DateField(
        label=_("发起日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class LedgerFilterForm(DateRangeMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部"))] + list(LedgerEntry.Kind.choices)
    )
    date_from = forms.DateField(
        label=_("记账日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class PurchaseSelectionForm(forms.Form):
    """The selected order ids. Whether each order may get the tier is the service's call."""

    orders = forms.TypedMultipleChoiceField(label=_("订单"), coerce=int, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any integer id is accepted here; ids of other merchants come back as "订单不存在".
        self.fields["orders"].valid_value = lambda value: True

    def clean_orders(self) -> list[int]:
        ids = self.cleaned_data["orders"]
        if len(ids) > MAX_SELECTION:
            raise forms.ValidationError(_("一次最多选择 %(n)d 个订单") % {"n": MAX_SELECTION})
        if any(i <= 0 or i > 2**62 for i in ids):
            raise forms.ValidationError(_("订单编号无效"))
        return ids
