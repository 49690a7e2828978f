"""Whitelist search under load: 50,000 institutions, 200,000 courses, gunicorn and wrk, with
the whole-page cache off (issue 20: the cold path every new query string pays).

    .venv/bin/python bench/whitelist_load.py [--reduced] [--institutions 50000]
                                             [--courses 200000] [--workers 2] [--duration 15]
                                             [--connections 16] [--explain] [--profile]

Uses DATABASE_URL's server (or the embedded one) with a separate database, <name>_bench,
filled once with set-based SQL and kept for the next run: five districts (codes WL......),
the institutions with Chinese names made of a brand, a subject and a suffix (sometimes a
place and a 校区), valid unified social credit codes, licences with a spread of expiry dates,
about half with a supervised account and a passed annual review, the courses with one
weekly slot each; then the name 2-grams (institutions.search.refresh_grams), the stored list
colour (institutions.colour.refresh, as the services and the nightly run keep it) and VACUUM
ANALYZE. A data set kept from an earlier run whose stored colours are stale or ran out (a
new day, an older schema) is refreshed first, as the nightly run would.

--reduced (what `make bench` runs, about 1.5 minutes with its first fill): its own data set,
five districts with the codes WR...... (10,000 institutions, 40,000 courses), so the full
set is never clobbered; wrk 8 s per endpoint, 2 s warm-ups, 2 in-process rounds.

For each worker count (2 by default; --workers takes a list) it serves the portal with
gunicorn on this machine (DJANGO_DEBUG=false, PORTAL_PRODUCTION=false,
PORTAL_PUBLIC_CACHE_SECONDS=0 for the server and this process) and runs wrk (-t2 -c16
--latency) against /ping (Django's smallest view, the baseline, measured before and after the
searches), the search page /institutions/?q=... and the API /api/institutions/?q=..., a Lua
script rotating realistic name fragments per request. Targets (issue 20): the page and the API
each at least 15 % of /ping's throughput with p99 at most 60 ms at 16 connections; in-process
at most 5 ms a request for the page, the API and an institution's own page.

It then times the same requests in-process (Django test Client) to split a request's time
into SQL and Python, and an institution's page for a sample of institutions. Correctness
(exit status 1): every answer a 200 (wrk's non-2xx and socket errors, the in-process
answers), the number of queries the same for every query, and the colour the search and the
institution's page show equal to colour.verdict for a sample of institutions. --explain
prints EXPLAIN ANALYZE of every query of one search, --profile the top of a cProfile of the
page and the API. Each targeted figure is printed as a table row (bench/_common.table_row).
"""

import argparse
import cProfile
import datetime as dt
import hashlib
import io
import os
import pstats
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRK = "/usr/bin/wrk"
SEED = 20261124

# (code, name, a few streets/places used in names and addresses)
DISTRICTS = [
    ("WL110101", "东城区", ["东直门", "和平里", "崇文门", "天坛"]),
    ("WL110102", "西城区", ["金融街", "德胜门", "西单", "广安门"]),
    ("WL110105", "朝阳区", ["望京", "亚运村", "双井", "大屯"]),
    ("WL110106", "丰台区", ["方庄", "大红门", "丽泽", "卢沟桥"]),
    ("WL110108", "海淀区", ["中关村", "五道口", "万柳", "上地"]),
]
BRANDS = [
    "博雅", "启航", "新知", "明德", "卓越", "智慧树", "阳光", "星火", "育才", "思源", "乐学",
    "未来星", "优培", "书香", "童心", "青苗", "蓝天", "金色童年", "华英", "博学", "弘文",
    "致远", "求真", "睿思", "小牛顿", "小天才", "彩虹", "七彩", "天天向上", "领航", "扬帆",
    "悦读", "晨曦", "朝阳", "知行", "明远", "精英", "英才", "鸿鹄", "新航道", "诺亚", "橄榄树",
    "向日葵", "小树苗", "启蒙", "启智", "百思", "慧达", "优学", "佳音", "博睿", "欣欣",
    "长风", "尚学", "立德", "育英", "春蕾", "海燕", "新东方式", "大地",
]  # fmt: skip
# group -> (category, subject of the register, [(word in the name, weight)])
GROUPS = {
    "subject": ("subject", None, [("英语", 2), ("少儿英语", 1), ("数学", 3), ("语文", 2),
                                  ("作文", 2), ("物理", 1)]),
    "art": ("non_subject", "文化艺术", [("书法", 3), ("美术", 3), ("舞蹈", 3), ("钢琴", 3),
                                        ("声乐", 2), ("围棋", 3), ("国际象棋", 1),
                                        ("播音主持", 2), ("戏剧", 1)]),
    "sport": ("non_subject", "体育", [("篮球", 3), ("足球", 3), ("游泳", 3), ("跆拳道", 3),
                                      ("武术", 2), ("乒乓球", 2)]),
    "tech": ("non_subject", "科技", [("编程", 3), ("机器人", 3), ("科学实验", 2), ("航模", 1)]),
    "misc": ("non_subject", "综合实践", [("研学", 2), ("口才", 2)]),
}  # fmt: skip
SCHOOL_SUBJECT = {"英语": "外语", "少儿英语": "外语", "数学": "数学", "语文": "语文",
                  "作文": "语文", "物理": "物理"}  # fmt: skip
# word -> (category, subjects, group, weight)
SUBJECT_WORDS = {
    word: (category, [subject or SCHOOL_SUBJECT[word]], group, weight)
    for group, (category, subject, words) in GROUPS.items()
    for word, weight in words
}
SUFFIXES = {
    "subject": ["培训学校", "培训中心", "学校", "教育咨询有限公司", "学堂"],
    "art": ["艺术学校", "艺术培训中心", "工作室", "文化艺术中心", "培训学校", "俱乐部",
            "文化传播有限公司"],
    "sport": ["体育俱乐部", "俱乐部", "训练营", "培训中心", "运动馆"],
    "tech": ["科技培训中心", "教育科技有限公司", "创客空间", "培训学校"],
    "misc": ["培训中心", "营地", "学苑", "教育科技有限公司"],
}  # fmt: skip
COURSE_LEVELS = ["启蒙班", "基础班", "提高班", "精品小班", "寒假班", "暑假班", "周末班", "竞赛班"]
# What parents type: brands, subjects, suffix words, places, a few longer pieces.
QUERIES = [
    "博雅", "启航", "英语", "书法", "编程", "篮球", "舞蹈", "围棋", "少儿英语", "机器人",
    "艺术学校", "工作室", "中关村", "望京", "启航英语", "阳光篮球", "金色童年", "新东方",
    "小牛顿", "钢琴", "跆拳道", "训练营", "科学实验", "天天向上",
]  # fmt: skip

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# --reduced: a data set of its own (district codes WR......, names with a mark, credit codes
# from another range), so that `make bench` never clobbers the full set; dashboard_load.py
# fills it through these (REDUCED_FILL: keyword arguments of _fill)
REDUCED_PREFIX = "WR"
REDUCED_FILL = {"n_institutions": 10000, "n_courses": 40000, "prefix": REDUCED_PREFIX}
REDUCED_CODES = [REDUCED_PREFIX + code[2:] for code, _name, _places in DISTRICTS]
# targets (issue 20, part 1)
MIN_RATIO, MAX_P99_MS, MAX_INPROCESS_MS = 0.15, 60.0, 5.0


def _districts(prefix: str):
    """(code, name, places) of a data set: the full one's as they are, another prefix's with
    its own codes and names (district names are unique)."""
    if prefix == "WL":
        return DISTRICTS
    return [(prefix + code[2:], f"{name}（{prefix}）", places) for code, name, places in DISTRICTS]


def _code_offset(prefix: str) -> int:
    return 0 if prefix == "WL" else 10_000_000  # credit codes are unique across data sets


from _common import Gunicorn, setup_bench_database  # noqa: E402

# --- the data set -------------------------------------------------------------------------


def _credit_code(i: int, nature: str, division: str) -> str:
    """A valid 统一社会信用代码: 91 (company) or 52 (民办非企业), the division, an organisation
    code MA + 7 base-31 characters unique per i, and the GB 32100 check character."""
    from institutions.uscc import check_character

    n = (i * 7919 + 104729) % 31**7  # a bijection on 0..31^7-1 (7919 is prime, not 31)
    body = ""
    for _ in range(7):
        n, r = divmod(n, 31)
        body = CHARSET[r] + body
    first17 = ("52" if nature == "non_profit" else "91") + division + "MA" + body
    return first17 + check_character(first17)


def _rows(n: int, today: dt.date, prefix: str = "WL"):
    """The institutions as column arrays (for one INSERT ... SELECT FROM unnest)."""
    rng = random.Random(SEED)
    districts = _districts(prefix)
    offset = _code_offset(prefix)
    words = list(SUBJECT_WORDS)
    weights = [SUBJECT_WORDS[w][3] for w in words]
    cols = {k: [] for k in [
        "name", "code", "category", "subjects", "mode", "nature", "address", "district",
        "scale", "licence_number", "issued", "expires", "revoked", "governance", "suspended",
        "word", "profile",
    ]}  # fmt: skip
    for i in range(n):
        d_index = rng.randrange(len(districts))
        d_code, d_name, places = districts[d_index]
        word = primary = rng.choices(words, weights)[0]
        category, subjects, group, _w = SUBJECT_WORDS[word]
        if rng.random() < 0.1:  # a second subject of another word: 书法美术, 篮球足球
            other = rng.choices(words, weights)[0]
            if other != word and SUBJECT_WORDS[other][2] == group:
                word = word + other
        brand = rng.choice(BRANDS)
        name = brand + word + rng.choice(SUFFIXES[group])
        if rng.random() < 0.25:
            name = rng.choice(places) + name
        if rng.random() < 0.15:
            name += f"（{rng.choice(DISTRICTS)[2][rng.randrange(4)]}校区）"
        # after 双减 few subject-type institutions remain as they were
        if category == "subject":
            governance = rng.choices(
                ["deregistered", "converted", "stripped", "pending", "converting"],
                [30, 40, 10, 10, 10],
            )[0]
            nature = "non_profit" if governance == "converted" else "for_profit"
        else:
            governance = "n/a"
            nature = "non_profit" if rng.random() < 0.2 else "for_profit"
        licence = rng.choices(["none", "revoked", "expired", "valid"], [4, 1.5, 8, 86.5])[0]
        issued = today - dt.timedelta(days=rng.randint(200, 2500))
        if licence == "expired":
            expires = today - dt.timedelta(days=rng.randint(1, 700))
        else:
            expires = today + dt.timedelta(days=rng.randint(0, 1800))
        division = d_code[2:]
        cols["name"].append(name)
        cols["code"].append(_credit_code(i + offset, nature, division))
        cols["category"].append(category)
        cols["subjects"].append("{" + ",".join(subjects) + "}")
        cols["mode"].append("online" if rng.random() < 0.12 else "offline")
        cols["nature"].append(nature)
        cols["address"].append(
            f"北京市{d_name}{rng.choice(places)}路{rng.randint(1, 300)}号{rng.randint(1, 12)}层"
        )
        cols["district"].append(d_code)
        cols["scale"].append(rng.randint(0, 800))
        cols["licence_number"].append(
            "" if licence == "none" else f"教民{division}{issued.year}{i:07d}号"
        )
        cols["issued"].append(None if licence == "none" else issued.isoformat())
        cols["expires"].append(None if licence == "none" else expires.isoformat())
        cols["revoked"].append(licence == "revoked")
        cols["governance"].append(governance)
        cols["suspended"].append("未按期整改消防隐患" if rng.random() < 0.02 else "")
        cols["word"].append(primary)
        # both: account and passed review; account / review only; neither
        cols["profile"].append(
            rng.choices(["both", "account", "review", "none"], [52, 10, 8, 30])[0]
        )
    return cols


def _mine(cur, prefix: str = "WL"):
    """(institutions, courses, md5 of the names by id) of the data set in the database."""
    cur.execute(
        "SELECT count(*), md5(string_agg(i.name, '|' ORDER BY i.id))"
        " FROM institutions_institution i JOIN portal_district d"
        " ON d.id = i.district_id WHERE d.code LIKE %s",
        [prefix + "%"],
    )
    institutions, digest = cur.fetchone()
    cur.execute(
        "SELECT count(*) FROM institutions_course c JOIN institutions_institution i"
        " ON i.id = c.institution_id JOIN portal_district d ON d.id = i.district_id"
        " WHERE d.code LIKE %s",
        [prefix + "%"],
    )
    return institutions, cur.fetchone()[0], digest


def _refresh_colours(prefix: str) -> int:
    """Store the colour of the data set's institutions whose stored colour is stale or ran
    out (what the nightly run does: institutions.colour.refresh); returns how many."""
    from django.db.models import Q
    from django.utils import timezone

    from institutions import colour
    from institutions.models import Institution

    today = timezone.localdate()
    ids = list(
        Institution.objects.filter(district__code__startswith=prefix)
        .filter(Q(colour_until__isnull=True) | Q(colour_until__lt=today))
        .values_list("pk", flat=True)
    )
    return len(colour.refresh(ids, today=today))


def _vacuum():
    from django.db import connection

    with connection.cursor() as cur:
        for table in ["institutions_institution", "institutions_course", "institutions_courseslot",
                      "institutions_supervisedaccount", "institutions_annualreview",
                      "portal_district", "institutions_namegram"]:  # fmt: skip
            cur.execute(f"VACUUM ANALYZE {table}")


def _fill(n_institutions: int, n_courses: int, *, prefix: str = "WL") -> float | None:
    """Fill the data set once (districts ``prefix``......); returns the seconds it took, None
    if it was already there (its stored colours refreshed if they were stale or ran out)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from institutions.models import Institution, TrainingPolicy
    from institutions.search import refresh_grams

    t0 = time.perf_counter()
    today = timezone.localdate()
    like = prefix + "%"
    cols = _rows(n_institutions, today, prefix)
    digest = hashlib.md5("|".join(cols["name"]).encode()).hexdigest()
    with connection.cursor() as cur:
        if _mine(cur, prefix) == (n_institutions, n_courses, digest):
            # the same names in the same order: the data set of this script
            refreshed = _refresh_colours(prefix)
            if refreshed:
                print(f"  stored colours refreshed: {refreshed} ({time.perf_counter() - t0:.1f} s)")
                _vacuum()
            else:  # the name index's visibility map (a migration may have just filled it)
                cur.execute("VACUUM ANALYZE institutions_namegram")
            return None
    print(f"  generated {n_institutions} names and codes ({time.perf_counter() - t0:.1f} s)")
    with transaction.atomic(), connection.cursor() as cur:
        # a different size asked for (or an interrupted older layout): start again
        cur.execute("SELECT id FROM portal_district WHERE code LIKE %s", [like])
        if cur.fetchall():
            mine = (
                "SELECT i.id FROM institutions_institution i JOIN portal_district d"
                " ON d.id = i.district_id WHERE d.code LIKE %s"
            )
            cur.execute(
                "DELETE FROM institutions_courseslot WHERE course_id IN (SELECT id FROM"
                f" institutions_course WHERE institution_id IN ({mine}))",
                [like],
            )
            for table in ["course", "annualreview", "supervisedaccount", "listchange",
                          "governancestep"]:  # fmt: skip
                cur.execute(
                    f"DELETE FROM institutions_{table} WHERE institution_id IN ({mine})", [like]
                )
            cur.execute(f"DELETE FROM institutions_institution WHERE id IN ({mine})", [like])
        for code, name, _places in _districts(prefix):
            cur.execute(
                "INSERT INTO portal_district (code, name) VALUES (%s, %s)"
                " ON CONFLICT (code) DO NOTHING",
                [code, name],
            )
        TrainingPolicy.current()  # the one row every search reads
        cur.execute("DROP TABLE IF EXISTS bench_wl")
        cur.execute(
            """
            CREATE TEMP TABLE bench_wl ON COMMIT DROP AS
            SELECT t.*, d.id AS district_id
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                        %s::text[], %s::text[], %s::int[], %s::text[], %s::date[], %s::date[],
                        %s::bool[], %s::text[], %s::text[], %s::text[], %s::text[])
                 WITH ORDINALITY AS t(name, code, category, subjects, mode, nature, address,
                                      district, scale, licence_number, issued, expires,
                                      revoked, governance, suspended, word, profile, n)
            JOIN portal_district d ON d.code = t.district
            """,
            [cols[k] for k in [
                "name", "code", "category", "subjects", "mode", "nature", "address",
                "district", "scale", "licence_number", "issued", "expires", "revoked",
                "governance", "suspended", "word", "profile",
            ]],
        )  # fmt: skip
        cur.execute(
            """
            INSERT INTO institutions_institution (
                name, credit_code, credit_code_override, credit_code_override_reason,
                category, subjects, mode, nature, address, district_id, scale,
                licence_number, licence_issued, licence_expires, licence_revoked, governance,
                suspended_reason, suspended_at, created_at, updated_at)
            SELECT name, code, false, '', category, subjects::varchar(10)[], mode, nature,
                   address, district_id, scale, licence_number, issued, expires, revoked,
                   governance, suspended,
                   CASE WHEN suspended <> '' THEN now() - interval '20 days' END,
                   now() - (n % 900) * interval '1 day', now()
            FROM bench_wl ORDER BY n
            """
        )
        cur.execute(
            """
            CREATE TEMP TABLE bench_wl_ids ON COMMIT DROP AS
            SELECT i.id, i.mode, i.subjects[1] AS subject, w.word, w.profile, w.n::int AS n,
                   row_number() OVER (ORDER BY i.id) AS rn
            FROM bench_wl w JOIN institutions_institution i ON i.credit_code = w.code
            """
        )
        cur.execute("SELECT setseed(0.2026)")
        cur.execute(
            """
            INSERT INTO institutions_supervisedaccount (institution_id, kind, bank, account_name,
                account_number, deposit_amount, active, opened_on)
            SELECT b.id,
                   CASE WHEN b.n %% 4 = 0 THEN 'deposit' ELSE 'escrow' END,
                   (ARRAY['中国工商银行', '中国建设银行', '中国银行', '北京银行',
                          '中国农业银行'])[1 + b.n %% 5] || '北京分行',
                   i.name || '预收费监管专户',
                   '1100' || lpad((b.n * 7919 %% 100000000)::text, 8, '0')
                          || lpad(b.n::text, 8, '0'),
                   CASE WHEN b.n %% 4 = 0 THEN 50000 + (b.n %% 20) * 10000 ELSE 0 END,
                   true, %s::date - (b.n %% 700)
            FROM bench_wl_ids b JOIN institutions_institution i ON i.id = b.id
            WHERE b.profile IN ('both', 'account')
            """,
            [today],
        )
        # passed reviews inside the 15-month window for 'both'/'review'; for the others
        # a few old passes and some 限期整改 (still grey)
        cur.execute(
            """
            INSERT INTO institutions_annualreview (institution_id, year, result, date, note)
            SELECT b.id, extract(year FROM d)::int, r, d, ''
            FROM bench_wl_ids b,
                 LATERAL (SELECT
                     CASE WHEN b.profile IN ('both', 'review')
                          THEN %(today)s::date - (30 + (random() * 330)::int)
                          ELSE %(today)s::date - (500 + (random() * 300)::int) END AS d,
                     CASE WHEN b.profile IN ('both', 'review') THEN 'passed'
                          WHEN random() < 0.5 THEN 'rectify' ELSE 'passed' END AS r) x
            WHERE b.profile IN ('both', 'review') OR b.n %% 3 = 0
            """,
            {"today": today},
        )
        cur.execute(
            """
            INSERT INTO institutions_course (institution_id, name, subject, mode,
                lesson_minutes, class_size, price_per_lesson, term_start, term_end, active,
                filing, filing_reason)
            SELECT b.id, b.word || (%(levels)s::text[])[1 + g %% 8],
                   b.subject, b.mode,
                   CASE WHEN b.mode = 'online' THEN 30 ELSE (ARRAY[45, 60, 90])[1 + g %% 3] END,
                   1 + (g * 37) %% 35,
                   round((15 + random() * 30)::numeric, 2),
                   date '2025-09-01' + (g %% 300), date '2025-09-01' + (g %% 300) + 60 + g %% 90,
                   random() < 0.9,
                   'approved', ''  -- 已备案: what the bureau entered (institutions 0006)
            FROM generate_series(1, %(courses)s) g
            JOIN bench_wl_ids b
              ON b.rn = 1 + floor(%(n)s * power(((g::bigint * 2654435761) %% 1000003)
                                                  / 1000003.0, 1.3))::int
            """,
            {"levels": COURSE_LEVELS, "courses": n_courses, "n": n_institutions},
        )
        cur.execute(
            """
            INSERT INTO institutions_courseslot (course_id, weekday, start, "end")
            SELECT c.id, c.id % 7, s, s + c.lesson_minutes * interval '1 minute'
            FROM institutions_course c JOIN bench_wl_ids b ON b.id = c.institution_id,
                 LATERAL (SELECT time '08:00' + (c.id % 19) * interval '30 minutes' AS s) x
            """
        )
        t1 = time.perf_counter()
        refresh_grams(Institution.objects.filter(district__code__startswith=prefix))
        print(f"  name 2-grams ({time.perf_counter() - t1:.1f} s)")
        t1 = time.perf_counter()
        refreshed = _refresh_colours(prefix)
        print(f"  stored colours: {refreshed} ({time.perf_counter() - t1:.1f} s)")
    _vacuum()
    return time.perf_counter() - t0


def _shares(total: int):
    from institutions.models import Institution
    from institutions.search import matching

    return {q: matching(Institution.objects.all(), q).count() / total for q in QUERIES}


def _colours(prefix: str):
    from django.db.models import Count

    from institutions.colour import stored_colour_expression
    from institutions.models import Institution

    rows = (
        Institution.objects.filter(district__code__startswith=prefix)
        .annotate(c=stored_colour_expression())
        .values("c")
        .annotate(n=Count("id"))
        .order_by("c")
    )
    return {r["c"]: r["n"] for r in rows}


def _check_colours(prefix: str, sample: int = 300) -> list[str]:
    """The colour the search and the API show (stored_colour_expression, the page's SQL) and
    the institution's page (stored_verdict) against colour.verdict, for a sample of the data
    set (every colour and reason mix); plus the search page itself for a few of them."""
    from django.test import Client

    from institutions import colour, selectors
    from institutions.models import Institution

    ids = list(
        Institution.objects.filter(district__code__startswith=prefix).values_list("pk", flat=True)
    )
    chosen = random.Random(SEED).sample(ids, min(sample, len(ids)))
    shown = dict(
        Institution.objects.filter(pk__in=chosen)
        .annotate(c=colour.stored_colour_expression())
        .values_list("pk", "c")
    )
    problems = []
    for institution in Institution.objects.filter(pk__in=chosen):
        right = colour.verdict(institution)
        if shown[institution.pk] != right.colour:
            problems.append(
                f"{institution.pk}: search {shown[institution.pk]}, verdict {right.colour}"
            )
        if colour.stored_verdict(institution) != right:
            problems.append(f"{institution.pk}: page {colour.stored_verdict(institution)}, {right}")
    client = Client()
    for pk in chosen[:20]:
        institution = Institution.objects.get(pk=pk)
        right = colour.verdict(institution)
        page = selectors.public_search_page(q=institution.name, per_page=100)
        row = next((r for r in page.rows if r["id"] == pk), None)
        if row is None or row["colour"] != right.colour:
            problems.append(f"{pk}: search page row {row}, verdict {right.colour}")
        html = client.get(f"/institutions/{pk}/", HTTP_HOST="127.0.0.1").content.decode()
        if f"badge-{right.colour}" not in html:
            problems.append(f"{pk}: the institution's page lacks badge-{right.colour}")
    print(f"colour check: {len(chosen)} institutions, {len(problems)} disagreements")
    return problems


# --- serving and loading --------------------------------------------------------------------


LUA = """
local paths = { %s }
local n = #paths
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7)
  counter = counter + 1
end
function init(args)
  i = offset or 0
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i %% n) + 1])
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _lua(paths, folder: Path, name: str) -> Path:
    path = folder / f"{name}.lua"
    path.write_text(LUA % ", ".join(f'"{p}"' for p in paths), encoding="utf-8")
    return path


def _wrk(url: str, script: Path, *, duration: int, connections: int, threads: int = 2):
    out = subprocess.run(
        [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
         str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    fig = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    fig["rps"] = float(m.group(1)) if m else 0.0
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
        fig[f"p{pct}"] = float(value) * _UNITS[unit]
    m = re.search(r"(\d+) requests in", out)
    fig["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    fig["bad"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    fig["socket_errors"] = sum(map(int, m.groups())) if m else 0
    return fig


def _others():
    """Other busy processes (tests, benchmarks) at the time of a run, for the report."""
    mine = {os.getpid()}
    busy = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in mine:
            continue
        try:
            cmd = (Path("/proc") / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if ("pytest" in cmd or "bench/" in cmd) and "whitelist_load" not in cmd:
            busy.append(cmd.strip()[:90])
    return busy


def _load_note() -> str:
    load1, load5, _ = os.getloadavg()
    others = _others()
    return f"load average {load1:.2f} (1 min) {load5:.2f} (5 min); other tests/benchmarks: " + (
        "; ".join(others) if others else "none"
    )


def _serve_and_load(workers: int, args, folder: Path):
    scripts = {
        "ping": _lua(["/ping"], folder, "ping"),
        "page": _lua([f"/institutions/?q={quote(q)}" for q in QUERIES], folder, "page"),
        "api": _lua([f"/api/institutions/?q={quote(q)}" for q in QUERIES], folder, "api"),
    }
    server = Gunicorn(workers, folder / f"gunicorn-{workers}.log")
    results = {}
    try:
        server.start()  # with this process's environment: PORTAL_PUBLIC_CACHE_SECONDS=0
        print(f"\ngunicorn --workers {workers} on {server.url} (public cache off); "
              f"{_load_note()}", flush=True)  # fmt: skip
        for name in ["ping", "page", "api"]:  # warm every worker: imports, templates, plans
            _wrk(server.url, scripts[name], duration=args.warmup, connections=args.connections)
        for label, name in [("ping", "ping"), ("page", "page"), ("api", "api"),
                            ("ping (again)", "ping")]:  # fmt: skip
            fig = _wrk(server.url, scripts[name], duration=args.duration,
                       connections=args.connections)  # fmt: skip
            results[label] = fig
            busy = len(_others())
            print(
                f"  {label:13} {fig['rps']:8.1f} req/s  p50 {fig.get('p50', 0):6.2f} ms"
                f"  p99 {fig.get('p99', 0):6.2f} ms  ({fig['requests']} requests, "
                f"{fig['bad']} non-2xx, {fig['socket_errors']} socket errors; load "
                f"{os.getloadavg()[0]:.1f}, {busy} other test/bench processes)",
                flush=True,
            )
        results["server_problems"] = server.problems()
    finally:
        server.stop()
    return results


def _report(workers: int, results):
    """Print the table of one worker count; returns (verdicts, problems)."""
    ping_rps = statistics.mean([results["ping"]["rps"], results["ping (again)"]["rps"]])
    print(f"\nworkers={workers}, {len(QUERIES)} queries rotated per request, public cache off")
    print(f"{'endpoint':34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}")
    rows = [
        ("/ping (minimal view, before)", "ping"),
        ("/ping (minimal view, after)", "ping (again)"),
        ("/institutions/?q= (page)", "page"),
        ("/api/institutions/?q= (API)", "api"),
    ]
    for title, key in rows:
        fig = results[key]
        print(
            f"{title:34}{fig['rps']:9.1f}{fig.get('p50', 0):9.2f}{fig.get('p99', 0):9.2f}"
            f"{fig['rps'] / ping_rps:8.2f}"
        )
    verdicts, problems = {}, []
    for title, key in rows:
        fig = results[key]
        if fig["bad"] or fig["socket_errors"] or not fig["requests"]:
            problems.append(f"{title}: {fig['bad']} non-2xx, {fig['socket_errors']} socket "
                            f"errors, {fig['requests']} requests")  # fmt: skip
    for line in results.get("server_problems", []):
        problems.append(f"gunicorn: {line}")
    for title, key in rows[2:]:
        fig = results[key]
        ratio = fig["rps"] / ping_rps
        thr, lat = ratio >= MIN_RATIO, fig.get("p99", 1e9) <= MAX_P99_MS
        verdicts[key] = (ratio, thr and lat)
        print(
            f"  {title}: >= {MIN_RATIO:.0%} of /ping's throughput: "
            f"{'target met' if thr else 'NOT met'} ({100 * ratio:.1f} %); p99 <= "
            f"{MAX_P99_MS:.0f} ms: {'target met' if lat else 'NOT met'} "
            f"({fig.get('p99', 0):.1f} ms)"
        )
    return verdicts, problems


# --- in-process breakdown, EXPLAIN, profile ----------------------------------------------


def _breakdown(rounds: int, detail_ids: list[int]):
    """Per request: wall time, time inside SQL, number of queries (test Client, one process);
    the page and the API for each query, an institution's page for each of ``detail_ids``.
    Returns (figures, problems): a non-200 answer or a query count that differs between
    requests of one path is a problem."""
    from django.db import connection
    from django.test import Client

    client = Client()
    spent = {"sql": 0.0, "queries": 0}

    def timer(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["sql"] += time.perf_counter() - t
            spent["queries"] += 1

    requests = {
        "ping": [("/ping", {})],
        "page": [("/institutions/", {"q": q}) for q in QUERIES],
        "api": [("/api/institutions/", {"q": q}) for q in QUERIES],
        "detail": [(f"/institutions/{pk}/", {}) for pk in detail_ids],
    }
    out, problems = {}, []
    for name, paths in requests.items():
        for path, query in paths:  # warm
            client.get(path, query, HTTP_HOST="127.0.0.1")
        counts = set()
        walls = []
        spent.update(sql=0.0, queries=0)
        with connection.execute_wrapper(timer):
            for _ in range(rounds):
                for path, query in paths:
                    before = spent["queries"]
                    t = time.perf_counter()
                    response = client.get(path, query, HTTP_HOST="127.0.0.1")
                    walls.append(time.perf_counter() - t)
                    if response.status_code != 200:
                        problems.append(f"{path} {query}: {response.status_code}")
                    counts.add(spent["queries"] - before)
        n = len(walls)
        out[name] = {
            "wall": 1000 * sum(walls) / n, "sql": 1000 * spent["sql"] / n,
            "queries": sorted(counts), "median": 1000 * statistics.median(walls),
        }  # fmt: skip
        if len(counts) != 1:
            problems.append(f"{name}: the number of queries differs between requests: {counts}")
    print(f"\nin-process (Django test Client, {rounds} rounds; {len(QUERIES)} queries, "
          f"{len(detail_ids)} institutions' pages):")  # fmt: skip
    print(f"{'':7}{'ms/request':>12}{'median':>9}{'of it SQL':>11}{'Python etc.':>13}  queries")
    for name, f in out.items():
        print(
            f"{name:7}{f['wall']:12.2f}{f['median']:9.2f}{f['sql']:11.2f}"
            f"{f['wall'] - f['sql']:13.2f}  {', '.join(map(str, f['queries']))}"
        )
    return out, problems


def _explain(q: str):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for path in ["/institutions/", "/api/institutions/"]:
        with CaptureQueriesContext(connection) as ctx:
            client.get(path, {"q": q}, HTTP_HOST="127.0.0.1")
        print(f"\n=== EXPLAIN ANALYZE of the {len(ctx.captured_queries)} queries of {path}?q={q}")
        for query in ctx.captured_queries:
            sql = query["sql"]
            print(f"\n-- {sql[:300]}{' ...' if len(sql) > 300 else ''}")
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                print("\n".join(r[0] for r in cur.fetchall()))


def _profile(rounds: int):
    from django.test import Client

    client = Client()
    for path in ["/institutions/", "/api/institutions/"]:
        for q in QUERIES:
            client.get(path, {"q": q}, HTTP_HOST="127.0.0.1")
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(rounds):
            for q in QUERIES:
                client.get(path, {"q": q}, HTTP_HOST="127.0.0.1")
        prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
        stats.print_stats(35)
        print(f"\n=== cProfile of {path} ({rounds} x {len(QUERIES)} requests), by cumulative time")
        print(buf.getvalue()[:9000])
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(20)
        print("=== ... by own time")
        print(buf.getvalue()[:6000])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--reduced", action="store_true", help="make bench: own 10,000 institutions, wrk 8 s"
    )
    parser.add_argument("--institutions", type=int, default=None, help="default 50000")
    parser.add_argument("--courses", type=int, default=None, help="default 200000")
    parser.add_argument("--workers", default="2", help="gunicorn worker counts, e.g. 2,3,4")
    parser.add_argument("--duration", type=int, default=None, help="seconds per wrk run (15)")
    parser.add_argument("--warmup", type=int, default=None, help="seconds of warm-up (3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=None, help="in-process rounds (4)")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    reduced = args.reduced
    prefix = REDUCED_PREFIX if reduced else "WL"
    n_inst = args.institutions or (REDUCED_FILL["n_institutions"] if reduced else 50000)
    n_courses = args.courses or (REDUCED_FILL["n_courses"] if reduced else 200000)
    args.duration = args.duration or (8 if reduced else 15)
    args.warmup = args.warmup or (2 if reduced else 3)
    args.rounds = args.rounds or (2 if reduced else 4)
    if not os.access(WRK, os.X_OK):
        sys.exit(f"{WRK} is missing: apt-get install wrk")
    # a SIGTERM unwinds like Ctrl-C, so gunicorn and the embedded servers are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    # the cold path: no whole-page cache, here (read by settings at setup) and in gunicorn
    # (Gunicorn passes this process's environment on)
    os.environ["PORTAL_PUBLIC_CACHE_SECONDS"] = "0"
    services = setup_bench_database()
    try:
        from django.conf import settings

        if settings.PORTAL_PUBLIC_CACHE_SECONDS != 0:
            sys.exit("the public cache is on: PORTAL_PUBLIC_CACHE_SECONDS must be 0 here")
        t0 = time.perf_counter()
        fill = _fill(n_inst, n_courses, prefix=prefix)
        if fill is None:
            print(f"data set {prefix} already there ({time.perf_counter() - t0:.1f} s to check)")
        else:
            print(f"filled {n_inst} institutions, {n_courses} courses ({prefix}) "
                  f"in {fill:.1f} s")  # fmt: skip
        from django.db import connection

        from institutions.models import Institution

        total = Institution.objects.count()
        shares = _shares(total)
        print(f"{total} institutions in the database; list colours of {prefix}: "
              f"{_colours(prefix)}")  # fmt: skip
        print("share of the institutions each query matches:")
        print("  " + ", ".join(f"{q} {100 * s:.2f}%" for q, s in shares.items()))
        problems = _check_colours(prefix)
        detail_ids = random.Random(SEED + 1).sample(
            list(Institution.objects.filter(district__code__startswith=prefix)
                 .values_list("pk", flat=True)), 48,
        )  # fmt: skip
        connection.close()
        results, verdicts = {}, {}
        with tempfile.TemporaryDirectory(prefix="whitelist-load-") as folder:
            for workers in [int(w) for w in args.workers.split(",")]:
                results[workers] = _serve_and_load(workers, args, Path(folder))
                verdicts[workers], found = _report(workers, results[workers])
                problems += found
        inproc, found = _breakdown(args.rounds, detail_ids)
        problems += found
        if args.explain:
            _explain("英语")
        if args.profile:
            _profile(args.rounds)
        print(f"\nload during the run: {_load_note()}")
        _rows_for_table(results, verdicts, inproc, reduced)
        if problems:
            print("\nCORRECTNESS CHECKS FAILED:")
            for line in problems[:40]:
                print(f"  {line}")
            return 1
        print("\ncorrectness checks passed: every answer 200, the same number of queries for "
              "every query, the colours shown equal colour.verdict")  # fmt: skip
        return 0
    finally:
        services.stop()


def _rows_for_table(results, verdicts, inproc, reduced: bool):
    """One table row per targeted figure (bench/_common.table_row), from the first worker
    count (2 unless --workers says otherwise)."""
    from _common import table_row

    scale = " (reduced)" if reduced else ""
    workers = next(iter(results))
    r = results[workers]
    ping_rps = statistics.mean([r["ping"]["rps"], r["ping (again)"]["rps"]])
    for key, title in [("page", "whitelist page, cache off"), ("api", "whitelist API, cache off")]:
        ratio, met = verdicts[workers][key]
        table_row(
            title + scale,
            f"{r[key]['rps']:.0f} req/s, p99 {r[key].get('p99', 0):.0f} ms ({workers} workers)",
            baseline=f"/ping {ping_rps:.0f} req/s", ratio=ratio,
            target=f">= {MIN_RATIO} and p99 <= {MAX_P99_MS:.0f} ms",
            verdict="met" if met else "missed",
        )  # fmt: skip
    ping_ms = inproc["ping"]["wall"]
    for key, title in [("page", "whitelist page in-process"), ("api", "whitelist API in-process"),
                       ("detail", "institution page in-process")]:  # fmt: skip
        f = inproc[key]
        table_row(
            title + scale,
            f"{f['wall']:.2f} ms ({f['sql']:.2f} SQL, {'/'.join(map(str, f['queries']))} queries)",
            baseline=f"/ping {ping_ms:.2f} ms", ratio=None,
            target=f"<= {MAX_INPROCESS_MS:.0f} ms",
            verdict="met" if f["wall"] <= MAX_INPROCESS_MS else "missed",
        )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
