"""The README's operator procedures, each run the way the README says, and checked where it says they end.

Every procedure edits the configuration as an operator would edit `envs/<env>.hcl`,
synthesizes, copies only the stacks the README names into the workspace (a fresh
`make synth` replaces `cdktf.out/`), runs the README's commands and checks the result,
with the emulator's API (boto3) where Terraform alone would not tell.
"""

from __future__ import annotations

import json

from config.model import AppConfig, SharedEnvironment
from config.settings import ApiVariant
from tools.deployed.record import Standing
from tools.rehearse import records
from tools.rehearse.run import (
    Rehearsal,
    RehearsalFailure,
    aws_cli,
    client,
    env_config,
    fresh_synth,
    replace_shared,
    say,
    with_workload,
)


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


def maintenance_on_use_destroy(rehearsal: Rehearsal, config: AppConfig, name: str) -> None:
    """Maintenance on, used, destroyed (with a key made by hand on its user): nothing else changes."""
    env = config.workload(name)
    stack = f"maintenance-{name}"
    enabled = with_workload(
        config, env.model_copy(update={"maintenance": env.maintenance.model_copy(update={"enabled": True})})
    )
    # No other stack reads maintenance-<env> (tests/test_safety.py: enabling it changes no other stack's JSON),
    # so only this one is planned again.
    fresh_synth(rehearsal, enabled, f"{stack}-on", [stack])
    rehearsal.apply(stack)
    rehearsal.assert_no_changes([stack])
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
    # Back to the committed config: the user alone.
    fresh_synth(rehearsal, config, f"{stack}-off", [stack])
    rehearsal.apply(stack)
    rehearsal.assert_no_changes([stack])


def switched_stacks(name: str) -> tuple[str, ...]:
    """The stacks a variant switch changes (README "Switching the API variant")."""
    return f"certificate-{name}", f"network-{name}", f"api-{name}"


def switch_variant(rehearsal: Rehearsal, config: AppConfig, name: str) -> None:
    """api.variant to the other one and back, in the README's order; every stack plans empty after each."""
    env = config.workload(name)
    other = ApiVariant.EC2 if env.api.variant is ApiVariant.ECS else ApiVariant.ECS
    switched = with_workload(config, env.model_copy(update={"api": env.api.model_copy(update={"variant": other})}))
    touched = list(switched_stacks(name))
    for target, label in ((switched, other.value), (config, env.api.variant.value)):
        variant = target.workload(name).api.variant
        fresh_synth(rehearsal, target, f"{name}-as-{label}", touched)
        # To ec2: the address first (network), then the API. To ecs: the certificate's ARN output
        # first, then the API, then network drops the address the old instance held.
        order = (
            [f"network-{name}", f"api-{name}", f"certificate-{name}"]
            if variant is ApiVariant.EC2
            else [f"certificate-{name}", f"api-{name}", f"network-{name}"]
        )
        for stack in order:
            rehearsal.apply(stack)
        # Halfway, the stacks the switch touched; back home, those and the database, which reads the network.
        # (maintenance-<env>, rehearsed meanwhile (tools/rehearse/__main__.py), reads none of what they change.)
        home = [*touched, f"database-{name}"]
        rehearsal.assert_no_changes(touched if variant is other else home)
        planned = "the stacks it touched" if variant is other else "those and the database"
        say(f"   {name}: the API runs on {variant.value}, {planned} plan empty")


def roll_out_image_tag(rehearsal: Rehearsal, config: AppConfig, name: str, tag: str) -> AppConfig:
    """README "Rolling out a new image tag": deploy api-<env> with the new tag (EC2: then restart)."""
    env = config.workload(name)
    rolled = with_workload(config, env.model_copy(update={"api": env.api.model_copy(update={"image_tag": tag})}))
    stack = f"api-{name}"
    outdir = fresh_synth(rehearsal, rolled, f"{name}-tag-{tag}", [stack])
    records.expect(rehearsal, outdir, name, stack, Standing.BEHIND)  # make deployed: merged, not deployed yet
    rehearsal.apply(stack)
    rehearsal.assert_no_changes([stack])
    records.record(rehearsal, outdir, name, [stack])
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
    fresh_synth(rehearsal, restored, f"{name}-restore", [stack])
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
    # The API and the maintenance stack read the new master secret (README step 7). Nothing else reads the database.
    readers = [f"api-{name}", f"maintenance-{name}"]
    for reader in readers:
        rehearsal.apply(reader)
    rehearsal.assert_no_changes(readers)
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
