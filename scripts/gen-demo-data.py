"""Writes the demo shop's data: server/demo/program.json and server/demo/catalog.json.

A small coffee and tea brand, "Camellia & Bean" (山茶与豆), prices in CNY. Run it again after editing; the
output is deterministic and committed.
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "server", "demo")

def t(zh, en):
    return {"zh-CN": zh, "en": en}

PROGRAM = {
    "version": 1,
    "currency": "CNY",
    "locales": ["zh-CN", "en"],
    "name": t("山茶与豆会员", "Camellia & Bean Club"),
    "earn": {
        "rate": {"points": 1, "perAmount": 100},
        "bonuses": [
            {"id": "single-origin", "name": t("单一产区咖啡双倍积分", "Double points on single-origin coffee"),
             "appliesTo": {"categories": ["single-origin"]}, "multiplierPercent": 200},
            {"id": "teaware", "name": t("茶具每件加赠 20 积分", "+20 points per teaware item"),
             "appliesTo": {"categories": ["teaware"]}, "extraPointsPerUnit": 20},
            {"id": "limited", "name": t("季节限定 1.5 倍积分", "1.5x points on seasonal limited items"),
             "appliesTo": {"tags": ["limited"]}, "multiplierPercent": 150},
        ],
        "campaigns": [
            {"id": "winter", "name": t("冬季暖饮三倍积分", "Winter warmers: triple points"),
             "startsAt": 1763942400, "endsAt": 1893456000, "multiplierPercent": 300, "appliesTo": {"tags": ["winter"]}},
        ],
        "exclusions": {"categories": ["gift-card"]},
        "maxPointsPerOrder": 20000,
        "minimumOrder": 1000,
    },
    "lifecycle": {"pendingDays": 7, "expiry": {"mode": "afterEarning", "months": 12}, "expiringSoonDays": 30},
    "tierQualification": {"metric": "spend", "period": {"kind": "rollingMonths", "months": 12}},
    "tiers": [
        {"id": "member", "name": t("会员", "Member"), "threshold": 0,
         "benefits": [t("每消费 1 元得 1 积分", "1 point per ¥1"), t("生日礼", "A birthday gift")]},
        {"id": "silver", "name": t("白银会员", "Silver"), "threshold": 100000, "earnMultiplierPercent": 125,
         "benefits": [t("积分 1.25 倍", "1.25x points"), t("新品抢先试", "Early access to new arrivals")]},
        {"id": "gold", "name": t("黄金会员", "Gold"), "threshold": 500000, "earnMultiplierPercent": 150,
         "benefits": [t("积分 1.5 倍", "1.5x points"), t("全场包邮", "Free shipping on every order")]},
        {"id": "black", "name": t("黑金会员", "Black"), "threshold": 1500000, "earnMultiplierPercent": 200,
         "benefits": [t("积分 2 倍", "2x points"), t("专属烘焙师咨询", "A roaster's advice, just for you")]},
    ],
    "rewards": [
        {"id": "ten-off", "name": t("立减 10 元", "¥10 off"), "kind": "amountOff", "cost": 500, "amountOff": 1000},
        {"id": "free-shipping", "name": t("免运费", "Free shipping"), "kind": "freeShipping", "cost": 800},
        {"id": "drip-sampler", "name": t("挂耳咖啡尝鲜装", "Drip bag sampler"), "kind": "freeProduct", "cost": 1200,
         "productId": "drip-sampler-5"},
        {"id": "thirty-off", "name": t("满 200 减 30", "¥30 off orders from ¥200"), "kind": "amountOff", "cost": 1400,
         "amountOff": 3000, "minimumOrder": 20000},
        {"id": "fifteen-percent", "name": t("全单 85 折", "15% off"), "kind": "percentOff", "cost": 3000, "percentOff": 15},
    ],
    "birthday": {"points": 200, "minDaysKnown": 30},
    # Friends land on the shop's home page, on whatever origin the demo runs.
    "referral": {
        "landingUrl": "/", "referrerPoints": 500, "friendPoints": 100, "minimumOrder": 5000,
        "returnWindowDays": 30, "attributionDays": 30, "capRewards": 10, "capDays": 30,
        "message": t("我在山茶与豆买茶和咖啡，用我的链接注册，首单满 ¥50 送你 100 积分。",
                     "I buy my tea and coffee at Camellia & Bean. Join with my link: 100 points on a first order of ¥50 or more."),
        "emailSubject": t("送你 100 积分：山茶与豆", "100 points for you at Camellia & Bean"),
    },
}

# (id, zh, en, price in fen, categories, tags)
PRODUCTS = [
    ("yirgacheffe", "埃塞俄比亚 耶加雪菲 200g", "Ethiopia Yirgacheffe 200g", 9800, ["coffee-beans", "single-origin"], ["light-roast"]),
    ("sidamo", "埃塞俄比亚 西达摩 200g", "Ethiopia Sidamo 200g", 8800, ["coffee-beans", "single-origin"], ["light-roast"]),
    ("huila", "哥伦比亚 慧兰 200g", "Colombia Huila 200g", 8600, ["coffee-beans", "single-origin"], ["medium-roast"]),
    ("antigua", "危地马拉 安提瓜 200g", "Guatemala Antigua 200g", 9200, ["coffee-beans", "single-origin"], ["medium-roast"]),
    ("kenya-aa", "肯尼亚 AA 200g", "Kenya AA 200g", 11800, ["coffee-beans", "single-origin"], ["light-roast"]),
    ("yunnan-catimor", "云南 保山小粒 200g", "Yunnan Baoshan 200g", 6800, ["coffee-beans", "single-origin"], ["medium-roast"]),
    ("sumatra", "苏门答腊 曼特宁 200g", "Sumatra Mandheling 200g", 8900, ["coffee-beans", "single-origin"], ["dark-roast"]),
    ("geisha", "巴拿马 瑰夏 100g", "Panama Geisha 100g", 26800, ["coffee-beans", "single-origin"], ["light-roast"]),
    ("house-blend", "山茶与豆 招牌拼配 454g", "House Blend 454g", 12800, ["coffee-beans", "blend"], ["medium-roast"]),
    ("espresso-blend", "意式拼配 454g", "Espresso Blend 454g", 11800, ["coffee-beans", "blend"], ["dark-roast"]),
    ("decaf", "低因咖啡豆 200g", "Decaf 200g", 8800, ["coffee-beans", "blend"], ["medium-roast"]),
    ("drip-sampler-5", "挂耳咖啡尝鲜装 5 包", "Drip Bag Sampler x5", 3900, ["drip-bags"], []),
    ("drip-daily-10", "每日挂耳 10 包", "Daily Drip Bags x10", 5900, ["drip-bags"], []),
    ("drip-single-origin-10", "单一产区挂耳 10 包", "Single-Origin Drip Bags x10", 7900, ["drip-bags", "single-origin"], []),
    ("cold-brew-bags", "冷萃咖啡包 8 袋", "Cold Brew Packs x8", 6900, ["drip-bags"], ["summer"]),
    ("longjing", "明前西湖龙井 100g", "West Lake Longjing 100g", 16800, ["tea", "green-tea"], []),
    ("biluochun", "洞庭碧螺春 100g", "Biluochun 100g", 12800, ["tea", "green-tea"], []),
    ("maofeng", "黄山毛峰 100g", "Huangshan Maofeng 100g", 9800, ["tea", "green-tea"], []),
    ("anji-white", "安吉白茶 100g", "Anji Bai Cha 100g", 13800, ["tea", "green-tea"], []),
    ("tieguanyin", "安溪铁观音 150g", "Anxi Tieguanyin 150g", 11800, ["tea", "oolong"], []),
    ("dahongpao", "武夷大红袍 150g", "Wuyi Da Hong Pao 150g", 19800, ["tea", "oolong"], ["winter"]),
    ("dancong", "凤凰单丛 蜜兰香 100g", "Phoenix Dancong 100g", 15800, ["tea", "oolong"], []),
    ("oriental-beauty", "东方美人 75g", "Oriental Beauty 75g", 14800, ["tea", "oolong"], []),
    ("dianhong", "云南滇红 100g", "Yunnan Dianhong 100g", 8800, ["tea", "black-tea"], ["winter"]),
    ("keemun", "祁门红茶 100g", "Keemun 100g", 9800, ["tea", "black-tea"], ["winter"]),
    ("lapsang", "正山小种 100g", "Lapsang Souchong 100g", 10800, ["tea", "black-tea"], ["winter"]),
    ("puer-raw", "易武生普 357g", "Yiwu Raw Pu'er 357g", 32800, ["tea", "dark-tea"], []),
    ("puer-ripe", "勐海熟普 357g", "Menghai Ripe Pu'er 357g", 19800, ["tea", "dark-tea"], ["winter"]),
    ("anhua", "安化黑茶 茯砖 800g", "Anhua Fu Brick 800g", 16800, ["tea", "dark-tea"], []),
    ("silver-needle", "福鼎白毫银针 50g", "Fuding Silver Needle 50g", 22800, ["tea", "white-tea"], []),
    ("shoumei", "老寿眉饼 300g", "Aged Shoumei Cake 300g", 13800, ["tea", "white-tea"], ["winter"]),
    ("jasmine", "茉莉花茶 100g", "Jasmine Tea 100g", 6800, ["tea", "green-tea"], []),
    ("osmanthus-oolong", "桂花乌龙 100g", "Osmanthus Oolong 100g", 7800, ["tea", "oolong"], ["limited"]),
    ("gaiwan", "青瓷盖碗", "Celadon Gaiwan", 8900, ["teaware"], []),
    ("fairness-cup", "玻璃公道杯", "Glass Fairness Cup", 4900, ["teaware"], []),
    ("yixing-pot", "宜兴紫砂壶", "Yixing Clay Teapot", 39800, ["teaware"], []),
    ("tea-tray", "竹制茶盘", "Bamboo Tea Tray", 15800, ["teaware"], []),
    ("tasting-cups", "品茗杯 6 只", "Tasting Cups x6", 6800, ["teaware"], []),
    ("tea-travel-set", "便携旅行茶具", "Travel Tea Set", 12800, ["teaware"], []),
    ("pour-over-kettle", "手冲细口壶", "Pour-Over Kettle", 19800, ["coffee-gear"], []),
    ("v60", "V60 滤杯", "V60 Dripper", 9800, ["coffee-gear"], []),
    ("filters-100", "滤纸 100 张", "Paper Filters x100", 2900, ["coffee-gear"], []),
    ("hand-grinder", "手摇磨豆机", "Hand Grinder", 29800, ["coffee-gear"], []),
    ("scale", "咖啡电子秤", "Coffee Scale", 15800, ["coffee-gear"], []),
    ("french-press", "法压壶", "French Press", 13800, ["coffee-gear"], []),
    ("moka-pot", "摩卡壶", "Moka Pot", 16800, ["coffee-gear"], []),
    ("cold-brew-bottle", "冷萃瓶", "Cold Brew Bottle", 8800, ["coffee-gear"], ["summer"]),
    ("mug", "山茶马克杯", "Camellia Mug", 5900, ["coffee-gear", "teaware"], []),
    ("winter-spice-blend", "冬日香料拼配 200g", "Winter Spice Blend 200g", 9800, ["coffee-beans", "blend"], ["limited", "winter"]),
    ("chestnut-latte-kit", "栗子拿铁套装", "Chestnut Latte Kit", 12800, ["coffee-beans"], ["limited", "winter"]),
    ("ginger-black-tea", "姜汁红茶 20 包", "Ginger Black Tea x20", 5800, ["tea", "black-tea"], ["limited", "winter"]),
    ("osmanthus-latte-kit", "桂花拿铁套装", "Osmanthus Latte Kit", 11800, ["coffee-beans"], ["limited"]),
    ("new-year-gift-box", "新春茶礼盒", "New Year Tea Gift Box", 39800, ["tea", "gift-box"], ["limited", "winter"]),
    ("coffee-gift-box", "咖啡品鉴礼盒", "Coffee Tasting Gift Box", 29800, ["coffee-beans", "gift-box"], []),
    ("tea-gift-box", "名茶品鉴礼盒", "Famous Teas Gift Box", 35800, ["tea", "gift-box"], []),
    ("gift-card-100", "礼品卡 ¥100", "Gift Card ¥100", 10000, ["gift-card"], []),
    ("gift-card-300", "礼品卡 ¥300", "Gift Card ¥300", 30000, ["gift-card"], []),
    ("subscription-coffee", "咖啡月度订阅", "Monthly Coffee Subscription", 15800, ["coffee-beans", "subscription"], []),
    ("subscription-tea", "茶叶月度订阅", "Monthly Tea Subscription", 16800, ["tea", "subscription"], []),
    ("barista-class", "咖啡师体验课", "Barista Class", 29900, ["class"], []),
]


def main():
    catalog = []
    for pid, zh, en, price, categories, tags in PRODUCTS:
        catalog.append({
            "id": pid, "title": t(zh, en), "url": f"/products/{pid}", "image": None, "price": price,
            "categories": categories, "tags": tags, "inStock": pid != "geisha",
        })
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "program.json"), "w", encoding="utf-8") as f:
        json.dump(PROGRAM, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "catalog.json"), "w", encoding="utf-8") as f:
        json.dump(catalog, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(catalog)} products")


if __name__ == "__main__":
    main()
