"""What each stack's result in a night's drift check does to its GitHub issues, and the run's summary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.drift.results import Result, Status

LABEL = "drift"
RUNBOOK = "docs/runbooks/answer-drift.md"
FENCED = re.compile(r"```\n(.*?)```", re.S)


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str


@dataclass(frozen=True)
class Links:
    run: str
    runbook: str


@dataclass(frozen=True)
class Open:
    title: str
    body: str


@dataclass(frozen=True)
class Edit:
    number: int
    body: str


@dataclass(frozen=True)
class Comment:
    number: int
    text: str


@dataclass(frozen=True)
class Close:
    number: int
    comment: str


Action = Open | Edit | Comment | Close


def drift_title(stack: str) -> str:
    return f"Drift: {stack}"


def failure_title(stack: str) -> str:
    return f"Drift check failed: {stack}"


def waiting_title(stack: str) -> str:
    return f"Not deployable yet: {stack}"


def undeployed_title(stack: str) -> str:
    return f"Not deployed: {stack}"


TITLES = (drift_title, failure_title, waiting_title, undeployed_title)


def body(result: Result, links: Links) -> str:
    """The description of a stack's drift issue, its failure issue, or its not-deployable-yet issue."""
    stack, runbook = result.stack, f"[answer drift]({links.runbook})"
    if result.status is Status.DRIFT:
        intro = (
            f"The nightly drift check found that `{stack}` in AWS differs from what the code on `main` says: "
            "`terraform plan` would change it although nobody changed the code."
        )
        shown = f"**What would change** (trimmed; `make plan STACK={stack}` shows every attribute):"
        todo = (
            f"follow {runbook}: find out who or what changed AWS, decide whether AWS or the code is right, and bring "
            f"the two together. This issue closes by itself after the first nightly plan of `{stack}` that shows no "
            "changes."
        )
    elif result.status is Status.UNDEPLOYED:
        intro = (
            f"The nightly drift check found that `{stack}` in AWS differs from the code on `main`, and `main` changed"
            " the stack since its last deploy: merged, not deployed yet."
        )
        shown = f"**Its last deploy, and what would change** (trimmed; `make plan STACK={stack}` shows all):"
        todo = (
            f"deploy `main` (`make deploy STACK={stack}`, the README), or revert the change on `main`. Drift, if any,"
            f" shows the night after. This issue closes by itself after the first nightly plan of `{stack}` that"
            " finds `main` deployed."
        )
    elif result.status is Status.WAITING:
        intro = (
            f"The nightly drift check does not plan `{stack}`: a placeholder account id keeps it from being deployed"
            " (its plan refuses by design), so drift in whatever of it is deployed goes unseen until then."
        )
        shown = "**Why** (the plan's own refusal):"
        todo = (
            "put each environment's real AWS account id in its env file and deploy the stack (the first-deploy"
            f" runbook; {runbook}, step 7). This issue closes by itself after the first nightly plan of `{stack}`."
        )
    else:
        intro = f"The nightly drift check could not plan `{stack}`, so drift in it goes unseen."
        shown = "**The end of its output:**"
        todo = (
            f"follow step 6 of {runbook}. This issue closes by itself after the next nightly plan of `{stack}` that "
            "runs."
        )
    fenced = ["```", *result.lines, "```"]
    return "\n".join([intro, "", f"**Run:** {links.run}", "", shown, "", *fenced, "", f"**What to do:** {todo}"])


def changes_in(body: str) -> str | None:
    """The fenced block of an issue's body: what the plan showed when the body was written."""
    found = FENCED.search(body)
    return found.group(1) if found else None


def keep_open(issue: Issue | None, title: str, body: str, on_change: str | None) -> list[Action]:
    """Open the issue, or bring its body up to date (and comment `on_change` when what it shows is different)."""
    if issue is None:
        return [Open(title, body)]
    actions: list[Action] = [Edit(issue.number, body)]
    if on_change is not None and changes_in(issue.body) != changes_in(body):
        actions.append(Comment(issue.number, on_change))
    return actions


def close(issue: Issue | None, comment: str) -> list[Action]:
    return [] if issue is None else [Close(issue.number, comment)]


def actions_for(result: Result, by_title: dict[str, Issue], links: Links) -> list[Action]:
    """What one stack's result does to its three issues."""
    stack = result.stack
    drift, failure, waiting, undeployed = (by_title.get(title(stack)) for title in TITLES)
    if result.status is Status.SKIPPED:
        return []  # nothing is known
    if result.status is Status.WAITING:
        # Said once: the issue is opened, and written again only when the reason changes.
        said = waiting is not None and changes_in(waiting.body) == changes_in(body(result, links))
        no_failure = close(
            failure,
            f"`{stack}` cannot be deployed yet, so its plan is not tried any more and its refusal is no failure: see"
            f" “{waiting_title(stack)}” ({links.run}).",
        )
        return [*([] if said else keep_open(waiting, waiting_title(stack), body(result, links), None)), *no_failure]
    planned = close(waiting, f"`{stack}` is planned again ({links.run}).")
    if result.status is Status.FAILED:
        return [*keep_open(failure, failure_title(stack), body(result, links), None), *planned]
    runs_again = close(failure, f"The plan of `{stack}` runs again ({links.run}).")
    changed = f"What would change is different now ({links.run}); the description shows the new plan."
    if result.status is Status.UNDEPLOYED:  # a drift issue stays as it is: drift is told apart once main is deployed
        kept = keep_open(undeployed, undeployed_title(stack), body(result, links), changed)
        return [*kept, *runs_again, *planned]
    if result.status is Status.DRIFT:
        deployed = close(undeployed, f"`main` is deployed to `{stack}` now ({links.run}).")
        return [*keep_open(drift, drift_title(stack), body(result, links), changed), *runs_again, *planned, *deployed]
    clean = f"The plan of `{stack}` shows no changes ({links.run}): AWS and the code agree again."
    return [*close(drift, clean), *runs_again, *planned, *close(undeployed, clean)]


def decide(results: list[Result], issues: list[Issue], links: Links) -> dict[str, list[Action]]:
    """Per stack, in order of name, the actions that bring its issues in line with its result."""
    # The oldest issue of a title wins should a person have opened a second one.
    by_title = {issue.title: issue for issue in sorted(issues, key=lambda issue: -issue.number)}
    return {result.stack: actions_for(result, by_title, links) for result in sorted(results, key=lambda r: r.stack)}


def gh_command(action: Action) -> list[str]:
    match action:
        case Open(title, body):
            return ["gh", "issue", "create", "--title", title, "--body", body, "--label", LABEL]
        case Edit(number, body):
            return ["gh", "issue", "edit", str(number), "--body", body]
        case Comment(number, text):
            return ["gh", "issue", "comment", str(number), "--body", text]
        case Close(number, comment):
            return ["gh", "issue", "close", str(number), "--comment", comment]


def describe(action: Action) -> str:
    match action:
        case Open(title, _):
            return f"opens “{title}”"
        case Edit(number, _):
            return f"updates #{number}"
        case Comment(number, _):
            return f"comments on #{number}"
        case Close(number, _):
            return f"closes #{number}"


def summary(results: list[Result], decided: dict[str, list[Action]], issues: list[Issue]) -> str:
    """The run's summary: one row per stack, then the drift issues this run had no result for."""
    lines = ["## Drift check", "", "| stack | plan | issues |", "|---|---|---|"]
    plans = {
        Status.CLEAN: "no changes",
        Status.DRIFT: "**drift**",
        Status.UNDEPLOYED: "**merged, not deployed**",
        Status.FAILED: "**plan failed**",
        Status.WAITING: "not deployable yet",
    }
    for result in sorted(results, key=lambda r: r.stack):
        plan = plans.get(result.status) or f"skipped: {'; '.join(result.lines)}"
        done = ", ".join(describe(action) for action in decided[result.stack]) or "-"
        lines.append(f"| `{result.stack}` | {plan} | {done} |")
    checked = {title(r.stack) for r in results for title in TITLES}
    unchecked = [f"- #{i.number} {i.title}" for i in sorted(issues, key=lambda i: i.number) if i.title not in checked]
    if unchecked:
        lines += ["", "Open `drift` issues without a result in this run (left as they are):", *unchecked]
    return "\n".join(lines) + "\n"
