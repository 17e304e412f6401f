"""Where the demo's buyers live and what they are called: cities, streets, names, phone numbers."""
from __future__ import annotations

import random
from typing import NamedTuple


class City(NamedTuple):
    province: str
    name: str
    districts: tuple[str, ...]
    hub: str  # the carrier's transit hub for the city


CITIES = [
    City("浙江省", "杭州市", ("西湖区", "余杭区", "滨江区", "拱墅区"), "杭州转运中心"),
    City("上海市", "上海市", ("浦东新区", "闵行区", "徐汇区", "静安区"), "上海青浦转运中心"),
    City("广东省", "广州市", ("天河区", "白云区", "番禺区"), "广州白云转运中心"),
    City("广东省", "深圳市", ("南山区", "福田区", "宝安区", "龙岗区"), "深圳转运中心"),
    City("北京市", "北京市", ("朝阳区", "海淀区", "丰台区"), "北京顺义转运中心"),
    City("湖北省", "武汉市", ("武昌区", "洪山区", "江汉区"), "武汉转运中心"),
    City("四川省", "成都市", ("武侯区", "高新区", "锦江区"), "成都双流转运中心"),
    City("江苏省", "南京市", ("鼓楼区", "江宁区", "秦淮区"), "南京转运中心"),
    City("湖南省", "长沙市", ("岳麓区", "雨花区", "开福区"), "长沙转运中心"),
    City("陕西省", "西安市", ("雁塔区", "未央区"), "西安转运中心"),
]
STREETS = ["文三路", "学院路", "人民路", "中山路", "解放路", "建设路", "长江路", "科技园路", "振华路", "东风路"]
COMMUNITIES = ["阳光花园", "翠苑小区", "金色家园", "幸福里", "锦绣华庭", "东方名苑", "万科城", "绿城桂花园"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "杰", "娟", "涛", "明", "超", "秀英",
         "丽", "强", "婷", "雪", "晨", "思远", "子涵", "欣怡", "浩然", "雨桐", "梓萱", "一诺", "俊杰"]
PHONE_PREFIXES = ["138", "139", "135", "136", "137", "150", "151", "152", "158", "159",
                  "186", "187", "188", "130", "131", "132", "155", "156", "177", "180", "181", "189", "199"]


def city_named(name: str) -> City:
    return next(c for c in CITIES if c.name == name)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile_number(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def street_address(rng: random.Random, city: City, district: str) -> str:
    prefix = city.province if city.province == city.name else city.province + city.name
    return (
        f"{prefix}{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
        f"{rng.choice(COMMUNITIES)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}"
    )
