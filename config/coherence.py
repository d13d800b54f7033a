"""Rules across the settings of one environment that say what could never work, beyond model.py's.

Each function takes an environment's settings and raises `refuse(...)` at the key to fix.
"""

from __future__ import annotations

from config import aws
from config.checks import refuse
from config.settings import ApiConfig, ApiVariant, CiConfig, GithubConfig, RegistryConfig

# What the application's CI pushes on every build of main (littil-backend, publish-build-container.yml).
PUSHED_ON_EVERY_BUILD = "latest"


def ci_is_this_repository(ci: CiConfig, github: GithubConfig) -> None:
    """The plan roles trust this repository's workflows: the application's would get read access to every state."""
    if (ci.github_org.lower(), ci.github_repo.lower()) == (github.org.lower(), github.repo.lower()):
        raise refuse(
            f"{ci.github_org}/{ci.github_repo} is the application's repository (github.repo): ci names this"
            " infrastructure repository, whose workflows may plan; the application's may only push and restart",
            "ci",
            "github_repo",
        )


def ssh_has_a_way_in(api: ApiConfig) -> None:
    """SSH settings only where there is an instance, port 22 opened only for a key, and once per source (EC2 refuses
    a rule given twice: InvalidPermission.Duplicate)."""
    ec2 = api.ec2
    if api.variant is not ApiVariant.EC2:
        for key, value in (("ssh_public_key", ec2.ssh_public_key), ("ssh_allowed_cidrs", ec2.ssh_allowed_cidrs)):
            if value:
                raise refuse(
                    f'only applies with api.variant = "ec2": the {api.variant} variant has no instance to log in to;'
                    " remove it",
                    "api",
                    "ec2",
                    key,
                )
    sources = ec2.ssh_allowed_cidrs
    for index, source in enumerate(sources):
        if source in sources[:index]:
            raise refuse(f"{source} is given twice (EC2 refuses a duplicate rule); give it once", "api", "ec2",
                         "ssh_allowed_cidrs", index)  # fmt: skip
    if sources and ec2.ssh_public_key is None:
        raise refuse(
            "opens port 22 with no key on the instance to log in with: set api.ec2.ssh_public_key, or leave this"
            " empty (Session Manager is the shell)",
            "api",
            "ec2",
            "ssh_allowed_cidrs",
        )


def registry_takes_what_ci_pushes(registry: RegistryConfig) -> None:
    """The application's CI pushes `latest` on every build of main: immutable, it fails every push but the first."""
    if PUSHED_ON_EVERY_BUILD not in registry.api_mutable_tags:
        raise refuse(
            f'must hold "{PUSHED_ON_EVERY_BUILD}": the application\'s CI pushes it on every build of main, and ECR'
            " refuses a second push to an immutable tag",
            "registry",
            "api_mutable_tags",
        )


def region_sends_mail(region: str) -> None:
    """The API sends its mail through SES in the environment's own region: a region without SES cannot."""
    if region not in aws.ses_regions():
        raise refuse(
            f"{region} has no SES (botocore's endpoint data), through which the API sends its mail: choose a region"
            f" that has, such as eu-west-1 ({len(aws.ses_regions())} do)",
            "region",
        )
