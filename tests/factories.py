"""factory_boy factories for every domain model."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from carriers.choices import ComplaintType
from carriers.models import Carrier, Tariff, TariffPayout
from carriers.services import webhook_secret_generate
from claims.models import Complaint
from orders.models import Merchant, MerchantMember, Order
from waybills.models import Waybill
from waybills.numbers import format_waybill_number

__all__ = [
    "CarrierFactory", "TariffFactory", "MerchantFactory", "UserFactory", "MerchantUserFactory",
    "OrderFactory", "WaybillFactory", "ComplaintFactory",
]


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.Sequence(lambda n: f"快递{n}")
    name_en = factory.Sequence(lambda n: f"Carrier {n}")
    is_partner = True
    waybill_prefix = factory.Sequence(lambda n: chr(65 + (n // 26) % 26) + chr(65 + n % 26))
    webhook_url = ""
    webhook_secret = factory.LazyFunction(webhook_secret_generate)
    tariff = factory.RelatedFactory("tests.factories.TariffFactory", factory_related_name="carrier")


class TariffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tariff
        skip_postgeneration_save = True

    carrier = factory.SubFactory(CarrierFactory, tariff=None)
    version = 1
    effective_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=365))
    fee_per_order = Decimal("0.80")

    @factory.post_generation
    def payouts(self, create, extracted, **kwargs):
        if not create:
            return
        amounts = extracted or {t.value: Decimal("5.00") for t in ComplaintType}
        for complaint_type, amount in amounts.items():
            TariffPayout.objects.create(tariff=self, complaint_type=complaint_type, amount=amount)


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    code = factory.Sequence(lambda n: f"m{n:04d}")
    name = factory.Sequence(lambda n: f"测试店铺{n}")
    email = factory.Sequence(lambda n: f"shop{n}@example.com")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "pass-word-123")
        if create:
            self.save(update_fields=["password"])

    username = factory.Sequence(lambda n: f"user{n}")


class MerchantUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MerchantMember

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    merchant = factory.SubFactory(MerchantFactory)
    order_number = factory.Sequence(lambda n: f"DY{202611000000 + n}")
    recipient_name = "张三"
    recipient_phone = factory.Sequence(lambda n: f"138{n:08d}")
    recipient_address = "浙江省杭州市西湖区文三路 100 号 3 单元 501"
    amount = Decimal("99.00")


class WaybillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Waybill

    carrier = factory.SubFactory(CarrierFactory)
    order = factory.SubFactory(OrderFactory)
    number = factory.LazyAttributeSequence(lambda o, n: format_waybill_number(o.carrier.waybill_prefix, 900000 + n))
    is_platform_issued = True
    service_codes = factory.LazyFunction(list)
    # Issued well before the scans tests push "minutes/hours/days ago" (scans may not predate it).
    created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))


class ComplaintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Complaint

    waybill = factory.SubFactory(WaybillFactory)
    order = factory.LazyAttribute(lambda o: o.waybill.order)
    reference = factory.Sequence(lambda n: f"TS{n:010d}")
    complaint_type = ComplaintType.NOT_TO_DOOR
    description = "快递员没有送货上门，直接放在驿站。"
