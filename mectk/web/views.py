"""Laying a validation result out for pages: issues grouped by code, filtered and paged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import frozen

from mectk.issues import CATALOGUE, Issue

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@frozen
class IssueGroup:
    """Every issue of one code: its count, title, hint and the first examples."""

    code: str
    severity: str
    title: str
    hint: str
    count: int
    examples: tuple[Issue, ...]


def group_issues(issues: Sequence[Issue], examples: int) -> list[IssueGroup]:
    """Issues by code, errors first, then warnings, then information, then by code."""
    by_code: dict[str, list[Issue]] = {}
    for issue in issues:
        by_code.setdefault(issue.code, []).append(issue)
    groups = []
    for code, found in by_code.items():
        first = found[0]
        known = CATALOGUE.get(code)
        groups.append(
            IssueGroup(
                code=code,
                severity=first.severity,
                title=known.title if known else code,
                hint=first.hint,
                count=len(found),
                examples=tuple(found[:examples]),
            )
        )
    return sorted(groups, key=lambda g: (SEVERITY_ORDER.get(g.severity, 3), g.code))


@frozen
class IssuePage:
    """One page of the filtered issues, with what the filters can choose from."""

    issues: tuple[Issue, ...]
    total: int
    page: int
    pages: int
    first: int
    codes: tuple[str, ...]
    sheets: tuple[str, ...]
    severities: tuple[str, ...]


def issue_page(
    issues: Sequence[Issue], filters: Mapping[str, str], page: int, per_page: int
) -> IssuePage:
    """The issues matching ``filters`` (code, sheet, severity; empty means any), page ``page``
    (1-based, clamped to the pages there are)."""
    chosen = [
        i
        for i in issues
        if (not filters.get("code") or i.code == filters["code"])
        and (not filters.get("sheet") or (i.sheet or "") == filters["sheet"])
        and (not filters.get("severity") or i.severity == filters["severity"])
    ]
    pages = max(1, -(-len(chosen) // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return IssuePage(
        issues=tuple(chosen[start : start + per_page]),
        total=len(chosen),
        page=page,
        pages=pages,
        first=start + 1,
        codes=tuple(sorted({i.code for i in issues})),
        sheets=tuple(sorted({i.sheet or "" for i in issues} - {""})),
        severities=tuple(
            sorted({i.severity for i in issues}, key=lambda s: SEVERITY_ORDER.get(s, 3))
        ),
    )
