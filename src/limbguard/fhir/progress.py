"""A rich progress bar on stderr for the long `limbguard` commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@contextmanager
def progress_bar(
    label: str, *, total: int | None, unit: str, enabled: bool = True
) -> Iterator[Callable[..., None]]:
    """Yield `update(done, total=None)`: set the bar to `done` of `total` (the size may
    be given, or changed, with each update; `None` at the start: not known yet).

    Drawn on stderr, so stdout keeps only the summary; a no-op when `enabled` is false
    or stderr is not a terminal (rich then prints nothing).
    """
    if not enabled:
        yield lambda done, total=None: None
        return
    columns = [
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)

        def update(done: int, total: int | None = None) -> None:
            if total is not None:
                progress.update(task, total=total)
            progress.update(task, completed=done)

        yield update
