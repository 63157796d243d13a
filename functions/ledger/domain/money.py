"""Money is an integer number of minor units (cents) of an ISO-4217 currency. Never a float."""

from __future__ import annotations

from typing import Final

# Active ISO-4217 codes (list maintained by SIX on behalf of ISO; funds and precious-metal codes excluded).
ISO_4217_CURRENCIES: Final[frozenset[str]] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
    CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ
    GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
    LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG
    """.split()  # noqa: SIM905 - a block of codes reads better than 180 quoted strings
)

DEFAULT_CURRENCY: Final = "USD"

# Upper bound for one amount and for a balance, in minor units: far beyond any real account, far below the
# 38 significant digits a DynamoDB number holds, and exact in every JSON parser that reads 53-bit integers.
MAX_AMOUNT: Final = 10**15
MAX_BALANCE: Final = 2**53 - 1


def is_currency(code: str) -> bool:
    return code in ISO_4217_CURRENCIES


def format_minor_units(amount: int, currency: str) -> str:
    """Human-readable amount for logs and demos, e.g. 13000 USD -> '130.00 USD' (two decimals assumed)."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d} {currency}"
