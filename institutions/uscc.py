"""统一社会信用代码 (unified social credit code), GB 32100-2015.

18 characters of 0-9 and the capital letters without I, O, Z, S, V; the last one is a check
character over the first 17 with weights 3^i mod 31.
"""

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28


def check_character(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """None if ``code`` is a valid code, else what is wrong with it, in Chinese."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return f"统一社会信用代码应为18位，这里是{len(code)}位。"
    bad = sorted({c for c in code if c not in CHARSET})
    if bad:
        return f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用 I、O、Z、S、V）。"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位不正确：按前17位计算应为“{expected}”，而不是“{code[17]}”。"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def is_non_profit(code: str) -> bool:
    """Prefix 52: 民办非企业单位, what a subject-type institution becomes after 营转非."""
    return (code or "").startswith("52")
