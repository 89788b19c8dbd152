"""The work queue."""

from __future__ import annotations

# @release-insert


class WorkQueue:
    def __init__(self, jobs: list[str]) -> None:
        self.pending = list(jobs)

    def next_job(self) -> str:
        return self.pending.pop(0)


def next_job(jobs: list[str], count: int) -> list[str]:
    queue = WorkQueue(jobs)
    taken: list[str] = []
    while len(taken) < count:
        taken.append(queue.next_job())
    return taken
