"""The API instance's boot script (templates/api-instance-boot.sh), rendered into cloud-init user data.

Plain strings in, a string out: no construct, no CDKTF (modules/api/ec2.py hands it to the instance), so what the
script does is tested by running it (tests/modules/api/test_boot_script.py) without synthesizing anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modules.access.secrets import SecretKey

BOOT_TEMPLATE = Path(__file__).parent / "templates" / "api-instance-boot.sh"
# EC2 refuses user data over 16 KB (the value once Terraform has filled in the ARNs). The template's comment lines
# are for its readers: the instance gets the script without them (a `#!` line stays).
USER_DATA_LIMIT_BYTES = 16384
COMMENT_LINE = re.compile(r"^[ \t]*#(?!!).*\n", re.M)


def render_boot_script(
    *,
    environment: Mapping[str, str],
    secrets: Mapping[str, SecretKey],
    region: str,
    registry: str,
    image_repository: str,
    image_tag_parameter: str,
    api_domain: str,
    certbot_email: str,
    certificate_secret: str,
    metric_namespace: str,
    metric_name: str,
) -> str:
    """The cloud-init user data, with Terraform's `${`/`%{` in the script escaped and its comment lines left out.

    Values (which may be Terraform references) are inserted after escaping, so
    they still interpolate; the script's own `${...}` reach bash untouched.
    """
    script = COMMENT_LINE.sub("", BOOT_TEMPLATE.read_text()).replace("${", "$${").replace("%{", "%%{")
    values = {
        "ENVIRONMENT": "\n".join(f"{name}={value}" for name, value in sorted(environment.items())),
        "SECRETS": "\n".join(f"{name} {key.secret_arn} {key.json_key}" for name, key in sorted(secrets.items())),
        "REGION": region,
        "REGISTRY": registry,
        "IMAGE_REPOSITORY": image_repository,
        "IMAGE_TAG_PARAMETER": image_tag_parameter,
        "API_DOMAIN": api_domain,
        "CERTBOT_EMAIL": certbot_email,
        "CERTIFICATE_SECRET": certificate_secret,
        "METRIC_NAMESPACE": metric_namespace,
        "METRIC_NAME": metric_name,
    }
    for name, value in values.items():
        script = script.replace(f"@@{name}@@", value)
    return script
