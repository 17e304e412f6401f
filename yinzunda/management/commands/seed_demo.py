"""`manage.py seed_demo`: build the deterministic demo world once and print its logins."""
from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yinzunda.demo.world import demo_buyer_samples, demo_world_build


class Command(BaseCommand):
    help = "建立演示数据（快递公司、商家账号、近 30 天订单与轨迹、投诉、索赔、结算）；重复运行是安全的。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--orders", type=int, default=3000, help="随机订单数（默认 3000）")
        parser.add_argument(
            "--force", action="store_true",
            help="DEBUG 关闭（生产配置）时也运行：演示账号密码是公开的，只用于演示环境",
        )

    def handle(self, *args, orders: int, force: bool, **options) -> None:
        if orders < 0:
            raise CommandError("--orders must be zero or more")
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like production. The demo logins have public passwords; "
                "pass --force to seed a demo environment anyway."
            )
        started = time.monotonic()
        summary = demo_world_build(orders=orders)
        elapsed = time.monotonic() - started
        if summary.created:
            self.stdout.write(self.style.SUCCESS(f"演示数据已建立：{summary.orders} 个订单（{elapsed:.1f} 秒）"))
        else:
            self.stdout.write(f"演示数据已存在（{summary.orders} 个订单），未重复建立。")
        self.stdout.write("\n演示账号 / demo logins:")
        for role, username, password in summary.logins:
            self.stdout.write(f"  {username:<14} {password:<20} {role}")
        self.stdout.write("\n快递 API 令牌 / carrier API tokens (Authorization: Bearer …; 每次运行重新签发):")
        for code, raw in summary.tokens:
            self.stdout.write(f"  {code:<6} {raw}")
        self.stdout.write("\n买家投诉示例 / demo buyer orders (/complaint/: 订单号 + 手机后四位):")
        for number, last4, what in demo_buyer_samples():
            self.stdout.write(f"  {number}  {last4}  {what}")
