from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from . import checks  # noqa: F401 - registers the system checks (the module imports no models)


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("投诉、索赔与结算")
