"""``mantra synth``: synthesize the CDK app offline into ``cdk.out`` (cdk-nag runs as part of synth)."""

from __future__ import annotations


def synth(outdir: str = "cdk.out") -> None:
    """Synthesize the CloudFormation template and assets; fails on any unacknowledged cdk-nag finding."""
    from infra.app import main  # the CDK libraries are dev-only: import them only when synthesizing

    main(outdir)
