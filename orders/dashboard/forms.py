"""Forms of the merchant dashboard: list filters, the purchase selection, claim and ledger filters."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from carriers.choices import ComplaintType
from carriers.models import Carrier
from claims.models import Claim, Complaint
from claims.services.aftersales import MAX_PHOTOS_PER_ANSWER
from claims.services.photos import ANSWER_PHOTO_FORMATS, photo_accept
from waybills.models import Waybill
from yinzunda.errors import DomainError
from yinzunda.images import CleanImage

from ..models import LedgerEntry

MAX_SELECTION = 200
# The days a filter may name: far wider than any order's life, narrow enough that "the day
# after date_to" and the Beijing→UTC shift stay inside what Python and PostgreSQL can hold.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
_ASCII_ID = re.compile(r"[1-9][0-9]{0,17}")


def ascii_id(value: object) -> int:
    """A positive database id written in ASCII digits; ValueError otherwise.

    `int()` and `str.isdigit()` accept "١٢" and "²", which no URL or database id is written in.
    """
    if not isinstance(value, str) or not _ASCII_ID.fullmatch(value):
        raise ValueError(f"not an id: {value!r}")
    return int(value)


class CarrierChoiceField(forms.ModelChoiceField):
    """A carrier by id, in ASCII digits only: Django's own would read "١" as carrier 1."""

    def __init__(self, **kwargs) -> None:
        super().__init__(queryset=Carrier.objects.order_by("code"), required=False, empty_label=_("全部"), **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            ascii_id(str(value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None
        return super().to_python(value)


class DayField(forms.DateField):
    """A date filter bounded to EARLIEST_DAY..LATEST_DAY, so 9999-12-31 is a form error, not a 500."""

    default_error_messages = {"out_of_range": _("日期应在 %(earliest)s 至 %(latest)s 之间")}

    def __init__(self, **kwargs) -> None:
        attrs = {"type": "date", "min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat()}
        kwargs.setdefault("widget", forms.DateInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def validate(self, value) -> None:
        super().validate(value)
        if value and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
            )


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
    date_from = DayField(label=_("下单日期从"))
    date_to = DayField(label=_("至"))
    carrier = CarrierChoiceField(label=_("快递"))
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
    carrier = CarrierChoiceField(label=_("快递"))
    date_from = DayField(label=_("发起日期从"))
    date_to = DayField(label=_("至"))


class LedgerFilterForm(DateRangeMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部"))] + list(LedgerEntry.Kind.choices)
    )
    date_from = DayField(label=_("记账日期从"))
    date_to = DayField(label=_("至"))


class PurchaseSelectionForm(forms.Form):
    """The selected order ids. Whether each order may get the tier is the service's call."""

    orders = forms.TypedMultipleChoiceField(label=_("订单"), coerce=ascii_id, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any integer id is accepted here; ids of other merchants come back as "订单不存在".
        self.fields["orders"].valid_value = lambda value: True

    def clean_orders(self) -> list[int]:
        ids = self.cleaned_data["orders"]
        if len(ids) > MAX_SELECTION:
            raise forms.ValidationError(_("一次最多选择 %(n)d 个订单") % {"n": MAX_SELECTION})
        if any(i > 2**62 for i in ids):
            raise forms.ValidationError(_("订单编号无效"))
        return ids


class AfterSalesFilterForm(forms.Form):
    KIND_CHOICES = [("", _("全部")), ("forwarded", _("转商家处理")), ("rejected", _("不予受理"))]

    q = forms.CharField(label=_("订单号/投诉编号"), required=False, max_length=32)
    state = forms.ChoiceField(
        label=_("售后状态"), required=False, choices=[("", _("全部"))] + list(Complaint.AfterSales.choices)
    )
    kind = forms.ChoiceField(label=_("来源"), required=False, choices=KIND_CHOICES)
    complaint_type = forms.ChoiceField(
        label=_("投诉类型"), required=False, choices=[("", _("全部"))] + list(ComplaintType.choices)
    )


class AfterSalesReplyForm(forms.Form):
    state = forms.ChoiceField(label=_("售后状态"), choices=Complaint.AfterSales.choices)
    reply = forms.CharField(
        label=_("给买家的回复（买家在投诉进度页可见）"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several files under one name. The buyer pages have the same field; the interfaces do not
    import each other (import-linter), so it is repeated here rather than shared through claims."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


class ClaimAnswerForm(forms.Form):
    note = forms.CharField(
        label=_("答辩说明（平台仲裁员可见）"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("请填写答辩说明")},
    )
    evidence_url = forms.URLField(label=_("证据链接（可选）"), required=False, max_length=500, assume_scheme="https")
    photos = MultiplePhotoField(label=_("照片（可选，最多 3 张 JPEG 或 PNG，每张不超过 5 MB）"), required=False)

    def clean_photos(self) -> list[CleanImage]:
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_PHOTOS_PER_ANSWER:
            raise forms.ValidationError(_("最多上传 %(n)d 张照片") % {"n": MAX_PHOTOS_PER_ANSWER})
        try:
            return [photo_accept(upload=photo, formats=ANSWER_PHOTO_FORMATS) for photo in photos]
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


class MerchantSettingsForm(forms.Form):
    email_digest = forms.BooleanField(
        label=_("每天 8:00 收一封汇总邮件（不再逐条发送）"), required=False
    )
    email_language = forms.ChoiceField(label=_("邮件语言"), choices=settings.LANGUAGES)


class ShipForm(PurchaseSelectionForm):
    """Orders to ship and the carrier; without a carrier the page offers the choice first."""

    carrier = forms.IntegerField(label=_("快递"), required=False, min_value=1, max_value=2**62)


class LabelForm(PurchaseSelectionForm):
    size = forms.ChoiceField(
        label=_("面单尺寸"), required=False, choices=[("76x130", "76×130 mm"), ("100x180", "100×180 mm")]
    )
