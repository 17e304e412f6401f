"""`python manage.py carrier_token ZTO [--name 生产环境]`: issue an API token and print it once."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from carriers.models import Carrier
from carriers.sandbox import carrier_test_token_create
from carriers.services import carrier_token_create


class Command(BaseCommand):
    help = "为快递公司生成 API 令牌；令牌只显示这一次，数据库只保存其哈希。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="快递公司代码，如 ZTO")
        parser.add_argument("--name", default="", help="用途说明，如 “生产环境”")
        parser.add_argument(
            "--test", action="store_true", help="测试令牌（yzd_test_…）：作用于该快递公司的沙箱，不触及正式数据与资金"
        )

    def handle(self, *args, code: str, name: str, test: bool = False, **options) -> None:
        carrier = Carrier.objects.filter(code=code.strip().upper()).first()
        if carrier is None:
            known = ", ".join(Carrier.objects.values_list("code", flat=True)) or "—"
            raise CommandError(f"未知的快递公司代码 {code!r}（已有：{known}）")
        if test:
            token, raw = carrier_test_token_create(carrier=carrier, name=name[:64])
            carrier = token.carrier
        else:
            token, raw = carrier_token_create(carrier=carrier, name=name[:64])
        self.stderr.write(f"{carrier.name} ({carrier.code}) 的新令牌 {token.prefix}… 已创建；请立即保存，它不会再次显示：")
        self.stdout.write(raw)
