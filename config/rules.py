"""What a single value must look like.

Each rule takes an already type-checked value and returns what was expected
when the value does not fit, or None when it does; `config.checks` attaches
rules to a field's annotation (`config.settings`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from config.checks import bounded

_DOMAIN_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^{_DOMAIN_LABEL}(\.{_DOMAIN_LABEL})+$")


def _matches(pattern: str, expected: str) -> Callable[[str], str | None]:
    compiled = re.compile(pattern)

    def rule(value: str) -> str | None:
        return None if compiled.fullmatch(value) else expected

    return rule


account_id = _matches(r"\d{12}", "a 12-digit AWS account id in quotes")
# Ids that stand in for a real account until someone fills it in: one digit twelve times, and
# the examples of AWS's documentation. Accepted (synth and tests work), never granted anything.
_EXAMPLE_ACCOUNT_IDS = frozenset({"123456789012", "111122223333", "444455556666", "777788889999"})


def is_placeholder_account_id(value: str) -> bool:
    return len(set(value)) == 1 or value in _EXAMPLE_ACCOUNT_IDS


region = _matches(r"[a-z]{2}(-gov)?-[a-z]+-\d", 'an AWS region such as "eu-west-1"')
availability_zone = _matches(r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]", 'an availability zone such as "eu-west-1a"')
country_code = _matches(r"[A-Z]{2}", 'a two-letter upper-case country code such as "NL"')
image_tag = _matches(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "a container image tag")


def release_tag(value: str) -> str | None:
    """A tag to run: `latest` moves with every build; a release's image tag is its git tag without the "v"."""
    if value == "latest":
        return 'a fixed release tag such as "1.6.0" (latest moves with every build of main)'
    if re.fullmatch(r"v\d.*", value):
        return f'the image tag of a release, its git tag without the "v" ("{value[1:]}")'
    return None


_github_name = _matches(r"[A-Za-z0-9_.-]{1,100}", "a GitHub organisation or repository name")


def github_name(value: str) -> str | None:
    """A name as GitHub shows it; `littil-backend.git` is the clone URL's end, and the OIDC subject never has it."""
    if value.endswith(".git"):
        return f'a GitHub name without the clone URL\'s ".git" ("{value.removesuffix(".git")}")'
    return _github_name(value)


_database_name = _matches(r"[A-Za-z][A-Za-z0-9_]{0,63}", "a database name (letters, digits, _)")
_SYSTEM_DATABASES = frozenset({"mysql", "sys", "information_schema", "performance_schema"})


def database_name(value: str) -> str | None:
    """MariaDB's own databases are refused: RDS's DBName "can't be a word reserved by the database engine"."""
    if value.lower() in _SYSTEM_DATABASES:
        return f"a database name of your own ({', '.join(sorted(_SYSTEM_DATABASES))} are MariaDB's)"
    return _database_name(value)


_NUMBER = r"(0|[1-9]\d*)"
engine_version = _matches(rf"{_NUMBER}\.{_NUMBER}(\.{_NUMBER})?", 'a MariaDB engine version such as "10.11"')
# The minor versions RDS for MariaDB offered per major, as AWS's "MariaDB on Amazon RDS versions" listed them in
# February 2026 (10.6 left standard support in August 2026). RDS skips some community releases (10.11.12, 11.4.6)
# and retires old ones: a version below or between these is refused; a newer one (RDS adds about one a quarter)
# is accepted, since only `aws rds describe-db-engine-versions --engine mariadb` knows it.
RDS_MARIADB_MINORS = {
    "10.11": (9, 10, 11, 13, 14, 15, 16),
    "11.4": (3, 4, 5, 7, 8, 9, 10),
    "11.8": (3, 5, 6),
}
RDS_MARIADB_MAJORS = tuple(RDS_MARIADB_MINORS)


def major_version(engine_version: str) -> str:
    """RDS's major version of a MariaDB version: "10.11.9" -> "10.11" (what parameter groups and upgrades follow)."""
    return ".".join(engine_version.split(".")[:2])


def offered_engine_version(value: str) -> str | None:
    """A version new instances can run: one of RDS's majors, optionally with a minor ("10.11", "10.11.9")."""
    major = major_version(value)
    if major not in RDS_MARIADB_MINORS:
        return f"a major version RDS offers for MariaDB: {', '.join(RDS_MARIADB_MAJORS)}"
    offered = RDS_MARIADB_MINORS[major]
    minor = int(value.split(".")[2]) if value.count(".") == 2 else None
    if minor is not None and minor <= offered[-1] and minor not in offered:
        listed = ", ".join(f"{major}.{m}" for m in offered)
        return f"a version RDS offers for MariaDB {major} (as of February 2026: {listed}, or newer), or just {major}"
    return None


# RDS snapshot names: a letter, then letters, digits and single hyphens, no hyphen at the end; "rds:" marks an
# automated one. Another account's snapshot (shared with this one) is named by its ARN.
_SNAPSHOT_NAME = r"(rds:)?[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)"
SNAPSHOT_ARN = re.compile(rf"arn:aws:rds:(?P<region>[a-z0-9-]+):\d{{12}}:snapshot:{_SNAPSHOT_NAME}")
snapshot_identifier = _matches(
    rf"{_SNAPSHOT_NAME}|{SNAPSHOT_ARN.pattern}",
    "an RDS snapshot name (a letter, then letters, digits and single hyphens, not ending in one) or a snapshot ARN",
)
hosted_zone_id = _matches(r"Z[A-Z0-9]{1,31}", 'a Route53 hosted zone id such as "Z0123456789ABC"')


def domain_name(value: str) -> str | None:
    if len(value) <= 253 and _DOMAIN.fullmatch(value):
        return None
    return 'a lower-case DNS name such as "staging.littil.org"'


def own_domain_name(value: str) -> str | None:
    """A DNS name that can be one's own: not one RFC 2606 reserves, where no certificate is issued and no mail goes."""
    reserved = value in _RESERVED_MAIL_DOMAINS or value.endswith(tuple(f".{d}" for d in _RESERVED_MAIL_DOMAINS))
    if reserved or value.rsplit(".", 1)[-1] in _RESERVED_TOP_LEVEL_DOMAINS:
        return f"a domain of your own ({_RESERVED_SAID}, RFC 2606: no certificate is issued there)"
    return domain_name(value)


# ACM refuses a certificate whose first domain name is longer than 64 characters (RequestCertificate, DomainName).
ACM_MAX_DOMAIN_LENGTH = 64


def environment_domain(value: str) -> str | None:
    """The environment's own name; the API is served at api.<domain>, so a domain of api.x would serve api.api.x."""
    if value.startswith("api."):
        return f'the environment\'s domain without "api." ("{value.removeprefix("api.")}"; the API gets api.<domain>)'
    if len(f"api.{value}") > ACM_MAX_DOMAIN_LENGTH:
        return f"a domain of at most {ACM_MAX_DOMAIN_LENGTH - 4} characters (ACM certifies api.<domain>: 64 at most)"
    return own_domain_name(value)


def https_origin(value: str) -> str | None:
    """`https://<host>[:<port>]`, as a browser sends it in its Origin header (no path, no trailing slash)."""
    expected = 'an https origin without path, such as "https://www.littil.org" (a port may follow: ":8443")'
    prefix = "https://"
    if not value.startswith(prefix):
        return expected
    host, colon, port = value[len(prefix) :].partition(":")
    if colon and not (re.fullmatch(r"[1-9]\d{0,4}", port) and int(port) <= 65535):
        return expected
    if domain_name(host) is not None:
        return expected
    return own_domain_name(host)


# RFC 1918: AWS recommends a VPC's range within them; a public range hides the internet hosts it overlaps.
PRIVATE_NETWORKS = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def vpc_cidr(value: str) -> str | None:
    expected = (
        'an IPv4 network between /16 and /23 such as "10.0.0.0/16" (subnets are 1/16 of it; ALB subnets need /27)'
    )
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return expected
    if network.version != 4 or not 16 <= network.prefixlen <= 23:
        return expected
    if not any(network.subnet_of(private) for private in PRIVATE_NETWORKS):
        return 'a private IPv4 network (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) such as "10.0.0.0/16"'
    return None


_EMAIL_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"


def email(value: str) -> str | None:
    """user@domain: a dot-atom local part (RFC 5322) and a DNS name with a top-level domain of letters."""
    local, at, domain = value.rpartition("@")
    domain = domain.lower()  # DNS names are case-insensitive: Info@LITTIL.org is a valid address
    valid = (
        at
        and len(value) <= 254
        and re.fullmatch(_EMAIL_LOCAL, local)
        and domain_name(domain) is None
        and re.fullmatch(r"[a-z]{2,63}", domain.rsplit(".", 1)[-1])
    )
    if not valid:
        return 'an e-mail address such as "info@littil.org"'
    if domain in _RESERVED_MAIL_DOMAINS or domain.rsplit(".", 1)[-1] in _RESERVED_TOP_LEVEL_DOMAINS:
        return (
            f"an address that receives mail ({_RESERVED_SAID}, RFC 2606: nothing is delivered there, and Let's Encrypt"
            " refuses them)"
        )
    return None


_RESERVED_MAIL_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
_RESERVED_TOP_LEVEL_DOMAINS = frozenset({"example", "test", "invalid", "localhost"})
_RESERVED_SAID = "example.com/.net/.org and .example, .test, .invalid, .localhost are reserved"


def each_once(values: tuple[str, ...]) -> str | None:
    """A list whose entries mean something once: a repeat is a slip (a copied line), never a choice."""
    repeated = sorted({value for value in values if values.count(value) > 1})
    return f"each entry once ({', '.join(repeated)} is given twice)" if repeated else None


@bounded(1, None)
def positive(value: int) -> str | None:
    return None if value > 0 else "a whole number greater than 0"


@bounded(0, None)
def non_negative(value: int) -> str | None:
    return None if value >= 0 else "a whole number of 0 or more"


# RDS keeps automated backups, and replicates them to another region, for at most this many days.
RDS_MAX_BACKUP_RETENTION_DAYS = 35
# The longest a locked copy vault keeps a copy (its lock's maximum, docs/decisions/0006-backup-copies.md): a copy
# nobody can delete early must not be kept for ever either (storage paid for, personal data kept).
BACKUP_COPY_MAX_DAYS = 365


@bounded(1, RDS_MAX_BACKUP_RETENTION_DAYS)
def backup_retention(value: int) -> str | None:
    return None if 1 <= value <= RDS_MAX_BACKUP_RETENTION_DAYS else "a number of days from 1 to 35 (RDS limits)"


# CloudWatch Logs accepts only these retention periods.
_LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def log_retention(value: int) -> str | None:
    if value in _LOG_RETENTION_DAYS:
        return None
    return "one of the CloudWatch retention periods " + ", ".join(map(str, _LOG_RETENTION_DAYS))


# Fargate memory (MiB) allowed for each CPU size.
FARGATE_MEMORY: dict[int, range | tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}


def fargate_cpu(value: int) -> str | None:
    *smaller, largest = FARGATE_MEMORY
    return None if value in FARGATE_MEMORY else f"a Fargate CPU size: {', '.join(map(str, smaller))} or {largest}"
