"""The old system's data in a rehearsal: seeded before the first deploy adopts it, checked after.

docs/migration.md has the stacks import what the old CDK system left (repositories,
secrets, log groups, the GitHub OIDC provider); this is that world, in the emulator.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tools.migration.legacy import Name
from tools.migration.ours import our_stack
from tools.rehearse.run import Rehearsal, RehearsalFailure, client, say
from tools.stacks import environment_of
from tools.synthesized import read_stacks

# What the old system left in each account, as the seed writes it and the check reads it back.
OLD_IMAGE_TAG = "1.3.1"
OLD_LOG_EVENT = "written by the old system"


def seed_old_system(rehearsal: Rehearsal, outdir: Path, name: str) -> list[Name]:
    """docs/migration.md before the first deploy: what the stacks of `name` import already exists, holding data.

    Seeded from the synthesis itself (every import block of the environment), so nothing adopted
    goes unrehearsed: an image in each repository, values in each secret, an event in each log
    group (kept 731 days, as the old stacks did), and the account's GitHub OIDC provider.
    """
    adopted = [
        adopted_name
        for stack_name, stack in read_stacks(outdir).items()
        if environment_of(stack) == name
        for adopted_name in our_stack(stack_name, stack).adopts
    ]
    for old in adopted:
        if old.namespace == "ecr-repository":
            ecr = client(rehearsal, name, "ecr")
            ecr.create_repository(repositoryName=old.value, imageTagMutability="MUTABLE")
            manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}
            ecr.put_image(repositoryName=old.value, imageManifest=json.dumps(manifest), imageTag=OLD_IMAGE_TAG)
        elif old.namespace == "secret":
            client(rehearsal, name, "secretsmanager").create_secret(Name=old.value, SecretString=old_secret_value(old))
        elif old.namespace == "log-group":
            logs = client(rehearsal, name, "logs")
            logs.create_log_group(logGroupName=old.value)
            logs.put_retention_policy(logGroupName=old.value, retentionInDays=731)
            logs.create_log_stream(logGroupName=old.value, logStreamName="quarkus-logs")
            event = {"timestamp": int(time.time() * 1000), "message": OLD_LOG_EVENT}
            logs.put_log_events(logGroupName=old.value, logStreamName="quarkus-logs", logEvents=[event])
        elif old.namespace == "oidc-provider":
            client(rehearsal, name, "iam").create_open_id_connect_provider(
                Url=f"https://{old.value}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["f" * 40]
            )
        else:
            raise RehearsalFailure(f"{name}: no seed for an adopted {old}")
    return adopted


def old_secret_value(secret: Name) -> str:
    return json.dumps({"writtenBy": "an operator of the old system", "secret": secret.value})


def check_adopted_data_kept(rehearsal: Rehearsal, name: str, adopted: list[Name]) -> None:
    """After the deploy: every adopted thing is still there with what the old system put in it."""
    for old in adopted:
        if old.namespace == "ecr-repository":
            images = client(rehearsal, name, "ecr").describe_images(repositoryName=old.value)["imageDetails"]
            if not any(OLD_IMAGE_TAG in image.get("imageTags", []) for image in images):
                raise RehearsalFailure(f"{name}: {old} lost the old system's image {OLD_IMAGE_TAG}")
        elif old.namespace == "secret":
            value = client(rehearsal, name, "secretsmanager").get_secret_value(SecretId=old.value)["SecretString"]
            if value != old_secret_value(old):
                raise RehearsalFailure(f"{name}: {old} no longer holds the operators' value")
        elif old.namespace == "log-group":
            logs = client(rehearsal, name, "logs")
            events = logs.filter_log_events(logGroupName=old.value)["events"]
            (group,) = logs.describe_log_groups(logGroupNamePrefix=old.value)["logGroups"]
            if [event["message"] for event in events] != [OLD_LOG_EVENT] or group.get("retentionInDays", 0) < 731:
                raise RehearsalFailure(f"{name}: {old} lost old events or keeps them shorter: {group}")
    if adopted:
        say(f"   {name}: adopted with their data: {', '.join(map(str, adopted))}")
    else:
        say(f"   {name}: nothing to adopt (a new environment: its stacks hold no import block)")
