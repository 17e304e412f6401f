"""Forms of the staff pages: the operator's ruling on a disputed claim."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ClaimRulingForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("仲裁结论"), choices=[("uphold", _("支持赔付")), ("dismiss", _("驳回索赔"))], widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写理由"))
        return reason
