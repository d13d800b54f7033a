"""`make rehearse`: every stack applied for real, by Terraform and the AWS provider, against a local AWS.

No test of the synthesized JSON runs Terraform; this does, offline. It synthesizes the
app (with the placeholder account ids filled in, as an operator would before deploying),
starts one emulator (moto) per account, and for each environment applies the stacks in
the order `make deploy ENV=<env>` uses, then plans every stack again: any change left
is a failure (a perpetual diff is a real bug; the emulator's gaps that would cause one
are patched, GAPS.md). Then it rehearses the operator procedures of the README
(procedures.py) and stops the emulators, leaving nothing behind.

    python -m tools.rehearse [staging] [production] [--keep]
"""
