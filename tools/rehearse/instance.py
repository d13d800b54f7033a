"""The EC2 variant's own procedures: the instance's certificate at boot, and a replaced SSH key.

Both replace the instance; both check that what must survive it does (the Let's Encrypt
certificate kept in Secrets Manager, the Elastic IP).
"""

from __future__ import annotations

import base64
import shlex
import sys

from config.model import AppConfig
from tools.instance_boot import Boot, boot_certificate
from tools.rehearse.run import Rehearsal, RehearsalFailure, client, fresh_synth, with_workload

SSH_KEYS = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0eEJ4lO2v0oaHXXnTRKr6jL0b9t5zIcXQXL3vqLk0u first@littil",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9NQ0xz6mWkqmW4pCq0b2n8lK1eVqRZ8rXH3xYwK1aB replacement@littil",
)


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
        rehearsal.assert_no_changes([stack])
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
    rehearsal.assert_no_changes([stack])
