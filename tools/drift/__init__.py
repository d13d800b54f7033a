"""The nightly drift check (.github/workflows/drift.yml): which stacks to plan, each plan's result, and the issues.

Three commands (`__main__`), one per job of the workflow:

    python -m tools.drift stacks cdktf.out --waiting DIR
                                                the stacks to plan, as JSON (the plan job's matrix); the result of
                                                each stack that cannot be deployed yet into DIR
    python -m tools.drift record --stack ...    one plan's result, as JSON (an artifact of the plan job)
    python -m tools.drift report <results dir>  open, update or close the `drift` issues with `gh`, and write the
                                                run's summary to $GITHUB_STEP_SUMMARY

`results` turns what a plan job saw into a `Result`; `issues` decides what each result does to its stack's issues.
Each stack has at most four open issues, found by their exact title: `Drift: <stack>` while its plan shows changes
nobody made in the code, `Not deployed: <stack>` while its plan shows changes and main's synthesis of it differs
from what its deployment record says was deployed (tools/deployed: merged, not deployed yet), `Drift check failed:
<stack>` while its plan cannot run, and `Not deployable yet: <stack>` while a placeholder account id keeps it from
being deployed (so it is not planned, and that is no failure). A failed
plan gets an issue of its own rather than a line in the run's summary: nobody reads the summary of a green nightly
run, and a check that fails every night hides drift as well as no check at all. A failed or skipped plan says
nothing about drift, so it never closes an issue; only a plan that runs closes them. What to do about an issue:
docs/runbooks/answer-drift.md.
"""
