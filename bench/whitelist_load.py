"""Whitelist search under load: 50,000 institutions, 200,000 courses, gunicorn and wrk.

    .venv/bin/python bench/whitelist_load.py [--institutions 50000] [--courses 200000]
                                             [--workers 2,3,4] [--duration 15] [--connections 16]
                                             [--explain] [--profile]

Uses DATABASE_URL's server (or the embedded one) with a separate database, <name>_bench,
filled once with set-based SQL and kept for the next run: five districts (codes WL......),
the institutions with Chinese names made of a brand, a subject and a suffix (sometimes a
place and a 校区), valid unified social credit codes, licences with a spread of expiry dates,
about half with a supervised account and a passed annual review, the courses with one
weekly slot each; then the name 2-grams (institutions.search.refresh_grams) and VACUUM
ANALYZE. For each worker count it serves the portal with gunicorn on this machine
(DJANGO_DEBUG=false, PORTAL_PRODUCTION=false) and runs wrk (-t2 -c16 --latency) against
/ping (Django's smallest view, the baseline, measured before and after the searches), the
search page /institutions/?q=... and the API /api/institutions/?q=..., a Lua script
rotating realistic name fragments per request. Targets (the issue): a search at least 50 %
of the minimal view's throughput, and its p99 at most 50 ms, at 16 connections.

It then times the same requests in-process (Django test Client) to split a request's time
into SQL and Python and to check that the number of queries does not grow with the result
size; --explain prints EXPLAIN ANALYZE of every query of one search, --profile the top of a
cProfile of the page and the API.
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


def _rows(n: int, today: dt.date):
    """The institutions as column arrays (for one INSERT ... SELECT FROM unnest)."""
    rng = random.Random(SEED)
    words = list(SUBJECT_WORDS)
    weights = [SUBJECT_WORDS[w][3] for w in words]
    cols = {k: [] for k in [
        "name", "code", "category", "subjects", "mode", "nature", "address", "district",
        "scale", "licence_number", "issued", "expires", "revoked", "governance", "suspended",
        "word", "profile",
    ]}  # fmt: skip
    for i in range(n):
        d_index = rng.randrange(len(DISTRICTS))
        d_code, d_name, places = DISTRICTS[d_index]
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
        cols["code"].append(_credit_code(i, nature, division))
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


def _mine(cur):
    """(institutions, courses, md5 of the names by id) of the data set in the database."""
    cur.execute(
        "SELECT count(*), md5(string_agg(i.name, '|' ORDER BY i.id))"
        " FROM institutions_institution i JOIN portal_district d"
        " ON d.id = i.district_id WHERE d.code LIKE 'WL%'"
    )
    institutions, digest = cur.fetchone()
    cur.execute(
        "SELECT count(*) FROM institutions_course c JOIN institutions_institution i"
        " ON i.id = c.institution_id JOIN portal_district d ON d.id = i.district_id"
        " WHERE d.code LIKE 'WL%'"
    )
    return institutions, cur.fetchone()[0], digest


def _fill(n_institutions: int, n_courses: int) -> float | None:
    """Fill the data set once; returns the seconds it took, None if it was already there."""
    from django.db import connection, transaction
    from django.utils import timezone

    from institutions.models import Institution, TrainingPolicy
    from institutions.search import refresh_grams

    t0 = time.perf_counter()
    today = timezone.localdate()
    cols = _rows(n_institutions, today)
    digest = hashlib.md5("|".join(cols["name"]).encode()).hexdigest()
    with connection.cursor() as cur:
        if _mine(cur) == (n_institutions, n_courses, digest):
            return None  # the same names in the same order: the data set of this script
    print(f"  generated {n_institutions} names and codes ({time.perf_counter() - t0:.1f} s)")
    with transaction.atomic(), connection.cursor() as cur:
        # a different size asked for (or an interrupted older layout): start again
        cur.execute("SELECT id FROM portal_district WHERE code LIKE 'WL%'")
        if cur.fetchall():
            mine = (
                "SELECT i.id FROM institutions_institution i JOIN portal_district d"
                " ON d.id = i.district_id WHERE d.code LIKE 'WL%'"
            )
            cur.execute(
                "DELETE FROM institutions_courseslot WHERE course_id IN (SELECT id FROM"
                f" institutions_course WHERE institution_id IN ({mine}))"
            )
            for table in ["course", "annualreview", "supervisedaccount", "listchange",
                          "governancestep"]:  # fmt: skip
                cur.execute(f"DELETE FROM institutions_{table} WHERE institution_id IN ({mine})")
            cur.execute(f"DELETE FROM institutions_institution WHERE id IN ({mine})")
        for code, name, _places in DISTRICTS:
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
        refresh_grams(Institution.objects.filter(district__code__startswith="WL"))
        print(f"  name 2-grams ({time.perf_counter() - t1:.1f} s)")
    with connection.cursor() as cur:
        for table in ["institutions_institution", "institutions_course", "institutions_courseslot",
                      "institutions_supervisedaccount", "institutions_annualreview",
                      "portal_district"]:  # fmt: skip
            cur.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - t0


def _shares(total: int):
    from institutions.models import Institution
    from institutions.search import matching

    return {q: matching(Institution.objects.all(), q).count() / total for q in QUERIES}


def _colours():
    from django.db.models import Count

    from institutions.colour import colour_expression
    from institutions.models import Institution

    rows = (
        Institution.objects.annotate(c=colour_expression())
        .values("c")
        .annotate(n=Count("id"))
        .order_by("c")
    )
    return {r["c"]: r["n"] for r in rows}


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
        # every request a URL of its own: what a page costs when the whole-page cache
        # (portal/public_cache.py) has not seen it yet
        "page_cold": _lua(
            [f"/institutions/?q={quote(q)}&n={i}" for i in range(400) for q in QUERIES],
            folder,
            "page_cold",
        ),  # fmt: skip
    }
    server = Gunicorn(workers, folder / f"gunicorn-{workers}.log")
    results = {}
    try:
        server.start()
        print(f"\ngunicorn --workers {workers} on {server.url}; {_load_note()}", flush=True)
        for name in ["ping", "page", "api"]:  # warm every worker: imports, templates, plans
            _wrk(server.url, scripts[name], duration=args.warmup, connections=args.connections)
        for label, name in [("ping", "ping"), ("page", "page"), ("api", "api"),
                            ("page (cold)", "page_cold"), ("ping (again)", "ping")]:  # fmt: skip
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
    finally:
        server.stop()
    return results


def _report(workers: int, results) -> bool:
    ping_rps = statistics.mean([results["ping"]["rps"], results["ping (again)"]["rps"]])
    print(f"\nworkers={workers}, {len(QUERIES)} queries rotated per request")
    print(f"{'endpoint':34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}")
    rows = [
        ("/ping (minimal view, before)", "ping"),
        ("/ping (minimal view, after)", "ping (again)"),
        ("/institutions/?q= (page)", "page"),
        ("/api/institutions/?q= (API)", "api"),
        ("/institutions/?q= (not cached yet)", "page (cold)"),
    ]
    for title, key in rows:
        fig = results[key]
        print(
            f"{title:34}{fig['rps']:9.1f}{fig.get('p50', 0):9.2f}{fig.get('p99', 0):9.2f}"
            f"{fig['rps'] / ping_rps:8.2f}"
        )
    ok_all = True
    for title, key in rows[2:4]:  # the targets; the cold row is for information
        fig = results[key]
        clean = fig["bad"] == 0 and fig["socket_errors"] == 0 and fig["requests"] > 0
        thr = fig["rps"] / ping_rps >= 0.5
        lat = fig.get("p99", 1e9) <= 50
        ok_all &= clean and thr and lat
        print(
            f"  {title}: >= 50% of minimal view throughput: {'target met' if thr else 'NOT met'}"
            f" ({100 * fig['rps'] / ping_rps:.0f} %); p99 <= 50 ms: "
            f"{'target met' if lat else 'NOT met'} ({fig.get('p99', 0):.1f} ms)"
            + ("" if clean else "; ERRORS in the responses")
        )
    return ok_all


# --- in-process breakdown, EXPLAIN, profile ----------------------------------------------


def _breakdown(rounds: int):
    """Per request: wall time, time inside SQL, number of queries (test Client, one process)."""
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

    out = {}
    for name, path in [("ping", "/ping"), ("page", "/institutions/"),
                       ("api", "/api/institutions/")]:  # fmt: skip
        for q in QUERIES:  # warm
            client.get(path, {"q": q} if name != "ping" else {}, HTTP_HOST="127.0.0.1")
        counts = set()
        walls = []
        spent.update(sql=0.0, queries=0)
        with connection.execute_wrapper(timer):
            for _ in range(rounds):
                for q in QUERIES:
                    before = spent["queries"]
                    t = time.perf_counter()
                    response = client.get(
                        path, {"q": q} if name != "ping" else {}, HTTP_HOST="127.0.0.1"
                    )
                    walls.append(time.perf_counter() - t)
                    assert response.status_code == 200, (path, q, response.status_code)
                    counts.add(spent["queries"] - before)
        n = len(walls)
        out[name] = {
            "wall": 1000 * sum(walls) / n, "sql": 1000 * spent["sql"] / n,
            "queries": sorted(counts),
        }  # fmt: skip
    print(f"\nin-process (Django test Client, {rounds} x {len(QUERIES)} requests each):")
    print(f"{'':6}{'ms/request':>12}{'of it SQL':>11}{'Python etc.':>13}  queries per request")
    for name, f in out.items():
        print(
            f"{name:6}{f['wall']:12.2f}{f['sql']:11.2f}{f['wall'] - f['sql']:13.2f}  "
            f"{', '.join(map(str, f['queries']))}"
        )
    return out


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
    parser.add_argument("--institutions", type=int, default=50000)
    parser.add_argument("--courses", type=int, default=200000)
    parser.add_argument("--workers", default="2,3,4", help="gunicorn worker counts to try")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="in-process rounds")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not os.access(WRK, os.X_OK):
        sys.exit(f"{WRK} is missing: apt-get install wrk")
    # a SIGTERM unwinds like Ctrl-C, so gunicorn and the embedded servers are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    services = setup_bench_database()
    try:
        t0 = time.perf_counter()
        fill = _fill(args.institutions, args.courses)
        if fill is None:
            print(f"data set already there ({time.perf_counter() - t0:.1f} s to check)")
        else:
            print(f"filled {args.institutions} institutions, {args.courses} courses "
                  f"in {fill:.1f} s")  # fmt: skip
        from django.db import connection

        from institutions.models import Institution

        total = Institution.objects.count()
        shares = _shares(total)
        print(f"{total} institutions; list colours: {_colours()}")
        print("share of the institutions each query matches:")
        print("  " + ", ".join(f"{q} {100 * s:.2f}%" for q, s in shares.items()))
        connection.close()
        results = {}
        with tempfile.TemporaryDirectory(prefix="whitelist-load-") as folder:
            for workers in [int(w) for w in args.workers.split(",")]:
                results[workers] = _serve_and_load(workers, args, Path(folder))
            verdicts = {w: _report(w, r) for w, r in results.items()}
        _breakdown(args.rounds)
        if args.explain:
            _explain("英语")
        if args.profile:
            _profile(args.rounds)
        print(f"\nload during the run: {_load_note()}")
        best = max(results, key=lambda w: results[w]["page"]["rps"])
        print(
            "all targets "
            + ("met" if any(verdicts.values()) else "NOT met")
            + f" (best search throughput with --workers {best})"
        )
        return 0 if any(verdicts.values()) else 1
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
