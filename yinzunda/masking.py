"""Masking of buyer personal data (DESIGN §5.7): shown masked everywhere the job does not need it."""
from __future__ import annotations

import re


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_address(address: str) -> str:
    address = address.strip()
    keep = min(6, max(0, len(address) - 4))
    return address[:keep] + "****"


# --- personal data inside free text (scan locations, notes, reasons) --------------------------
# Mobile numbers (optionally +86, spaces or dashes between the 3-4-4 groups) and landlines
# written with their area code separated ("0571-88886666", "(0571)88886666"). A bare run of
# digits is not a landline: waybill numbers look like that.
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?(1[3-9][0-9])[\s-]?([0-9]{4})[\s-]?([0-9]{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(?:\(0[0-9]{2,3}\)|（0[0-9]{2,3}）|0[0-9]{2,3}-)\s?[0-9]{7,8}(?![0-9])")
# Locker and station pickup codes: labelled ("取件码 12-3-4567", "取件码:8821", "提货码为 A3-1102")
# or the shelf-layer-number form stations print ("凭 12-3-4567 取件").
_CODE_LABEL = (
    "取件码|取货码|提货码|取件号|取货号|提货号|取件密码|提货密码|开箱码|开柜码|柜门码|验证码|取件编码|pickup code"
)
_LABELLED_CODE = re.compile(
    rf"({_CODE_LABEL})(\s*(?:[:：]|是|为)?\s*)([A-Za-z0-9](?:[A-Za-z0-9]|[-－—–](?=[A-Za-z0-9]))*)",
    re.IGNORECASE,
)
_SHELF_CODE = re.compile(r"(?<![0-9A-Za-z-])[0-9]{1,3}-[0-9]{1,2}-[0-9]{3,5}(?![0-9A-Za-z-])")
MASK = "****"


def mask_free_text(text: str) -> str:
    """Pickup codes and phone numbers inside any free text, masked (the rest kept as written)."""
    if not text:
        return ""
    text = _LABELLED_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _SHELF_CODE.sub(MASK, text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    return _LANDLINE.sub(MASK, text)


# --- scan locations: district level plus the station's name -----------------------------------
_CJK = "\u4e00-\u9fff"
_ADMIN = re.compile(
    rf"(?:[{_CJK}]{{2,8}}?(?:省|自治区|特别行政区))?\s*"
    rf"(?:[{_CJK}]{{2,10}}?(?:市|自治州|地区|盟))?\s*"
    # The district; "小区", "社区", "校区", "景区" end in 区 but are neighbourhoods, not districts.
    rf"(?:[{_CJK}]{{1,8}}?(?:(?<![小社校景厂])区|县|旗|市))?"
)
_STATION_WORDS = (
    "丰巢快递柜|丰巢智能柜|快递柜|智能柜|自提柜|丰巢柜|丰巢|菜鸟驿站|驿站|营业部|营业点|网点|分部|服务站|服务点|"
    "代收点|自提点|快递超市|兔喜生活超市|兔喜生活|生活超市|超市|便利店|快递点|代办点|转运中心|分拨中心|集散中心|分拣中心|中转场|中转站|收发室|门卫室|传达室"
)
# A station's name: the words just before a station word, never a house number or a room.
_STATION = re.compile(
    r"[^\s0-9０-９,，.。;；:：、()（）【】\[\]号弄室栋幢单元楼层院座期*#\-]{0,16}?"
    rf"(?:{_STATION_WORDS})(?:\s*[（(][^（）()0-9]{{1,12}}[）)])?"
)
# What makes a location a street address rather than a place name.
_STREETISH = re.compile(r"[0-9０-９]|路|街|道|巷|弄|胡同|号|村|组|小区|社区|花园|公寓|大厦|栋|幢|单元|室|楼|院|苑|里|门口")


def mask_location(location: str) -> str:
    """A scan location as merchants and the evidence package see it: province/city/district plus
    the station's name; the street address, pickup codes and phone numbers never shown.

    "浙江省杭州市西湖区文三路100号阳光花园3栋 菜鸟驿站" -> "浙江省杭州市西湖区 菜鸟驿站";
    a place name with no street in it ("杭州转运中心") is kept as it is.
    """
    text = mask_free_text(location or "").strip()
    if not text:
        return ""
    text = re.sub(r"\s+", " ", re.sub(r"[【】\[\]]", " ", text)).strip()
    if not _STREETISH.search(text.replace(MASK, "")):
        return text
    admin = _ADMIN.match(text)
    district = admin.group(0).strip() if admin else ""
    rest = text[admin.end():] if admin else text
    station = _STATION.search(rest)
    parts = [district, station.group(0).strip() if station else ""]
    return " ".join(p for p in parts if p) or MASK


# --- where a parcel goes: province and city, for figures by place ------------------------------
_REGION = re.compile(
    rf"^\s*(?P<province>[{_CJK}]{{2,8}}?(?:省|自治区|特别行政区)|北京市|上海市|天津市|重庆市)?\s*"
    rf"(?P<city>[{_CJK}]{{2,10}}?(?:市|自治州|地区|盟))?"
)


def address_region(address: str) -> tuple[str, str]:
    """(province, city) of a Chinese address, "" where it does not say; a municipality is both.

    "浙江省杭州市西湖区文三路 100 号" -> ("浙江省", "杭州市"); "上海市浦东新区..." -> ("上海市", "上海市").
    """
    match = _REGION.match(address or "")
    if not match:
        return "", ""
    province, city = match.group("province") or "", match.group("city") or ""
    if province in {"北京市", "上海市", "天津市", "重庆市"} and not city:
        city = province
    return province, city
