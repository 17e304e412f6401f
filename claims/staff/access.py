"""Staff pages are for platform operators: logged in and `is_staff`, else 403."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from carriers.models import Carrier


def staff_only(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def carrier_or_404(carrier_id: int) -> Carrier:
    """The carrier a staff URL names; an unknown id (or one past bigint) is a 404."""
    carrier = Carrier.objects.filter(pk=carrier_id).first() if carrier_id < 2**63 else None
    if carrier is None:
        raise Http404
    return carrier
