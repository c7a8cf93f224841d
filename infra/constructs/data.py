"""DynamoDB tables, derived from the PynamoDB models' table specs (adding a model needs no infra change)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct
from mantra.settings import Settings
from mantra.store.tables import KeySpec, TableSpec

from infra.constructs.common import lookup, unique

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}

# The item-level actions of ``Table.grant_read_data`` / ``grant_write_data`` (stream reads are granted by the
# event source mapping). ConditionCheckItem is part of writes because transactions use it.
READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)


def _attribute(key: KeySpec) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=lookup(_ATTRIBUTE_TYPES, key.type, "key type"))


class DataTables(Construct):
    """One on-demand, point-in-time-recoverable, encrypted table per ``TableSpec``; retained on deletion."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        specs: Iterable[TableSpec],
        deletion_protection: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.specs: dict[str, TableSpec] = {}
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in specs:
            table = dynamodb.Table(
                self,
                spec.base_name,
                table_name=settings.name(spec.base_name),
                partition_key=_attribute(spec.partition_key),
                sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=spec.ttl_attribute,
                stream=dynamodb.StreamViewType[spec.stream_view_type] if spec.stream_view_type else None,
                deletion_protection=deletion_protection,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attribute(index.partition_key),
                    sort_key=_attribute(index.sort_key) if index.sort_key else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            self.specs[spec.base_name] = spec
            self.tables[spec.base_name] = table

    def table(self, base_name: str) -> dynamodb.Table:
        return lookup(self.tables, base_name, "table")

    def _arns(self, base_name: str) -> list[str]:
        """The table's ARN and the ARN of each of its declared indexes (named, never ``index/*``)."""
        table = self.table(base_name)
        return [
            table.table_arn,
            *(f"{table.table_arn}/index/{i.name}" for i in self.specs[base_name].indexes),
        ]

    def grant_read(self, grantee: iam.IGrantable, *base_names: str) -> None:
        """Like ``Table.grant_read_data``, but scoped to the declared indexes by name."""
        self._grant(grantee, READ_ACTIONS, base_names)

    def grant_write(self, grantee: iam.IGrantable, *base_names: str) -> None:
        """Like ``Table.grant_write_data``, scoped to the tables named."""
        self._grant(grantee, WRITE_ACTIONS, base_names)

    def _grant(self, grantee: iam.IGrantable, actions: tuple[str, ...], base_names: tuple[str, ...]) -> None:
        if not base_names:
            return
        arns = unique(arn for name in base_names for arn in self._arns(name))
        iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=arns)
