"""Backtest jobs: one item per job, under the tenant; results kept compressed (DynamoDB items max 400 KB)."""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from mantra.store.models import BaseModel, TTLAttribute


class BacktestJobItem(BaseModel):
    base_name = "backtest_jobs"
    tenant_scoped = True

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "backtest_jobs"

    tenant_id = UnicodeAttribute(hash_key=True)
    job_id = UnicodeAttribute(range_key=True)  # "bt_{created_ms:013d}_{random}": newest last
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()
    request = JSONAttribute()
    summary = JSONAttribute(null=True)
    result_gz = BinaryAttribute(null=True, legacy_encoding=False)
    error = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_ms = NumberAttribute()
    started_ms = NumberAttribute(null=True)
    finished_ms = NumberAttribute(null=True)
    expires_at = TTLAttribute()
