"""Buyer forms (order proof, complaint with photos) and the staff ruling form."""
from __future__ import annotations

import uuid

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from carriers.choices import ComplaintType
from waybills.models import ConsentMethod
from yinzunda.errors import DomainError
from yinzunda.images import CleanImage

from ..services.photos import COMPLAINT_PHOTO_FORMATS, photo_accept

MAX_PHOTOS = 4


class OrderLookupForm(forms.Form):
    number = forms.CharField(
        label=_("订单号或快递单号"), max_length=32,
        error_messages={
            "required": _("请输入订单号或快递单号"),
            "max_length": _("订单号或快递单号最多 32 个字符，请检查是否多输了内容"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    phone_last4 = forms.RegexField(
        label=_("收件手机号后四位"), regex=r"^[0-9]{4}$",
        # One plain sentence for every way the field can be wrong (the pattern checks the length
        # too, so Django's "确保该变量至少包含 4 字符" never shows).
        error_messages={"required": _("请输入手机号后 4 位数字"), "invalid": _("请输入手机号后 4 位数字")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}", "maxlength": "4"}
        ),
    )

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip()


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


def validate_photo(photo: UploadedFile) -> CleanImage:
    """The photo decoded and re-encoded (metadata and every extra byte dropped); the browser's
    content type and file name are not trusted."""
    try:
        return photo_accept(upload=photo, formats=COMPLAINT_PHOTO_FORMATS)
    except DomainError as exc:
        raise forms.ValidationError(exc.message) from None


class ComplaintForm(forms.Form):
    complaint_type = forms.ChoiceField(label=_("投诉类型"), choices=ComplaintType.choices, widget=forms.RadioSelect)
    description = forms.CharField(
        label=_("问题描述"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    photos = MultiplePhotoField(label=_("照片（最多 4 张，每张不超过 5 MB）"), required=False)
    submission_token = forms.UUIDField(widget=forms.HiddenInput)

    def clean_photos(self) -> list[CleanImage]:
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_PHOTOS:
            raise forms.ValidationError(_("最多上传 %(n)d 张照片") % {"n": MAX_PHOTOS})
        return [validate_photo(photo) for photo in photos]

    @staticmethod
    def new_token() -> uuid.UUID:
        return uuid.uuid4()


class ConsentForm(forms.Form):
    """The buyer agrees to a drop instead of the door: where, optionally which place, until when."""

    method = forms.ChoiceField(
        label=_("可以放在"), choices=ConsentMethod.choices, widget=forms.RadioSelect,
        error_messages={"required": _("请选择快递柜、驿站或前台代收"),
                        "invalid_choice": _("请选择快递柜、驿站或前台代收")},
    )
    place = forms.CharField(label=_("具体地点（可选）"), max_length=100, required=False,
                            error_messages={"max_length": _("地点最多 100 个字")},
                            widget=forms.TextInput(attrs={"placeholder": _("如：小区东门菜鸟驿站")}))
    valid_until = forms.DateTimeField(
        label=_("有效期至（可选）"), required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": _("请选择有效的日期和时间")},
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
