"""Who a logged-in user is to the dashboard: the merchant it belongs to."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from ..models import Merchant, MerchantMember


def merchant_for_user(*, user: AbstractBaseUser | AnonymousUser) -> Merchant | None:
    """The merchant a logged-in user belongs to, or None (staff, buyers, anonymous)."""
    if not user.is_authenticated:
        return None
    member = MerchantMember.objects.select_related("merchant").filter(user_id=user.pk).first()
    if member is None:
        return None
    user.merchant_member = member  # cached on the user: the navigation reads it again for free
    return member.merchant
