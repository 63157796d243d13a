"""Names derived from topology ids (CloudFormation logical ids, IAM statement ids, output names)."""

from __future__ import annotations


def pascal(name: str) -> str:
    """'daily_reports' -> 'DailyReports': topology ids as the alphanumeric names CloudFormation and IAM accept."""
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
