"""The README's operator procedures, each run the way the README says, and checked where it says they end.

Every procedure edits the configuration as an operator would edit `envs/<env>.hcl`,
synthesizes, copies only the stacks the README names into the workspace (a fresh
`make synth` replaces `cdktf.out/`), runs the README's commands and checks the result,
with the emulator's API (boto3) where Terraform alone would not tell.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from config.model import AppConfig, SharedEnvironment, WorkloadEnvironment
from config.settings import ApiVariant
from tools.instance_boot import Boot, boot_certificate
from tools.migration.cutover import our_stack
from tools.migration.legacy import Name
from tools.rehearse.run import Rehearsal, RehearsalFailure, say, with_workload
from tools.stacks import deploy_order, environment_of
from tools.synthesized import read_stacks

SSH_KEYS = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u first@littil",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9NQ0xz6mWkqmW4pCq0b2n8lK1eVqRZ8rXH3xYwK1aB replacement@littil",
)


def client(rehearsal: Rehearsal, env: str, service: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        service,
        region_name="eu-west-1",
        endpoint_url=rehearsal.workspace.endpoints[env],
        aws_access_key_id="rehearsal",
        aws_secret_access_key="rehearsal",
    )


def aws_cli(rehearsal: Rehearsal, env: str, command: str) -> str:
    """Run a README or output `aws ...` line, as pasted, against the environment's emulator."""
    arguments = shlex.split(command)
    if arguments[0] != "aws":
        raise RehearsalFailure(f"not an aws command: {command}")
    result = subprocess.run(
        [sys.executable, "-m", "awscli", *arguments[1:], "--endpoint-url", rehearsal.workspace.endpoints[env]],
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": "rehearsal",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RehearsalFailure(f"`{command}` failed: {result.stderr.strip()}")
    return result.stdout


def replace_shared(config: AppConfig, shared: SharedEnvironment) -> AppConfig:
    return config.model_copy(update={"shared": shared})


def env_config(config: AppConfig, name: str) -> WorkloadEnvironment | SharedEnvironment:
    return config.shared if name == config.shared.name else config.workload(name)


def fresh_synth(rehearsal: Rehearsal, config: AppConfig, label: str, stacks: list[str]) -> Path:
    """`make synth`, then the named stacks as they now are in cdktf.out (their .terraform gone)."""
    outdir = rehearsal.synth(config, label)
    for stack in stacks:
        shutil.rmtree(rehearsal.workspace.stack_dir(stack) / ".terraform", ignore_errors=True)
        (rehearsal.workspace.stack_dir(stack) / ".terraform.lock.hcl").unlink(missing_ok=True)
    rehearsal.workspace.load(outdir, stacks)
    return outdir


def move_state_into_bucket(rehearsal: Rehearsal, config: AppConfig, name: str) -> AppConfig:
    """README "Bootstrapping state": state-<env>'s local state moves into its own bucket, nothing lost."""
    env = env_config(config, name)
    moved_env = env.model_copy(update={"state": env.state.model_copy(update={"store_own_state_in_bucket": True})})
    moved = (
        replace_shared(config, moved_env)
        if isinstance(moved_env, SharedEnvironment)
        else with_workload(config, moved_env)
    )
    stack = f"state-{name}"
    local_state = rehearsal.workspace.root / f"terraform.{stack}.tfstate"
    before = json.loads(local_state.read_text())
    fresh_synth(rehearsal, moved, f"{stack}-in-bucket", [stack])
    # README steps 2-4: init (the bucket backend), push the local state, plan must show nothing.
    rehearsal.init(stack)
    rehearsal.tf(stack, "state", "push", str(local_state))
    rehearsal.assert_no_changes([stack])
    listed = rehearsal.tf(stack, "state", "list").split()
    expected = [
        f"{'data.' if resource['mode'] == 'data' else ''}{resource['type']}.{resource['name']}"
        for resource in before["resources"]
    ]
    if sorted(listed) != sorted(expected):
        raise RehearsalFailure(f"{stack}: the state in the bucket lost resources: {listed}")
    key = f"littil/{name}/state.tfstate"
    bucket = rehearsal.output(stack, "bucket-name")
    client(rehearsal, name, "s3").head_object(Bucket=bucket, Key=key)
    # Step 5: only now the local copy goes.
    for leftover in rehearsal.workspace.root.glob(f"terraform.{stack}.tfstate*"):
        leftover.unlink()
    rehearsal.assert_no_changes([stack])
    return moved


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
    say(f"   {name}: adopted with their data: {', '.join(map(str, adopted))}")


def maintenance_on_use_destroy(rehearsal: Rehearsal, config: AppConfig, name: str) -> None:
    """Maintenance on, used, destroyed (with a key made by hand on its user): nothing else changes."""
    env = config.workload(name)
    stack = f"maintenance-{name}"
    enabled = with_workload(
        config, env.model_copy(update={"maintenance": env.maintenance.model_copy(update={"enabled": True})})
    )
    outdir = fresh_synth(rehearsal, enabled, f"{stack}-on", [stack])
    others = [other for other in deploy_order(outdir, name) if other != stack]
    rehearsal.apply(stack)
    rehearsal.assert_no_changes([stack], allow_convergence=True)
    rehearsal.assert_no_changes(others)
    # Use it: the exec line finds the service's task in the cluster it names.
    command = rehearsal.output(stack, "exec-command")
    find_task = command.split('"$(', 1)[1].split(')"', 1)[0]
    aws_cli(rehearsal, name, find_task)
    ecs = client(rehearsal, name, "ecs")
    cluster = f"LITTIL-NL-{name}-maintenance"
    (service,) = ecs.describe_services(cluster=cluster, services=[cluster])["services"]
    if service["status"] != "ACTIVE":
        raise RehearsalFailure(f"{stack}: the maintenance service is {service['status']}")
    # An administrator hands the exec user a key (README); destroying must still work.
    iam = client(rehearsal, name, "iam")
    iam.create_access_key(UserName=f"LITTIL-NL-{name}-maintenance-ECSExec-User")
    rehearsal.destroy(stack)
    if (
        ecs.describe_clusters(clusters=[cluster])["clusters"]
        and ecs.describe_clusters(clusters=[cluster])["clusters"][0]["status"] == "ACTIVE"
    ):
        raise RehearsalFailure(f"{stack}: the cluster survived the destroy")
    rehearsal.assert_no_changes(others)
    # Back to the committed config: the user alone.
    fresh_synth(rehearsal, config, f"{stack}-off", [stack])
    rehearsal.apply(stack)
    rehearsal.assert_no_changes([stack])


def switch_variant(rehearsal: Rehearsal, config: AppConfig, name: str) -> None:
    """api.variant to the other one and back, in the README's order; every stack plans empty after each."""
    env = config.workload(name)
    other = ApiVariant.EC2 if env.api.variant is ApiVariant.ECS else ApiVariant.ECS
    switched = with_workload(config, env.model_copy(update={"api": env.api.model_copy(update={"variant": other})}))
    touched = [f"certificate-{name}", f"network-{name}", f"api-{name}"]
    for target, label in ((switched, other.value), (config, env.api.variant.value)):
        variant = target.workload(name).api.variant
        outdir = fresh_synth(rehearsal, target, f"{name}-as-{label}", touched)
        # To ec2: the address first (network), then the API. To ecs: the certificate's ARN output
        # first, then the API, then network drops the address the old instance held.
        order = (
            [f"network-{name}", f"api-{name}", f"certificate-{name}"]
            if variant is ApiVariant.EC2
            else [f"certificate-{name}", f"api-{name}", f"network-{name}"]
        )
        for stack in order:
            rehearsal.apply(stack)
        rehearsal.assert_no_changes(deploy_order(outdir, name), allow_convergence=True)
        say(f"   {name}: the API runs on {variant.value}, every stack plans empty")


def roll_out_image_tag(rehearsal: Rehearsal, config: AppConfig, name: str, tag: str) -> AppConfig:
    """README "Rolling out a new image tag": deploy api-<env> with the new tag (EC2: then restart)."""
    env = config.workload(name)
    rolled = with_workload(config, env.model_copy(update={"api": env.api.model_copy(update={"image_tag": tag})}))
    stack = f"api-{name}"
    fresh_synth(rehearsal, rolled, f"{name}-tag-{tag}", [stack])
    rehearsal.apply(stack)
    rehearsal.assert_no_changes([stack], allow_convergence=True)
    if env.api.variant is ApiVariant.EC2:
        parameter = client(rehearsal, name, "ssm").get_parameter(Name=f"/littil/{name}/api/image-tag")
        if parameter["Parameter"]["Value"] != tag:
            raise RehearsalFailure(f"{stack}: the image-tag parameter says {parameter['Parameter']['Value']}")
        aws_cli(rehearsal, name, rehearsal.output(stack, "rollout-command"))
    else:
        ecs = client(rehearsal, name, "ecs")
        family = f"LITTIL-NL-{name}-littil-api"
        (service,) = ecs.describe_services(cluster=family, services=[family])["services"]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        if not definition["containerDefinitions"][0]["image"].endswith(f"/littil-backend:{tag}"):
            raise RehearsalFailure(f"{stack}: the service runs {definition['containerDefinitions'][0]['image']}")
    return rolled


def boot_instance_certificate(rehearsal: Rehearsal, name: str, instance_id: str) -> Boot:
    """The instance's own certificate start (its user data as EC2 holds it) on a fresh disk.

    `aws` is the real CLI against the environment's emulator, so the certificate store is the
    secret the stack created; only certbot, DNS, the metadata service and systemctl are stubbed
    (tools/instance_boot.py). DNS answers with the instance's address from the first lookup.
    """
    ec2 = client(rehearsal, name, "ec2")
    attribute = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    user_data = base64.b64decode(attribute["UserData"]["Value"]).decode()
    (address,) = [a["PublicIp"] for a in ec2.describe_addresses()["Addresses"] if a.get("InstanceId") == instance_id]
    root = rehearsal.scratch / "instances" / instance_id
    aws = root / "aws"
    aws.mkdir(parents=True)
    (aws / "aws").write_text(
        f'#!/bin/bash\nexec {shlex.quote(sys.executable)} -m awscli "$@"'
        f" --endpoint-url {shlex.quote(rehearsal.workspace.endpoints[name])}\n"
    )
    (aws / "aws").chmod(0o755)
    credentials = {"AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal"}
    boot = boot_certificate(
        user_data, root, aws_path=aws, public_ip=address, dns_answers=[address], environment=credentials
    )
    if boot.returncode != 0 or boot.fingerprint is None:
        raise RehearsalFailure(f"api-{name}: instance {instance_id} has no certificate after its start:\n{boot.log}")
    return boot


def replace_ssh_key(rehearsal: Rehearsal, config: AppConfig, name: str) -> None:
    """README "Lost SSH key": a new public key reaches the instance (it is replaced, on the same address).

    Each instance also runs its certificate start: the first asks Let's Encrypt (stubbed) and
    stores what it got; its replacement must serve that certificate without asking again.
    """
    stack = f"api-{name}"
    ec2 = client(rehearsal, name, "ec2")
    seen: list[tuple[str, str]] = []
    boots: list[Boot] = []
    for index, key in enumerate(SSH_KEYS):
        env = config.workload(name)
        keyed = with_workload(
            config,
            env.model_copy(
                update={
                    "api": env.api.model_copy(update={"ec2": env.api.ec2.model_copy(update={"ssh_public_key": key})})
                }
            ),
        )
        fresh_synth(rehearsal, keyed, f"{name}-ssh-{index}", [stack])
        rehearsal.apply(stack)
        rehearsal.assert_no_changes([stack], allow_convergence=True)
        instance_id = rehearsal.output(stack, "instance-id")
        (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        key_name = reservation["Instances"][0]["KeyName"]
        (pair,) = ec2.describe_key_pairs(KeyNames=[key_name])["KeyPairs"]
        if pair.get("PublicKey", key).split()[:2] != key.split()[:2]:
            raise RehearsalFailure(f"{stack}: instance {instance_id} has key {key_name}, not the configured one")
        seen.append((instance_id, key_name))
        boots.append(boot_instance_certificate(rehearsal, name, instance_id))
    if seen[0][1] == seen[1][1]:
        raise RehearsalFailure(f"{stack}: the new key never reached the instance (key pair {seen[0][1]} kept)")
    first, replacement = boots
    if not first.asked_lets_encrypt:
        raise RehearsalFailure(f"{stack}: the first instance found a stored certificate before any was issued")
    if replacement.asked_lets_encrypt or replacement.fingerprint != first.fingerprint:
        raise RehearsalFailure(
            f"{stack}: the replaced instance asked Let's Encrypt again instead of restoring"
            f" the stored certificate {first.fingerprint}:\n{replacement.log}"
        )
    address = client(rehearsal, name, "ec2").describe_addresses()["Addresses"]
    if [a.get("InstanceId") for a in address] != [seen[1][0]]:
        raise RehearsalFailure(f"{stack}: the Elastic IP is not on the new instance: {address}")
    # Back to the committed config (no key): the instance is replaced once more.
    fresh_synth(rehearsal, config, f"{name}-no-ssh", [stack])
    rehearsal.apply(stack)
    rehearsal.assert_no_changes([stack], allow_convergence=True)


def restore_database(rehearsal: Rehearsal, config: AppConfig, name: str) -> None:
    """README "Restoring the database", and proof that a second restore could not collide with this one.

    The replaced instance leaves its final snapshot, named at its creation; the restored instance
    must carry a different final snapshot name in its state (fixed at its own creation), which is
    what the next restore will leave. (Restoring twice proved the same at twice the time.)
    """
    env = config.workload(name)
    identifier = f"littil-nl-{name}-db"
    stack = f"database-{name}"
    rds = client(rehearsal, name, "rds")
    address = next(
        f"aws_db_instance.{logical}"
        for logical in json.loads((rehearsal.workspace.stack_dir(stack) / "cdk.tf.json").read_text())["resource"][
            "aws_db_instance"
        ]
    )
    snapshot = f"{identifier}-rehearsal"
    aws_cli(
        rehearsal,
        name,
        f"aws rds create-db-snapshot --region eu-west-1 --db-instance-identifier {identifier}"
        f" --db-snapshot-identifier {snapshot}",
    )
    aws_cli(
        rehearsal, name, f"aws rds wait db-snapshot-available --region eu-west-1 --db-snapshot-identifier {snapshot}"
    )
    (taken,) = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"]
    restoring = env.database.model_copy(
        update={
            "snapshot_identifier": snapshot,
            "snapshot_engine_version": taken["EngineVersion"],
            "snapshot_allocated_storage_gb": taken["AllocatedStorage"],
        }
    )
    restored = with_workload(config, env.model_copy(update={"database": restoring}))
    outdir = fresh_synth(rehearsal, restored, f"{name}-restore", [stack])
    rehearsal.init(stack)
    if env.database.deletion_protection:
        aws_cli(
            rehearsal,
            name,
            f"aws rds modify-db-instance --region eu-west-1 --db-instance-identifier {identifier}"
            " --no-deletion-protection --apply-immediately",
        )
    rehearsal.apply(stack, f"-replace={address}")
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    if instance.get("DeletionProtection") is not env.database.deletion_protection:
        raise RehearsalFailure(f"{stack}: deletion protection is {instance.get('DeletionProtection')} after restore")
    rehearsal.assert_no_changes([stack])
    # The API and the maintenance stack read the new master secret (README step 5).
    for reader in (f"api-{name}", f"maintenance-{name}"):
        rehearsal.apply(reader)
    rehearsal.assert_no_changes(deploy_order(outdir, name), allow_convergence=True)
    finals = [
        s["DBSnapshotIdentifier"]
        for s in rds.describe_db_snapshots(DBInstanceIdentifier=identifier)["DBSnapshots"]
        if "-final-" in s["DBSnapshotIdentifier"]
    ]
    state = json.loads(rehearsal.tf(stack, "show", "-json", "-no-color"))
    (next_final,) = [
        resource["values"]["final_snapshot_identifier"]
        for resource in state["values"]["root_module"]["resources"]
        if resource["address"] == address
    ]
    if len(finals) != 1 or not next_final.startswith(f"{identifier}-final-") or next_final in finals:
        raise RehearsalFailure(
            f"{stack}: the replaced instance left {finals}; the restored one would leave {next_final}"
        )
