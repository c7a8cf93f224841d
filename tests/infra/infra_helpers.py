"""Synthesis of the CDK app for the infra tests, and helpers to navigate the template."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

STAGE = "ci"
# A deployment's DLT registration, as `cdk deploy -c sms_sender_id=...` passes it (made-up registration ids)
SMS_DLT_CONTEXT = {
    "sms_dlt_entity_id": "1101234567890123456",
    "sms_dlt_alert_template_id": "1107000000000000001",
    "sms_dlt_code_template_id": "1107000000000000002",
    "sms_sender_id": "TRDMTR",
}


@dataclass(frozen=True)
class Synth:
    outdir: Path
    template: dict[str, Any]
    report: dict[str, Any]
    metadata: dict[str, Any]
    stack_name: str

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack_name}.template.json"

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def props(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id]["Properties"]

    def logical_id(self, cfn_type: str, **match: Any) -> str:
        """The one resource of ``cfn_type`` whose properties include ``match``."""
        found = [
            k
            for k, v in self.of_type(cfn_type).items()
            if all(v.get("Properties", {}).get(p) == want for p, want in match.items())
        ]
        assert len(found) == 1, f"expected one {cfn_type} with {match}, found {found}"
        return found[0]

    def function_id(self, name: str) -> str:
        return self.logical_id("AWS::Lambda::Function", FunctionName=f"mantra-{STAGE}-{name}")

    def role_policies(self, role_id: str) -> list[dict[str, Any]]:
        """Every statement attached to ``role_id``: its inline policies and the overflow managed policies CDK
        splits a long policy into."""
        policies = [
            *self.of_type("AWS::IAM::Policy").values(),
            *self.of_type("AWS::IAM::ManagedPolicy").values(),
        ]
        return [
            statement
            for policy in policies
            if {"Ref": role_id} in policy["Properties"].get("Roles", [])
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]


def synthesize(outdir: Path, **stack_kwargs: Any) -> Synth:
    from infra.app import build_app

    app, stack = build_app(str(outdir), context={"stage": STAGE, **SMS_DLT_CONTEXT}, **stack_kwargs)
    try:
        app.synth()
    except Exception as error:  # surface the validation report (cdk-nag, CloudFormation validate)
        report = outdir / "validation-report.json"
        details = report.read_text() if report.exists() else ""
        raise AssertionError(f"synth failed: {error}\n{details[:20000]}") from error
    name = stack.artifact_id
    return Synth(
        outdir=outdir,
        template=json.loads((outdir / f"{name}.template.json").read_text()),
        report=json.loads((outdir / "validation-report.json").read_text()),
        metadata=json.loads((outdir / f"{name}.metadata.json").read_text()),
        stack_name=name,
    )
