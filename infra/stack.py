"""The ledger stack: event store, functions and HTTP API, all built from the one topology description."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.api import LedgerApi
from infra.event_store import EventStore
from infra.functions import LedgerFunctions
from infra.topology import TOPOLOGY, Topology


class LedgerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, topology: Topology = TOPOLOGY, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.event_store = EventStore(self, "EventStore", topology=topology)
        self.functions = LedgerFunctions(self, "Functions", topology=topology, tables=self.event_store.tables)
        self.api = LedgerApi(self, "Api", topology=topology, functions=self.functions.functions)

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the HTTP API (requests need SigV4)")
        for table in topology.tables:
            CfnOutput(
                self,
                f"{_pascal(table.id)}TableName",
                value=self.event_store.tables[table.id].table_name,
                description=f"{table.description} (the functions read it from {table.env_var})",
            )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
