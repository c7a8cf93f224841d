"""Backtest jobs in DynamoDB. Submitting writes the job and its outbox event in one transaction."""

from __future__ import annotations

import json
import zlib
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from mantra.backtests.models import ACTIVE, BacktestJob, JobStatus
from mantra.store.backtest_models import BacktestJobItem
from mantra.store.models import OutboxItem
from mantra.store.repositories import _connection, _expiry, update_if


class DynamoBacktestJobRepository:
    def submit(self, job: BacktestJob, detail_type: str, keep_days: int) -> None:
        item = BacktestJobItem(
            tenant_id=job.tenant_id,
            job_id=job.job_id,
            user_id=job.user_id,
            status=job.status.value,
            request=job.request,
            attempts=0,
            created_ms=job.created_ms,
        )
        item.expires_at = _expiry(job.created_ms, keep_days)
        event = OutboxItem(
            event_id=f"evt_{job.job_id}",
            detail_type=detail_type,
            detail={"tenant_id": job.tenant_id, "job_id": job.job_id},
            created_ms=job.created_ms,
        )
        event.expires_at = _expiry(job.created_ms, 7)
        with TransactWrite(connection=_connection(BacktestJobItem)) as tx:
            tx.save(item, condition=BacktestJobItem.job_id.does_not_exist())
            tx.save(event, condition=OutboxItem.event_id.does_not_exist())

    def get(self, tenant_id: str, job_id: str) -> BacktestJob | None:
        try:
            return _to_domain(BacktestJobItem.get(tenant_id, job_id))
        except BacktestJobItem.DoesNotExist:
            return None

    def result(self, tenant_id: str, job_id: str) -> dict[str, Any] | None:
        try:
            item = BacktestJobItem.get(tenant_id, job_id, attributes_to_get=["result_gz"])
        except BacktestJobItem.DoesNotExist:
            return None
        if item.result_gz is None:
            return None
        value: dict[str, Any] = json.loads(zlib.decompress(item.result_gz))
        return value

    def recent(self, tenant_id: str, limit: int) -> list[BacktestJob]:
        items = BacktestJobItem.query(tenant_id, scan_index_forward=False, limit=limit)
        return [_to_domain(i) for i in items]

    def count_active(self, tenant_id: str) -> int:
        return BacktestJobItem.count(
            tenant_id, filter_condition=BacktestJobItem.status.is_in(*[s.value for s in ACTIVE])
        )

    def claim(self, tenant_id: str, job_id: str, now_ms: int) -> bool:
        """queued -> running, once: a redelivered message finds the job already claimed."""
        return update_if(
            BacktestJobItem(tenant_id=tenant_id, job_id=job_id),
            [
                BacktestJobItem.status.set(JobStatus.RUNNING.value),
                BacktestJobItem.started_ms.set(now_ms),
                BacktestJobItem.attempts.add(1),
            ],
            BacktestJobItem.status == JobStatus.QUEUED.value,
        )

    def finish(
        self,
        tenant_id: str,
        job_id: str,
        status: JobStatus,
        now_ms: int,
        summary: dict[str, Any] | None,
        result: dict[str, Any] | None,
        error: str | None,
    ) -> None:
        actions: list[Action] = [
            BacktestJobItem.status.set(status.value),
            BacktestJobItem.finished_ms.set(now_ms),
        ]
        if summary is not None:
            actions.append(BacktestJobItem.summary.set(summary))
        if result is not None:
            actions.append(BacktestJobItem.result_gz.set(zlib.compress(json.dumps(result).encode(), 6)))
        if error is not None:
            actions.append(BacktestJobItem.error.set(error))
        BacktestJobItem(tenant_id=tenant_id, job_id=job_id).update(
            actions=actions, condition=BacktestJobItem.status == JobStatus.RUNNING.value
        )

    def requeue(self, tenant_id: str, job_id: str) -> None:
        BacktestJobItem(tenant_id=tenant_id, job_id=job_id).update(
            actions=[BacktestJobItem.status.set(JobStatus.QUEUED.value)],
            condition=BacktestJobItem.status == JobStatus.RUNNING.value,
        )


def _to_domain(item: BacktestJobItem) -> BacktestJob:
    return BacktestJob(
        job_id=item.job_id,
        tenant_id=item.tenant_id,
        user_id=item.user_id,
        status=JobStatus(item.status),
        request=item.request,
        summary=item.summary,
        error=item.error,
        attempts=int(item.attempts or 0),
        created_ms=int(item.created_ms),
        started_ms=None if item.started_ms is None else int(item.started_ms),
        finished_ms=None if item.finished_ms is None else int(item.finished_ms),
    )


__all__ = ["DynamoBacktestJobRepository", "TransactWriteError"]
