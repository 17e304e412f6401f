"""Forms of the staff pages: the operator's ruling on a disputed claim."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from carriers.choices import ComplaintType
from carriers.models import Carrier
from orders.models import Merchant


class ClaimRulingForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("仲裁结论"), choices=[("uphold", _("支持赔付")), ("dismiss", _("驳回索赔"))], widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(
        label=_("我已核对双方证据，确认提交此裁定（裁定后不可更改）"),
        error_messages={"required": _("请勾选确认后再提交裁定")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写理由"))
        return reason


class ArbitrationFilterForm(forms.Form):
    """The queue's search and filters; every field optional, a bad value is a form error."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=64,
                        widget=forms.TextInput(attrs={"placeholder": _("索赔号 / 订单号 / 面单号")}))
    carrier = forms.ModelChoiceField(label=_("快递"), queryset=Carrier.objects.order_by("code"), required=False,
                                     empty_label=_("全部"))
    merchant = forms.ModelChoiceField(label=_("商家"), queryset=Merchant.objects.order_by("name"), required=False,
                                      empty_label=_("全部"))
    complaint_type = forms.ChoiceField(label=_("违约类型"), required=False,
                                       choices=[("", _("全部")), *ComplaintType.choices])
    age = forms.ChoiceField(label=_("等待时长"), required=False, choices=[
        ("", _("全部")), ("over_target", _("已超目标时限")), ("within_target", _("目标时限内")),
    ])
