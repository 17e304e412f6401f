"""Masking of buyer personal data inside free text and scan locations (DESIGN §5.7)."""
from __future__ import annotations

import pytest

from yinzunda.masking import mask_free_text, mask_location


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        # A full delivery address with a station: district level plus the station's name.
        ("浙江省杭州市西湖区文三路100号阳光花园3栋 菜鸟驿站", "浙江省杭州市西湖区 菜鸟驿站"),
        ("上海市浦东新区张江镇祖冲之路887弄菜鸟驿站", "上海市浦东新区 菜鸟驿站"),
        ("北京市朝阳区望京街道阜通东大街6号院丰巢柜", "北京市朝阳区 丰巢柜"),
        ("广东省深圳市南山区粤海街道科技园中区 菜鸟驿站(科苑店)", "广东省深圳市南山区 菜鸟驿站(科苑店)"),
        ("【杭州市】西湖区文一路188号 妈妈驿站", "杭州市 西湖区 妈妈驿站"),
        ("深圳市南山区 兔喜生活超市 电话 138 1234 5678", "深圳市南山区 兔喜生活超市"),
        # The carrier's own outlets keep their names.
        ("杭州市西湖区阳光花园营业部", "杭州市西湖区 阳光花园营业部"),
        ("杭州市西湖区文三路营业部", "杭州市西湖区 文三路营业部"),
        # A door delivery at the buyer's home: only the district is left.
        ("浙江省杭州市西湖区学院路512号翠苑小区12栋3单元1502", "浙江省杭州市西湖区"),
        ("成都市高新区天府三街199号", "成都市高新区"),
        ("湖北省武汉市洪山区珞喻路1037号", "湖北省武汉市洪山区"),
        # No district and no station: nothing of the address is shown.
        ("文三路 100 号", "****"),
        ("阳光花园小区3栋", "****"),
        # Place names with no street in them are not personal data.
        ("杭州转运中心", "杭州转运中心"),
        ("上海青浦转运中心", "上海青浦转运中心"),
        ("杭州西湖驿站", "杭州西湖驿站"),
        ("", ""),
    ],
)
def test_mask_location_keeps_district_and_station_only(location, shown):
    assert mask_location(location) == shown


def test_mask_location_masks_a_pickup_code_in_a_place_name():
    assert mask_location("已放入丰巢快递柜 取件码 12-3-4567") == "已放入丰巢快递柜 取件码 ****"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("取件码 12-3-4567", "取件码 ****"),
        ("取件码:8821", "取件码:****"),
        ("取件码：8821，请尽快领取", "取件码：****，请尽快领取"),
        ("提货码为A3-1102，请及时取件", "提货码为****，请及时取件"),
        ("已放入杭州阳光花园丰巢快递柜，取件码 654321", "已放入杭州阳光花园丰巢快递柜，取件码 ****"),
        ("凭 12-3-4567 到驿站取件", "凭 **** 到驿站取件"),
        ("快递员 张三（13812345678）正在派送", "快递员 张三（138****5678）正在派送"),
        ("联系 +86 139-1234-5678", "联系 139****5678"),
        ("驿站电话 0571-88886666", "驿站电话 ****"),
        ("驿站电话（0571）88886666", "驿站电话****"),
        # Nothing personal: kept as written.
        ("请凭取件码领取", "请凭取件码领取"),
        ("面单 ZT00000010025 已签收", "面单 ZT00000010025 已签收"),
        ("2026-11-25 到达", "2026-11-25 到达"),
        ("", ""),
    ],
)
def test_mask_free_text_masks_pickup_codes_and_phone_numbers(text, shown):
    assert mask_free_text(text) == shown
