"""Rules across environments: what one environment claims (its account, its names, its origin) no other may, the
registry keeps what every environment runs, and a GitHub name has one spelling. A conflict is named in the file
edited last (most likely where the value was copied to), and its message names the other file too.
"""

from __future__ import annotations

from typing import Any

from config import rules
from config.checks import paths_with_rule
from config.envfiles import Path_, shown
from config.model import SharedEnvironment, WorkloadEnvironment
from config.sources import Sources


def to_blame(first: Sources, second: Sources) -> tuple[Sources, Sources]:
    """Of two environments that claim one value, (the one to name, the other): the file edited last, where the
    operator most likely copied it to; on a tie, the one loaded last. A guess (any save or checkout moves it), so
    every message names the other file too and leaves the choice to the operator."""
    if first.env_path.stat().st_mtime_ns > second.env_path.stat().st_mtime_ns:
        return first, second
    return second, first


def claim_account(
    environment: SharedEnvironment | WorkloadEnvironment, sources: Sources, accounts: dict[str, Claim]
) -> None:
    """Account-wide names (the GitHub OIDC provider, LITTIL-NL-api-ecs-redeploy, ...) exist once per account."""
    problem = (
        f"{environment.account_id} is also {{other}}'s account ({{file}}); each environment needs an account of its own"
    )
    _claim(accounts, environment.account_id, sources, ("account_id",), problem)


def claim_names(env: WorkloadEnvironment, sources: Sources, hosts: dict[str, Claim]) -> None:
    """Each DNS name belongs to one environment: its certificate, mail identity and DNS records are made for it."""
    for key, host in (("domain", env.domain), ("domain", env.api_domain), ("mail_domain", env.effective_mail_domain)):
        problem = (
            f"{host} is also {{other}}'s (its domain, API host or mail domain; {{file}}): this environment would"
            " request {other}'s certificate, verify its mail identity and have its name pointed here"
        )
        _claim(hosts, host, sources, (key,), problem)


# Who claimed a value first, and at which key.
Claim = tuple[Sources, Path_]


def _claim(claims: dict[str, Claim], value: str, sources: Sources, key: Path_, problem: str) -> None:
    """`value` for this environment at `key`. Claimed by another before, one of the two is refused (`to_blame`) at its
    own key, with `problem` naming the other environment ({other}) and its file ({file})."""
    first, first_key = claims.setdefault(value, (sources, key))
    if first is not sources:
        blamed, other = to_blame(first, sources)
        raise blamed.error(
            first_key if blamed is first else key, problem.format(other=other.name, file=shown(other.env_path))
        )


# Releases pushed before an environment moves to them: the registry keeps room for them beside what runs.
UNRUN_RELEASES = 5


def registry_keeps_what_runs(
    shared: SharedEnvironment, shared_sources: Sources, workloads: list[tuple[WorkloadEnvironment, Sources]]
) -> None:
    """The registry's lifecycle never expires, and no push moves, an image an environment runs."""
    registry = shared.registry
    for env, _ in workloads:
        if env.api.image_tag in registry.api_mutable_tags:
            raise shared_sources.error(
                ("registry", "api_mutable_tags"),
                f'"{env.api.image_tag}" is the api.image_tag {env.name} runs: a push under a mutable tag would change'
                " what it runs; keep release tags immutable",
            )
    for component in ("api", "maintenance"):
        running = sorted({getattr(env, component).image_tag for env, _ in workloads})
        moving = registry.api_mutable_tags if component == "api" else ()
        least = len(running) + len(moving) + UNRUN_RELEASES
        if registry.tagged_images_to_keep < least:
            raise shared_sources.error(
                ("registry", "tagged_images_to_keep"),
                f"must be at least {least}: the environments run {len(running)} {component} image(s)"
                f" ({', '.join(running)}), {len(moving)} mutable tag(s) hold one each, and {UNRUN_RELEASES} releases"
                " may be pushed before an environment moves to them; fewer, and the lifecycle expires a running image",
            )


def origins_are_web_apps(workloads: list[tuple[WorkloadEnvironment, Sources]]) -> None:
    """A CORS origin is a web app's, never an environment's API host (its own or another's), and no other
    environment's."""
    api_hosts = {f"https://{env.api_domain}": env.name for env, _ in workloads}
    origins: dict[str, Claim] = {}
    for env, sources in workloads:
        problem = (
            f"{env.cors_origin} is also {{other}}'s ({{file}}); one of the two is a copy: each environment's API"
            " answers its own web app, at an origin of its own"
        )
        _claim(origins, env.cors_origin, sources, ("cors_origin",), problem)
        owner = api_hosts.get(env.cors_origin)
        if owner is not None and owner != env.name:
            raise sources.error(
                ("cors_origin",),
                f"{env.cors_origin} is {owner}'s API, not a web app: browsers would refuse the calls of"
                f" {env.name}'s web app (give its origin, such as https://www.{env.domain})",
            )


def one_spelling_per_github_name(
    common: dict[str, Any], environments: list[tuple[SharedEnvironment | WorkloadEnvironment, Sources]]
) -> None:
    """GitHub's OIDC token names the repository as GitHub spells it, and the roles' trust compares that name
    case-sensitively (IAM's StringLike): a name given in two spellings fails one of them. common.hcl's spelling comes
    first, as every environment starts from it. Organisations and repositories are compared among their own kind."""
    spelt: dict[tuple[str, str], tuple[str, Sources | None]] = {}
    for path in paths_with_rule(WorkloadEnvironment, rules.github_name):
        default = _value_at(common, path)
        if isinstance(default, str):
            spelt.setdefault((_github_kind(path), default.lower()), (default, None))
    for env, sources in environments:
        settings = env.model_dump()
        for path in paths_with_rule(type(env), rules.github_name):
            value = _value_at(settings, path)
            first, where = spelt.setdefault((_github_kind(path), value.lower()), (value, sources))
            if first != value:
                origin = shown(sources.common_path) if where is None else shown(where.env_path)
                raise sources.error(
                    path,
                    f'"{value}" is spelt "{first}" in {origin}: GitHub\'s OIDC token names it as GitHub spells it, and'
                    " the roles' trust compares it case-sensitively; give it GitHub's spelling everywhere",
                    wrong_anywhere=True,
                )


def _github_kind(path: Path_) -> str:
    """`github.org` and `ci.github_org` name organisations; `github.repo` and `ci.github_repo` repositories."""
    return "organisation" if str(path[-1]).endswith("org") else "repository"


def _value_at(tree: Any, path: Path_) -> Any:
    for part in path:
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree
