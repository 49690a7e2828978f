#!/usr/bin/env python3
"""Verify a 阳光分班 draw published by the portal, with nothing but Python's standard library.

    python3 verify_draw.py draw.json
    python3 verify_draw.py https://portal.example.edu.cn/draw/12/draw.json

Reads the JSON the portal publishes for a draw (its public page links it: "下载 JSON"),
checks the two commitments published before the draw, recomputes the classes from the seed
and the input, prints them and says whether they are the portal's. Exit status 0 when every
check passes, 1 when one fails, 2 when the file cannot be read.

The algorithm, version "sunshine-draw/1" (the same text as in the portal's
governance/draw.py; this file is a second, independent implementation of it):

1. Canonical input: the JSON object under "input", serialized with keys sorted, separators
   "," and ":" without spaces, non-ASCII characters as themselves, encoded in UTF-8.
   input_sha256 = SHA-256 of those bytes (hex). Pupils are numbered ("no") in the order of
   (gender, band, name); the names are masked (张*明).
2. Seed: 64 hex digits = 32 bytes; seed_sha256 = SHA-256 of the 32 bytes (hex).
3. Random stream: block k (k = 0, 1, 2, ... one counter for the whole draw) =
   HMAC-SHA256(key = seed bytes, message = k as 8 bytes big-endian). uniform(m): next
   block, x = its first 8 bytes as a big-endian unsigned integer; if x < 2^64 - (2^64 mod m)
   return x mod m, otherwise take the next block (rejection sampling).
4. Shuffle (Fisher-Yates): for i = len-1 down to 1: j = uniform(i + 1); swap items i, j.
5. Pupils: strata = the distinct (gender, band) pairs in ascending order. A pointer starts at
   class 1. For each stratum, its pupils' numbers in ascending order are shuffled and dealt
   one by one to the class under the pointer, which then moves on (after the last class comes
   class 1), carrying over to the next stratum.
6. Head teachers: after the pupils, with the same stream, the teachers (sorted) are
   shuffled; the i-th (from 0) gets class i + 1.
"""

import hashlib
import hmac
import json
import sys
import urllib.request

TWO_64 = 2**64


def canonical_bytes(doc):
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


class RandomStream:
    def __init__(self, seed_bytes):
        self.key = seed_bytes
        self.k = 0

    def next_block(self):
        message = self.k.to_bytes(8, byteorder="big")
        self.k += 1
        return hmac.new(self.key, message, hashlib.sha256).digest()

    def below(self, m):
        bound = TWO_64 - TWO_64 % m
        while True:
            x = int.from_bytes(self.next_block()[0:8], byteorder="big")
            if x < bound:
                return x % m


def fisher_yates(stream, items):
    items = list(items)
    i = len(items) - 1
    while i >= 1:
        j = stream.below(i + 1)
        items[i], items[j] = items[j], items[i]
        i -= 1
    return items


def draw_classes(seed_hex, doc):
    n = doc["classes"]
    stream = RandomStream(bytes.fromhex(seed_hex))
    strata = {}
    for p in doc["pupils"]:
        strata.setdefault((p["gender"], p["band"]), []).append(p["no"])
    members = {c: [] for c in range(1, n + 1)}
    pointer = 1
    for key in sorted(strata):
        for no in fisher_yates(stream, sorted(strata[key])):
            members[pointer].append(no)
            pointer = pointer + 1 if pointer < n else 1
    teachers = fisher_yates(stream, sorted(doc["teachers"]))
    return [
        {
            "class": c,
            "teacher": teachers[c - 1] if teachers else "",
            "pupils": sorted(members[c]),
        }
        for c in range(1, n + 1)
    ]


def load(source):
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 - by design
            return json.loads(response.read().decode("utf-8"))
    with open(source, encoding="utf-8") as handle:
        return json.load(handle)


def verify(published):
    """(report lines, every check passed) for a published draw."""
    lines, ok = [], True
    doc, commitment = published.get("input"), published.get("commitment") or {}
    lines.append(f"分班: {published.get('title', '')}")
    if published.get("superseded"):
        s = published["superseded"]
        lines.append(
            f"注意: 该分班已被教育局决定作废（理由: {s.get('reason', '')}），"
            f"新的分班编号 {s.get('by')}"
        )
    if doc is None:
        return lines + ["尚未公布承诺: 没有可以核验的名单。"], False
    if doc.get("algorithm") != "sunshine-draw/1":
        return lines + [f"未知的算法版本: {doc.get('algorithm')}"], False
    input_hash = hashlib.sha256(canonical_bytes(doc)).hexdigest()
    match = input_hash == commitment.get("input_sha256")
    ok &= match
    lines.append(f"名单与参数 SHA-256: {input_hash}  {'与承诺一致' if match else '与承诺不一致!'}")
    lines.append(
        f"参数: {doc['grade']}年级, {doc['year']}级, {doc['classes']} 个班, "
        f"{len(doc['pupils'])} 名学生, {len(doc['teachers'])} 名班主任, "
        f"{'按性别和分层' if doc['bands'] else '按性别'}均衡"
    )
    seed = published.get("seed")
    if not seed:
        return lines + ["尚未抽签: 种子未公开。承诺值: " + str(commitment.get("seed_sha256"))], ok
    seed_hash = hashlib.sha256(bytes.fromhex(seed)).hexdigest()
    match = seed_hash == commitment.get("seed_sha256")
    ok &= match
    lines.append(f"种子: {seed}")
    lines.append(f"种子 SHA-256: {seed_hash}  {'与承诺一致' if match else '与承诺不一致!'}")
    classes = draw_classes(seed, doc)
    names = {p["no"]: p for p in doc["pupils"]}
    for c in classes:
        girls = sum(1 for no in c["pupils"] if names[no]["gender"] == "F")
        head = f"  班主任 {c['teacher']}" if c["teacher"] else ""
        lines.append(
            f"{c['class']}班{head}  {len(c['pupils'])} 人"
            f"（女 {girls}，男 {len(c['pupils']) - girls}）"
        )
        lines.append("    " + " ".join(f"{no}.{names[no]['name']}" for no in c["pupils"]))
    result = (published.get("result") or {}).get("classes")
    if result is not None:
        match = result == classes
        ok &= match
        lines.append(
            "重新计算的分班结果" + ("与平台公布的一致。" if match else "与平台公布的不一致!")
        )
    lines.append("核验通过。" if ok else "核验未通过!")
    return lines, ok


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1])
        return 2
    try:
        published = load(argv[1])
    except (OSError, ValueError) as exc:
        print(f"无法读取 {argv[1]}: {exc}")
        return 2
    try:
        lines, ok = verify(published)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        print(f"文件格式不对，无法核验: {exc!r}")
        return 2
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
