"""`make diagram`: draw the stacks, their main resources and cross-stack reads as docs/architecture.svg.

Drawn from the synthesized Terraform JSON (not from the Python code), so the picture
shows what Terraform will get: a column per account, a box per stack, an arrow from
each stack whose outputs another reads (a dot marks where it starts), and a dashed
arrow from the registry to each API it grants pull access (red while the account id
is a placeholder, so nothing is granted). tests/test_diagram.py fails when the
committed file is out of date; `make diagram` redraws it (LITTIL_DIAGRAM names
another file, e.g. for a copy of envs/ under test).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from tools.stacks import environment_of
from tools.synthesized import read_stacks

REPO = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("LITTIL_DIAGRAM") or REPO / "docs" / "architecture.svg")

MAIN_RESOURCES = {
    "aws_s3_bucket": "S3 bucket (state, its access logs)",
    "aws_ecr_repository": "ECR repository",
    "aws_iam_openid_connect_provider": "GitHub OIDC provider",
    "aws_acm_certificate": "ACM certificate",
    "aws_vpc": "VPC",
    "aws_subnet": "subnet",
    "aws_internet_gateway": "internet gateway",
    "aws_nat_gateway": "NAT gateway",
    "aws_eip": "Elastic IP",
    "aws_db_instance": "RDS MariaDB",
    "aws_kms_key": "KMS key",
    "aws_db_instance_automated_backups_replication": "backups replicated to a second region",
    "aws_backup_plan": "AWS Backup plan (daily copy to shared)",
    "aws_backup_vault": "AWS Backup vault",
    "aws_backup_vault_lock_configuration": "vault lock (compliance)",
    "aws_lb": "application load balancer",
    "aws_ecs_cluster": "ECS cluster",
    "aws_ecs_service": "ECS Fargate service",
    "aws_instance": "EC2 instance (nginx, certbot)",
    "aws_ses_domain_identity": "SES domain identity",
    "aws_secretsmanager_secret": "Secrets Manager secret",
    "aws_cloudwatch_log_group": "log group",
    "aws_iam_role": "IAM role",
    "aws_iam_user": "IAM user",
    "aws_sns_topic": "SNS alarm topic (e-mail)",
    "aws_cloudwatch_metric_alarm": "CloudWatch alarm",
    "aws_route53_health_check": "Route53 health check",
    "aws_budgets_budget": "monthly budget",
}
ORDER = ("state", "alerts", "backup-vaults", "registry", "certificate", "network", "database", "api", "maintenance")
ENVIRONMENT_ORDER = ("shared", "staging", "production")
CHAR_WIDTH, LINE_HEIGHT, PADDING, GAP, COLUMN_GAP, ARROW_ROOM = 7.2, 16, 10, 26, 30, 70


@dataclass(frozen=True)
class Box:
    stack: str
    lines: tuple[str, ...]
    reads: tuple[str, ...]  # producing stacks


def component_of(name: str) -> str:
    return name if name == "registry" else name.rsplit("-", 1)[0]


def reads(stacks: dict[str, dict[str, Any]], name: str) -> tuple[str, ...]:
    """Stacks whose outputs this stack reads through terraform_remote_state."""
    keys = {body["config"]["key"] for body in stacks[name].get("data", {}).get("terraform_remote_state", {}).values()}
    producers = {
        other for other, stack in stacks.items() if stack["terraform"]["backend"].get("s3", {}).get("key") in keys
    }
    return tuple(sorted(producers, key=lambda other: ORDER.index(component_of(other))))


def account_of(stack: dict[str, Any]) -> str:
    return str(stack["provider"]["aws"][0]["allowed_account_ids"][0])  # every provider of a stack has the same


def pull_grants(stacks: dict[str, dict[str, Any]]) -> dict[str, bool]:
    """Each API stack -> whether the registry's repository policy lets its account pull."""
    registry = stacks.get("registry", {})
    granted = json.dumps(registry.get("data", {}).get("aws_iam_policy_document", {}))
    return {
        name: f"arn:aws:iam::{account_of(stack)}:root" in granted
        for name, stack in stacks.items()
        if component_of(name) == "api"
    }


def box(stacks: dict[str, dict[str, Any]], name: str) -> Box:
    stack = stacks[name]
    counts = {kind: len(items) for kind, items in stack.get("resource", {}).items() if kind in MAIN_RESOURCES and items}
    lines = [
        f"{counts[kind]} x {label}" if counts[kind] > 1 else label
        for kind, label in MAIN_RESOURCES.items()
        if kind in counts
    ]
    backend = stack["terraform"]["backend"]
    lines.append(f"state: s3 {backend['s3']['key']}" if "s3" in backend else "state: local file (bootstrap)")
    return Box(name, tuple(lines), reads(stacks, name))


def render(stacks: dict[str, dict[str, Any]]) -> str:
    columns: dict[str, list[Box]] = {}
    for name in sorted(stacks, key=lambda n: ORDER.index(component_of(n))):
        columns.setdefault(environment_of(stacks[name]), []).append(box(stacks, name))
    environments = [env for env in ENVIRONMENT_ORDER if env in columns] + sorted(set(columns) - set(ENVIRONMENT_ORDER))

    parts: list[str] = []
    positions: dict[str, tuple[float, float, float, float]] = {}
    x, height = 20.0, 0.0
    for env in environments:
        boxes = columns[env]
        width = max(len(line) for b in boxes for line in (b.stack, *b.lines)) * CHAR_WIDTH + 2 * PADDING
        parts.append(f'<text x="{x:.0f}" y="34" class="env">{escape(env)} account</text>')
        y = 50.0
        for b in boxes:
            box_height = (len(b.lines) + 1) * LINE_HEIGHT + 2 * PADDING
            positions[b.stack] = (x, y, width, box_height)
            parts.append(
                f'<rect x="{x:.0f}" y="{y:.0f}" width="{width:.0f}" height="{box_height:.0f}" rx="6" class="stack"/>'
            )
            parts.append(
                f'<text x="{x + PADDING:.0f}" y="{y + PADDING + 12:.0f}" class="title">{escape(b.stack)}</text>'
            )
            for index, line in enumerate(b.lines, start=1):
                text_y = y + PADDING + 12 + index * LINE_HEIGHT
                parts.append(f'<text x="{x + PADDING:.0f}" y="{text_y:.0f}">{escape(line)}</text>')
            y += box_height + GAP
        height = max(height, y)
        edges = [(producer, b.stack) for b in boxes for producer in b.reads]
        for index, (producer, consumer) in enumerate(edges):
            px, py, pw, ph = positions[producer]
            cx, cy, cw, ch = positions[consumer]
            bulge = px + pw + 14 + index * 10
            start_y, end_y = py + ph / 2, cy + ch / 2
            parts.append(
                f'<path d="M{px + pw:.0f},{start_y:.0f} C{bulge:.0f},{start_y:.0f} {bulge:.0f},{end_y:.0f} '
                f'{cx + cw:.0f},{end_y:.0f}" class="read"/>'
            )
        x += width + ARROW_ROOM + COLUMN_GAP
    if "registry" in positions:
        rx, ry, rw, rh = positions["registry"]
        for api, granted in pull_grants(stacks).items():
            ax, ay, _, ah = positions[api]
            start, end = (rx + rw, ry + rh / 2), (ax, ay + ah / 2)
            middle = (start[0] + end[0]) / 2
            parts.append(
                f'<path d="M{start[0]:.0f},{start[1]:.0f} C{middle:.0f},{start[1]:.0f} {middle:.0f},{end[1]:.0f} '
                f'{end[0]:.0f},{end[1]:.0f}" class="{"pull" if granted else "pull-missing"}"/>'
            )
    total_width, total_height = x, height + 40 + LINE_HEIGHT
    legend_y = height + 16
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width:.0f}" height="{total_height:.0f}" '
        f'viewBox="0 0 {total_width:.0f} {total_height:.0f}" font-family="monospace" font-size="12">\n'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#4a6fa5"/></marker>'
        '<marker id="source" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="6" markerHeight="6">'
        '<circle cx="5" cy="5" r="4" fill="#4a6fa5"/></marker></defs>\n'
        "<style>.stack{fill:#f6f8fb;stroke:#4a6fa5;stroke-width:1.5}.title{font-weight:bold}"
        ".env{font-size:15px;font-weight:bold}"
        ".read{fill:none;stroke:#4a6fa5;stroke-width:1.2;marker-start:url(#source);marker-end:url(#arrow)}"
        ".pull{fill:none;stroke:#2e7d32;stroke-width:1.2;stroke-dasharray:6 4;marker-end:url(#arrow)}"
        ".pull-missing{fill:none;stroke:#c62828;stroke-width:1.2;stroke-dasharray:6 4;marker-end:url(#arrow)}"
        "text{fill:#1d2733}</style>\n"
        f'<rect width="{total_width:.0f}" height="{total_height:.0f}" fill="white"/>\n'
        '<text x="20" y="16" class="title">LITTIL infrastructure: CDKTF stacks per AWS account'
        " (generated by make diagram from cdktf.out)</text>\n"
    )
    legend = (
        f'<text x="20" y="{legend_y:.0f}">solid arrows: from the dot, a stack whose outputs the arrowed one reads'
        " (terraform_remote_state: deploy the dotted end first)</text>\n"
        f'<text x="20" y="{legend_y + LINE_HEIGHT:.0f}">dashed: the registry lets that API\'s account pull images'
        " (green: granted; red: not yet, the account id is a placeholder)</text>\n"
    )
    return header + "\n".join(parts) + "\n" + legend + "</svg>\n"


def main(outdir: Path) -> int:
    stacks = read_stacks(outdir)
    if not stacks:
        print(f"diagram: no synthesized stacks under {outdir}; run make synth", file=sys.stderr)
        return 1
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render(stacks))
    print(f"wrote {OUTPUT} ({len(stacks)} stacks)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "cdktf.out"))
