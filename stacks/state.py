"""`state-<env>`: the bucket every other stack of the environment keeps its state in."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules.naming import state_access_log_bucket_name, state_bucket_name
from modules.state_bucket import AccessLogBucket, StateBucket
from stacks.base import Environment, LittilStack

COMPONENT = "state"


class StateStack(LittilStack):
    """Deployed first, with local state; its own state may later move into the bucket."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        super().__init__(scope, component=COMPONENT, env=env, remote_state=env.state.store_own_state_in_bucket)
        self.state_bucket = StateBucket(
            self,
            "state-bucket",
            bucket_name=state_bucket_name(env.country, env.name, env.account_id),
            noncurrent_version_expiration_days=env.state.noncurrent_version_expiration_days,
        )
        self.access_logs = AccessLogBucket(
            self,
            "access-logs",
            bucket_name=state_access_log_bucket_name(env.country, env.name, env.account_id),
            source=self.state_bucket.bucket,
            account_id=self.current_account_id,
        )
        TerraformOutput(
            self, "bucket-name", value=self.state_bucket.bucket.bucket, description="Terraform state bucket"
        )
