"""The destination of a Chinese address down to the district: what a privacy label may show."""
from __future__ import annotations

import re
from typing import NamedTuple

MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
_PROVINCE = re.compile(r"^(.{2,12}?(?:省|自治区|特别行政区))")
_CITY = re.compile(r"^(.{2,12}?(?:自治州|地区|盟|市))")
_DISTRICT = re.compile(r"^(.{1,12}?(?:新区|区|自治县|县|自治旗|旗|市))")


class Region(NamedTuple):
    province: str
    city: str
    district: str


def address_region(address: str) -> Region:
    """Province, city and district at the head of `address`; "" for a part it cannot find.

    `浙江省杭州市西湖区文三路 100 号` → (浙江省, 杭州市, 西湖区); municipalities repeat as
    province and city: `上海市浦东新区…` → (上海市, 上海市, 浦东新区). Nothing past the
    district is ever returned, so the street and door number cannot leak.
    """
    rest = "".join(address.split())
    province = city = district = ""
    for name in MUNICIPALITIES:
        if rest.startswith(name):
            province = city = name
            rest = rest[len(name):]
            break
    else:
        if match := _PROVINCE.match(rest):
            province = match.group(1)
            rest = rest[len(province):]
        if match := _CITY.match(rest):
            city = match.group(1)
            rest = rest[len(city):]
    if match := _DISTRICT.match(rest):
        district = match.group(1)
    return Region(province[:32], city[:32], district[:32])
