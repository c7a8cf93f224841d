"""The local function runtime: every non-HTTP trigger in the catalog, wired to the stand-ins."""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import threading

from mantra.catalog import (
    FUNCTIONS,
    DynamoStreamTrigger,
    EventTrigger,
    HttpTrigger,
    KinesisTrigger,
    ScheduleTrigger,
    WebSocketTrigger,
)
from mantra.runtime.pollers import DynamoStreamPoller, KinesisPoller, Poller, Scheduler, SqsPoller
from mantra.settings import Settings, get_settings

# Lambda gives every function its own execution environment; locally, the functions on the latency path get
# their own processes so a busy one (the tick stream, the push fan-out) never holds the others' GIL.
PROCESS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("tick_processor",),
    ("outbox_relay", "alert_dispatch", "signal_alerts"),
)


def group_of(name: str) -> int:
    """Which runtime process runs ``name``: its group's index, or the last process for everything else."""
    return next((i for i, g in enumerate(PROCESS_GROUPS) if name in g), len(PROCESS_GROUPS))


def build_pollers(settings: Settings, group: int | None = None) -> list[Poller]:
    checkpoints = settings.data_dir / "checkpoints"
    out: list[Poller] = []
    for spec in FUNCTIONS:
        if group is not None and group_of(spec.name) != group:
            continue
        for trig in spec.triggers:
            if isinstance(trig, KinesisTrigger):
                out += [
                    KinesisPoller(settings, spec, trig, checkpoints, shard_id=s)
                    for s in _shards(settings, trig)
                ]
            elif isinstance(trig, DynamoStreamTrigger):
                # one function reading several tables keeps one checkpoint file per table
                several = sum(isinstance(t, DynamoStreamTrigger) for t in spec.triggers) > 1
                out.append(
                    DynamoStreamPoller(
                        settings, spec, trig, checkpoints / trig.table if several else checkpoints
                    )
                )
            elif isinstance(trig, EventTrigger):
                # like Lambda's scaling: up to max_concurrency batches of one queue in flight at once
                out += [SqsPoller(settings, spec, trig, worker=w) for w in range(trig.max_concurrency or 1)]
            elif isinstance(trig, ScheduleTrigger):
                out.append(Scheduler(settings, spec, trig))
            elif isinstance(trig, WebSocketTrigger):
                pass  # nothing to poll: the local gateway serves /ws and calls the function itself
    return out


def _shards(settings: Settings, trigger: KinesisTrigger) -> list[str | None]:
    """One poller per shard, as Lambda runs one invocation per shard at a time."""
    from mantra.store.aws import client

    try:
        desc = client("kinesis", settings.region).describe_stream(StreamName=settings.name(trigger.stream))
    except Exception:  # the stream is not there yet: one poller that finds the shards itself
        return [None]
    return [s["ShardId"] for s in desc["StreamDescription"]["Shards"]] or [None]


def warm_up(group: int | None = None) -> None:
    """Run each handler module's optional ``init()`` first, as Lambda runs module init before events."""
    for spec in FUNCTIONS:
        if spec.name == "api" or any(isinstance(t, HttpTrigger | WebSocketTrigger) for t in spec.triggers):
            continue
        if group is not None and group_of(spec.name) != group:
            continue
        module = importlib.import_module(spec.module)
        init = getattr(module, "init", None)
        if init is not None:
            try:
                init()
            except Exception:
                logging.exception("init of %s failed; it will initialise on its first event", spec.name)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s runtime %(levelname)s %(name)s %(message)s")
    group = int(sys.argv[1]) if len(sys.argv) > 1 else None  # `python -m mantra.runtime.main 0`
    pollers = build_pollers(get_settings(), group)
    warm_up(group)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    for p in pollers:
        p.start()
    logging.info("runtime started: %s", ", ".join(p.name for p in pollers))
    done.wait()
    for p in pollers:
        p.stop()
    for p in pollers:
        p.join(timeout=5)


if __name__ == "__main__":
    main()
