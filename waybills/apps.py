from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaybillsConfig(AppConfig):
    name = "waybills"
    verbose_name = _("电子面单与轨迹")
