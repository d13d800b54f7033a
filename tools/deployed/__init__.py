"""What is deployed, and from which commit.

`make deploy` and `make destroy` deploy what was reviewed: `guard` refuses an uncommitted change
or a commit that is not on main before Terraform starts, unless the operator gives a REASON. After
each successful apply or destroy, `record` writes the stack's record next to its state, in the
account's state bucket (readable with the plan role's rights): the commit, whether it was on main,
the reason, who, when, and the fingerprint of the synthesized stack. `make deployed` (`list`) and
the nightly drift check compare that fingerprint with main's synthesis of the stack: a difference is
a change merged but not deployed yet, not drift.

Usage: python -m tools.deployed guard [--action deploy|destroy]
       python -m tools.deployed record <cdktf.out> <stack> ... --action deploy|destroy --applied <dir>
       python -m tools.deployed list <cdktf.out> <stack> ...
       python -m tools.deployed where <cdk.tf.json>        (the record's s3:// address, for the drift check)
"""
