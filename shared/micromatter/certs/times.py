"""Certificate times: seconds since the Matter epoch and their DER forms.

Matter certificates count seconds from 2000-01-01T00:00:00Z (32 bits in TLV);
X.509 writes calendar times as UTCTime (1950-2049) or GeneralizedTime.  A TLV
notAfter of 0 means "no well-defined expiration", written in X.509 as
99991231235959Z.  Times here are plain ints (negative before 2000), with
``NO_EXPIRY_SECONDS`` the value of that special date.
"""

from micromatter.compat import const
from micromatter.certs import der
from micromatter.certs.errors import DerError

UNIX_OFFSET = const(946684800)  # Unix time of the Matter epoch
_DAYS_TO_2000 = const(10957)  # days from 1970-01-01 to 2000-01-01
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_from_civil(y, m, d):
    # Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return y, m, d


def from_date(year, month, day, hour=0, minute=0, second=0):
    """Seconds since the Matter epoch of a UTC calendar time."""
    days = _days_from_civil(year, month, day) - _DAYS_TO_2000
    return ((days * 24 + hour) * 60 + minute) * 60 + second


def to_date(seconds):
    """``(year, month, day, hour, minute, second)`` of seconds since the Matter epoch."""
    days = seconds // 86400
    rest = seconds - days * 86400
    y, m, d = _civil_from_days(days + _DAYS_TO_2000)
    return y, m, d, rest // 3600, (rest // 60) % 60, rest % 60


NO_EXPIRY_SECONDS = from_date(9999, 12, 31, 23, 59, 59)


def _digits(v, start, count):
    n = 0
    for i in range(start, start + count):
        c = v[i]
        if not 0x30 <= c <= 0x39:
            raise DerError("bad time digit")
        n = n * 10 + c - 0x30
    return n


def parse_der(tag, v):
    """Seconds since the Matter epoch of UTCTime / GeneralizedTime content (``YY..Z`` / ``YYYY..Z``)."""
    if tag == der.UTC_TIME:
        if len(v) != 13:
            raise DerError("bad UTCTime")
        year = _digits(v, 0, 2)
        year += 2000 if year < 50 else 1900
        i = 2
    elif tag == der.GENERALIZED_TIME:
        if len(v) != 15:
            raise DerError("bad GeneralizedTime")
        year = _digits(v, 0, 4)
        i = 4
    else:
        raise DerError("not a time")
    if v[-1] != 0x5A:  # 'Z'
        raise DerError("time not in UTC")
    month = _digits(v, i, 2)
    day = _digits(v, i + 2, 2)
    hour = _digits(v, i + 4, 2)
    minute = _digits(v, i + 6, 2)
    second = _digits(v, i + 8, 2)
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        raise DerError("time out of range")
    dim = _DAYS[month - 1]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        dim = 29
    if not 1 <= day <= dim:
        raise DerError("time out of range")
    return from_date(year, month, day, hour, minute, second)


def encode_der(seconds):
    """The DER element of a time: UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280)."""
    y, m, d, hh, mm, ss = to_date(seconds)
    if not 0 <= y <= 9999:
        raise DerError("year out of range")
    if 1950 <= y < 2050:
        return der.encode(der.UTC_TIME, ("%02d%02d%02d%02d%02d%02dZ" % (y % 100, m, d, hh, mm, ss)).encode())
    return der.encode(der.GENERALIZED_TIME, ("%04d%02d%02d%02d%02d%02dZ" % (y, m, d, hh, mm, ss)).encode())
