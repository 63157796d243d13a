"""The formats of the API's strings as regular expressions, written once for the server (validation.py, requests.py)
and the document (schemas.py -> openapi.py), so that what the document admits is exactly what the server admits.

Each pattern uses only what ECMA-262 and Python's `re` read alike (classes, `\\xHH` and `\\uHHHH` escapes, `(?:...)`
groups; no look-around), because OpenAPI tools read them as the former and the server as the latter.
"""

from __future__ import annotations

from typing import Final

# Query integers are read from at most 18 digits (no sign): the largest is 10**18 - 1.
MAX_QUERY_DIGITS: Final = 18
MAX_QUERY_INTEGER: Final = 10**MAX_QUERY_DIGITS - 1

# --- The calendar: real dates only (years 0001-9999; February 29 in leap years only) -----------------------------
_YEAR: Final = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"  # 0001-9999, not 0000
_MONTH_DAY: Final = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"  # months of 31 days
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"  # months of 30 days
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"  # February, but its 29th
)
# Leap years: divisible by 4 but not by 100 (xx04, xx08, ... xx96), or by 400 (0400, 0800, ... 9600; not 0000).
_LEAP_YEAR: Final = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
DATE: Final = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME: Final = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
_OFFSET: Final = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
DATE_PATTERN: Final = f"^{DATE}$"
# An instant: a date, a time (seconds and up to 6 fraction digits optional) and a UTC offset (Z or +hh:mm).
INSTANT_PATTERN: Final = f"^{DATE}T{_TIME}{_OFFSET}$"
CALENDAR_RULE: Final = (
    "A real calendar date of the years 0001-9999: months 01-12, each with its own number of days, February 29 in "
    "leap years only (divisible by 4, and not by 100 unless by 400); 0000-00-00 or 2026-02-30 are refused (422)."
)

# --- Text ------------------------------------------------------------------------------------------------------
# What Python's str.strip() removes (str.isspace()) and control characters: spelled out, since `\s` differs
# between ECMA-262 and Python (\x85, \ufeff).
_SPACE_OR_CONTROL: Final = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_CONTROL_CHARACTERS: Final = r"^[^\x00-\x1f\x7f]*$"
# At least one character that is neither blank nor a control character, and no control character.
VISIBLE_TEXT_PATTERN: Final = rf"^[^\x00-\x1f\x7f]*[^{_SPACE_OR_CONTROL}][^\x00-\x1f\x7f]*$"

# --- Headers ---------------------------------------------------------------------------------------------------
VISIBLE_ASCII: Final = r"[\x21-\x7e]"
IDEMPOTENCY_KEY_PATTERN: Final = rf"^{VISIBLE_ASCII}{{1,255}}$"
CORRELATION_ID_PATTERN: Final = rf"^{VISIBLE_ASCII}{{1,128}}$"
# An ETag of this API ("3", also W/"3" or a bare 3), or * (any version).
IF_MATCH_PATTERN: Final = rf'^(?:\*|(?:W/)?"?([0-9]{{1,{MAX_QUERY_DIGITS}}})"?)$'
