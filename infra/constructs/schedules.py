"""EventBridge Scheduler schedules for catalog ``ScheduleTrigger``s, cron read in the trigger's zone (IST)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct
from mantra.catalog import ScheduleTrigger
from mantra.settings import Settings

from infra.constructs.common import CatalogFunction, dead_letter_queue


class Schedules(Construct):
    """One schedule per trigger, each with a role that may invoke only its own function (unqualified ARN)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: Mapping[str, CatalogFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        triggers = [
            (cf, t) for cf in functions.values() for t in cf.spec.triggers if isinstance(t, ScheduleTrigger)
        ]
        if not triggers:
            return
        self.dead_letter_queue = dead_letter_queue(
            self,
            "dlq",
            queue_name=settings.name("schedules-dlq"),
            what="EventBridge Scheduler invocations that failed after retries",
        )
        for cf, trigger in triggers:
            if trigger.name in self.schedules:
                raise ValueError(f"two schedules are named {trigger.name!r}")
            role = iam.Role(
                self,
                f"{trigger.name}-role",
                assumed_by=iam.ServicePrincipal(
                    "scheduler.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": cf.function.stack.account}},
                ),
                description=f"Schedule {trigger.name}: may only invoke {cf.spec.name}",
            )
            role.add_to_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[cf.function.function_arn])
            )
            self.dead_letter_queue.grant_send_messages(role)
            self.schedules[trigger.name] = scheduler.CfnSchedule(
                self,
                trigger.name,
                name=settings.name(trigger.name),
                description=trigger.description or None,
                schedule_expression=f"cron({trigger.cron})",
                schedule_expression_timezone=trigger.timezone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state="ENABLED",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=cf.function.function_arn,
                    role_arn=role.role_arn,
                    input=json.dumps(
                        {"schedule": trigger.name, "scheduled_time": "<aws.scheduler.scheduled-time>"}
                    ),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=2, maximum_event_age_in_seconds=300
                    ),
                    dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                        arn=self.dead_letter_queue.queue_arn
                    ),
                ),
            )
