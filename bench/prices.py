"""The prices figure 11 multiplies the counted calls by: AWS list prices, on-demand, in one region, at one date.

Region us-east-1 (US East, N. Virginia); the prices AWS's pricing pages listed in June 2025 (DynamoDB's on-demand
prices after their cut of 1 November 2024), written down here, not fetched: check them against the pages named before
relying on a total. Free tiers are left out (they are per account and month, not per command), and so are volume
tiers past the first: a million commands is far inside every first tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

REGION: Final = "us-east-1"
AS_OF: Final = "2025-06"


@dataclass(frozen=True)
class Price:
    usd: float  # per `per` units
    per: float
    unit: str
    source: str  # the pricing page
    terms: str = ""

    def of(self, units: float) -> float:
        """What `units` cost, in US dollars."""
        return self.usd * units / self.per

    def describe(self) -> str:
        per = f"{self.per:,.0f} " if self.per != 1 else ""
        return f"${self.usd:g} per {per}{self.unit}" + (f" ({self.terms})" if self.terms else "")


MILLION: Final = 1_000_000

HTTP_API_REQUEST: Final = Price(
    1.00,
    MILLION,
    "requests",
    "https://aws.amazon.com/api-gateway/pricing/",
    "HTTP API, first 300 million a month; each 512 KB of a request or response counts as one",
)
LAMBDA_REQUEST: Final = Price(0.20, MILLION, "requests", "https://aws.amazon.com/lambda/pricing/")
LAMBDA_ARM_GB_SECOND: Final = Price(
    0.0000133334,
    1,
    "GB-second",
    "https://aws.amazon.com/lambda/pricing/",
    "arm64, first 7.5 billion GB-s a month; billed per 1 ms",
)
DYNAMODB_WRITE_UNIT: Final = Price(
    0.625,
    MILLION,
    "write request units",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "on-demand, Standard table class: 1 KB a unit, 2 for a transactional write",
)
DYNAMODB_READ_UNIT: Final = Price(
    0.125,
    MILLION,
    "read request units",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "4 KB strongly consistent a unit, half for eventually consistent, 2 for transactional",
)
DYNAMODB_STORAGE: Final = Price(
    0.25, 1, "GB-month", "https://aws.amazon.com/dynamodb/pricing/on-demand/", "100 bytes of overhead per item"
)
DYNAMODB_PITR: Final = Price(
    0.20, 1, "GB-month", "https://aws.amazon.com/dynamodb/pricing/on-demand/", "continuous backups (PITR)"
)
DYNAMODB_STREAM_READ: Final = Price(
    0.02,
    100_000,
    "stream read request units",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "GetRecords; free when Lambda's event source mapping reads the stream, as here",
)
KINESIS_SHARD_HOUR: Final = Price(
    0.015, 1, "shard-hour", "https://aws.amazon.com/kinesis/data-streams/pricing/", "provisioned mode"
)
KINESIS_PUT_UNIT: Final = Price(
    0.014,
    MILLION,
    "PUT payload units",
    "https://aws.amazon.com/kinesis/data-streams/pricing/",
    "provisioned mode; a record's each 25 KB is one unit; GetRecords is in the shard-hour",
)
SNS_PUBLISH: Final = Price(
    0.50,
    MILLION,
    "publishes",
    "https://aws.amazon.com/sns/pricing/",
    "each 64 KB of a message is one; deliveries priced by the subscriber's protocol, not counted here",
)
SQS_REQUEST: Final = Price(
    0.40, MILLION, "requests", "https://aws.amazon.com/sqs/pricing/", "standard queues; each 64 KB is one"
)
LOGS_INGESTED: Final = Price(
    0.50, 1, "GB ingested", "https://aws.amazon.com/cloudwatch/pricing/", "CloudWatch Logs, Standard class"
)
KMS_KEY: Final = Price(1.00, 1, "key-month", "https://aws.amazon.com/kms/pricing/")

PRICES: Final = (
    HTTP_API_REQUEST,
    LAMBDA_REQUEST,
    LAMBDA_ARM_GB_SECOND,
    DYNAMODB_WRITE_UNIT,
    DYNAMODB_READ_UNIT,
    DYNAMODB_STORAGE,
    DYNAMODB_PITR,
    DYNAMODB_STREAM_READ,
    KINESIS_SHARD_HOUR,
    KINESIS_PUT_UNIT,
    SNS_PUBLISH,
    SQS_REQUEST,
    LOGS_INGESTED,
    KMS_KEY,
)
HOURS_A_MONTH: Final = 730
