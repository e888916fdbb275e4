"""Pre-emption: a cluster (SLURM's --signal, scancel, a requeue) asks a training job to stop. The job finishes
its current step, checkpoints, and exits with 128 + the signal, so the scheduler requeues it and the rerun
resumes; under DDP every rank stops at the same step."""
from __future__ import annotations

import signal

import torch
import torch.distributed as dist

SIGNALS = (signal.SIGTERM, signal.SIGUSR1)     # SLURM: --signal=USR1@<seconds>, scancel, requeue


class Preempted(SystemExit):
    """Raised after a signal-triggered checkpoint so the job exits non-zero and the scheduler can requeue it."""


class PreemptionWatch:
    """While entered, SIGTERM/SIGUSR1 only record themselves; `requested()` says (on every rank) whether to stop."""

    def __init__(self, world: int = 1, device: torch.device | None = None):
        self.world, self.device, self.signum = world, device, None

    def __enter__(self) -> PreemptionWatch:
        def handler(signum, _frame):
            self.signum = signum
        self._previous = {s: signal.signal(s, handler) for s in SIGNALS}
        for s in SIGNALS:      # restart the system call a signal lands in: a collective (gloo) or a checkpoint
            signal.siginterrupt(s, False)  # write in C++ would otherwise fail with EINTR instead of finishing
        return self

    def __exit__(self, *exc) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)

    def requested(self) -> bool:
        stop = self.signum is not None
        if self.world > 1:     # every rank must take the (collective) checkpoint step together
            flag = torch.tensor([float(stop)], device=self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            stop = bool(flag.item())
            if stop and self.signum is None:
                self.signum = signal.SIGTERM
        return stop

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    def exit(self) -> Preempted:
        return Preempted(128 + self.signum)
