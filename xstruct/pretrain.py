"""Pretraining recipe: one bilingual or monolingual MLM run, resumable, on CPU or GPU (DDP under torchrun).

`PretrainRecipe.setup()` builds data (`xstruct.pretrain_data`), model and optimizer from the config and resumes
from the run's last checkpoint; `train()` is the loop, read top to bottom; `export()` writes the per-language
Hugging Face views and metrics.json (`xstruct.run_log`). `pretrain()` does all three; `launch()` runs it under
torchrun when the job has several GPUs.

Paper recipe (§3.1): one language per batch, sampled ∝ (share of sentences)^alpha; continuous streams; 15% masked
80/10/10; Adam, linear warm-up then inverse square root; the checkpoint with the best English validation
perplexity is kept.
"""
from __future__ import annotations

import json
import math
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from .checkpoint import Checkpoints, fingerprint
from .configs import ModelConfig, PretrainConfig, check_fits
from .hardware import cpu_has_bf16, keep_freed_memory, resolve_device
from .io import atomic_write, write_json
from .model import MaskedLM, Sharing, train_flops_per_token
from .preemption import SIGNALS as PREEMPTION_SIGNALS
from .preemption import Preempted, PreemptionWatch
from .pretrain_data import PretrainData
from .run_log import run_metrics, write_log


def lr_factor(step: int, warmup: int, schedule: str, total: int) -> float:
    """Learning-rate multiplier after `step` updates: linear warm-up to 1, then the schedule's decay."""
    s, warm = step + 1, max(1, warmup)
    if s <= warm:
        return s / warm
    if schedule == "inverse_sqrt":
        return math.sqrt(warm / s)
    if schedule == "linear":
        return max(0.0, (total - s) / max(1, total - warm))
    return 1.0


class PretrainRecipe:
    def __init__(self, run: dict, model: ModelConfig, cfg: PretrainConfig, vocab_dir: str | Path,
                 out_dir: str | Path, checkpoint_dir: str | Path, dictionary: str | Path | None = None,
                 threads: int = 1):
        self.run, self.model_cfg, self.cfg = run, model, cfg
        self.vocab_dir, self.out_dir = Path(vocab_dir), Path(out_dir)
        self.checkpoint_dir, self.dictionary, self.threads = Path(checkpoint_dir), dictionary, threads
        self.stop_when = None     # optional (step, validation scores) -> bool, asked after each evaluation
        self.langs = list(run["langs"])
        cond = run["condition"]
        if cond["anchors"] == "dictionary" and (dictionary is None or len(self.langs) != 2):
            raise ValueError(f"run {run['id']}: anchors=dictionary needs two languages and a dictionary file")
        if cond["anchors"] == "dictionary" and cond["separate_embeddings"]:
            raise ValueError(f"run {run['id']}: code-switching mixes languages in a batch, so it needs shared "
                             "embeddings (condition separate=embeddings with anchors=dictionary)")
        check_fits(model, cfg)

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        self._setup_device()
        self.data = PretrainData(self.run, self.cfg, self.vocab_dir, self.dictionary, self.rank, self.world)
        self.total_steps, self.tokens_per_step = self.data.total_steps, self.data.tokens_per_step
        self._setup_model()
        self._setup_optimizer()
        self._resume()

    def _setup_device(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        cuda = resolve_device(self.cfg.device).type == "cuda"
        if cuda:
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(self.device)
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        else:
            self.device = torch.device("cpu")
            torch.set_num_threads(self.threads)
            keep_freed_memory()
        if self.world > 1:
            dist.init_process_group("nccl" if cuda else "gloo")
        self.bf16 = self.cfg.bf16 and (cuda or cpu_has_bf16())
        if self.cfg.bf16 and not self.bf16:
            self.say("bf16 autocast requested but this CPU has no bf16 instructions: training in fp32")
        torch.manual_seed(self.run["seed"])

    def _setup_model(self) -> None:
        cond = self.run["condition"]
        self.sharing = Sharing(tuple(self.langs), bool(cond["separate_embeddings"]), tuple(cond["separate_layers"]),
                               self.data.vocab_sizes)
        self.model = MaskedLM(self.model_cfg, self.sharing).to(self.device)
        self.separate_params = {l: [p for n, p in self.model.named_parameters() if l in n.split(".")]
                                for l in self.langs}
        self.train_model = self.model
        if self.world > 1:
            self.train_model = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device] if self.device.type == "cuda" else None,
                find_unused_parameters=len(self.langs) > 1 and any(self.separate_params.values()))
        if self.cfg.compile:
            self.train_model = torch.compile(self.train_model)

    def _setup_optimizer(self) -> None:
        cfg = self.cfg
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, betas=tuple(cfg.adam_betas),
                                           eps=cfg.adam_eps, weight_decay=cfg.weight_decay, fused=True)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, cfg.warmup_steps, cfg.schedule, self.total_steps))

    def _resume(self) -> None:
        setup = {"run": self.run, "model": asdict(self.model_cfg), "world": self.world, "bf16": self.bf16,
                 "pretrain": {k: v for k, v in asdict(self.cfg).items() if k not in PretrainConfig.SCHEDULE_ONLY},
                 "data": self.data.fingerprint}
        if self.cfg.curriculum or self.cfg.schedule == "linear":    # then the budget shapes the whole trajectory
            setup["total_steps"] = self.total_steps
        self.ckpt = Checkpoints(self.checkpoint_dir, fingerprint(setup), log=self.say)
        self.step, self.train_seconds, self.best, self.log_rows = 0, 0.0, None, []
        state = self.ckpt.load("last")
        if state is None:
            return
        if state["step"] > self.total_steps:
            self.ckpt.set_aside("last", "beyond-budget", f"at step {state['step']}, beyond this run's budget of "
                                f"{self.total_steps} steps: training restarts")
            return
        if state["best"] is not None and self.ckpt.load("best") is None:
            self.ckpt.set_aside("last", "orphaned", "without its best.pt (missing or set aside), whose weights it "
                                "cannot rebuild: training restarts from step 0 on the same trajectory")
            return
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.train_seconds = state["step"], state["train_seconds"]
        self.best, self.log_rows = state["best"], state["log"]
        mine = state["ranks"][self.rank]
        self.data.load_state_dict(mine)
        torch.set_rng_state(mine["torch_rng"])
        if self.device.type == "cuda":
            torch.cuda.set_rng_state(mine["cuda_rng"])
        grown = (f", continuing to a larger budget ({state['total_steps']} -> {self.total_steps} steps)"
                 if state.get("total_steps", self.total_steps) < self.total_steps else "")
        self.say(f"resumed {self.run['id']} from {self.ckpt.path('last')} at step {self.step}{grown}")

    # ------------------------------------------------------------------ train
    def train(self) -> None:
        cfg = self.cfg
        self.model.train()
        bar = tqdm(total=self.total_steps, initial=self.step, desc=self.run["id"], disable=self.rank != 0,
                   mininterval=2.0, dynamic_ncols=True)
        losses, t_log = [], time.perf_counter()
        if self.total_steps == 0 and self.best is None:     # untrained control: its initialisation is the model
            self.evaluate_and_keep_best()
            self.save_checkpoint()
        with PreemptionWatch(self.world, self.device) as preemption:
            while self.step < self.total_steps:
                lang, inputs, positions, targets = self.next_batch()
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    logits = self.train_model(inputs, lang, positions)
                loss = F.cross_entropy(logits.float(), targets)
                loss.backward()
                for other in self.langs:      # the other language's separate parts get no update at all (DDP)
                    if other != lang:
                        for p in self.separate_params[other]:
                            p.grad = None
                if cfg.clip_norm:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_norm)
                self.optimizer.step()
                self.scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
                self.step += 1
                losses.append(loss.detach())
                bar.update(1)

                if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                    mean = torch.stack(losses).mean().item()      # waits for the device
                    now = time.perf_counter()
                    tok_s = len(losses) * self.tokens_per_step / (now - t_log)
                    self.train_seconds += now - t_log
                    self.log_row(split="train", lang="all", loss=mean, lr=self.scheduler.get_last_lr()[0],
                                 tokens_per_s=round(tok_s))
                    bar.set_postfix(loss=f"{mean:.3f}", tok_s=f"{tok_s:,.0f}")
                    losses, t_log = [], now
                t_side = time.perf_counter()
                if self.step % cfg.eval_every == 0 or self.step == self.total_steps:
                    self.evaluate_and_keep_best()
                if self.step % cfg.checkpoint_every == 0 or self.step == self.total_steps or preemption.requested():
                    self.save_checkpoint()
                    if preemption.signum is not None:
                        bar.close()
                        self.say(f"caught {preemption.name} at step {self.step}: checkpoint saved to "
                                 f"{self.ckpt.path('last')}; rerun to resume")
                        raise preemption.exit()
                t_log += time.perf_counter() - t_side     # validation and checkpoints are not training time
        bar.close()

    def next_batch(self) -> tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]:
        lang, inputs, positions, targets = self.data.batch(self.step)
        dev = self.device
        return lang, inputs.to(dev, non_blocking=True), positions.to(dev, non_blocking=True), targets.to(dev)

    @torch.no_grad()
    def evaluate(self) -> dict[str, dict[str, float]]:
        """Validation MLM perplexity and accuracy per language, on the same masks every time; `masked_acc` with
        every predicted position masked (what the plateau measure compares)."""
        self.model.eval()
        out = {}
        for lang in self.langs:
            nll, correct, masked_correct, n = 0.0, 0, 0, 0
            for (inputs, positions, targets), (masked, _, _) in zip(self.data.valid_batches(lang),
                                                                    self.data.valid_batches(lang, every_masked=True)):
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    logits = self.model(inputs.to(self.device), lang, positions.to(self.device)).float()
                    masked_logits = self.model(masked.to(self.device), lang, positions.to(self.device)).float()
                targets = targets.to(self.device)
                nll += F.cross_entropy(logits, targets, reduction="sum").item()
                correct += int((logits.argmax(-1) == targets).sum())
                masked_correct += int((masked_logits.argmax(-1) == targets).sum())
                n += len(targets)
            out[lang] = {"loss": nll / n, "ppl": math.exp(nll / n), "acc": correct / n, "masked_acc": masked_correct / n}
        self.model.train()
        return out

    def evaluate_and_keep_best(self) -> None:
        if self.rank != 0:
            return
        scores = self.evaluate()
        for lang, s in scores.items():
            self.log_row(split="valid", lang=lang, **s)
        if self.stop_when is not None and self.stop_when(self.step, scores):
            self.total_steps = self.step      # a study that only needs to see a threshold crossed ends here
        key = "en" if "en" in self.langs else self.langs[0]
        if self.best is None or scores[key]["ppl"] < self.best["scores"][key]["ppl"]:
            self.best = {"step": self.step, "scores": scores}
            self.ckpt.save("best", {"step": self.step, "model": self.model.state_dict()})

    def log_row(self, **row) -> None:
        self.log_rows.append({"step": self.step, "tokens": self.step * self.tokens_per_step,
                              "elapsed_s": round(self.train_seconds, 2), **row})

    def save_checkpoint(self) -> None:
        """last.pt: everything a resumed run needs to continue exactly, with every rank's random state."""
        mine = {**self.data.state_dict(), "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state() if self.device.type == "cuda" else None}
        ranks = [mine]
        if self.world > 1:
            ranks = [None] * self.world
            dist.all_gather_object(ranks, mine)
        if self.rank != 0:
            return
        self.ckpt.save("last", {"step": self.step, "total_steps": self.total_steps, "model": self.model.state_dict(),
                                "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                                "train_seconds": self.train_seconds, "best": self.best, "log": self.log_rows,
                                "ranks": ranks})
        write_log(self.log_rows, self.checkpoint_dir / "log.csv")

    # ------------------------------------------------------------------ export
    def export(self) -> dict:
        """Write the per-language views, sharing.json, metrics.json and log.csv from the best checkpoint."""
        from .export import export_run
        if self.rank != 0:
            return {}
        best = self.ckpt.load("best")
        if best is None:
            raise RuntimeError(f"{self.ckpt.path('best')}: no best checkpoint to export (training did not evaluate)")
        bad = [k for k, v in best["model"].items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if bad:
            raise RuntimeError(f"{self.ckpt.path('best')}: non-finite weights in {bad[0]} (training diverged); "
                               f"not exported: lower pretrain.lr or check the data, then delete the checkpoints")
        self.model.load_state_dict(best["model"])
        metrics = self.metrics()
        export_run(self.model, self.data.maps, self.vocab_dir, self.out_dir, self.run, metrics)
        write_log(self.log_rows, self.out_dir / "log.csv")
        write_json(self.out_dir / "metrics.json", metrics)
        return metrics

    def metrics(self) -> dict:
        data = self.data
        vocab = max(data.vocab_sizes.values())     # the softmax one language's predictions go through
        return run_metrics(
            self.run, self.log_rows, self.best, data.plateau_baselines(), self.step, self.tokens_per_step,
            self.train_seconds,
            train_flops_per_token=train_flops_per_token(self.model_cfg, self.cfg.seq_len, vocab, self.cfg.mask_rate),
            parameters=self.model.num_parameters(),
            device=torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu",
            threads=self.threads, world_size=self.world, bf16=self.bf16,
            peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            sampling_probs=data.probs)

    def say(self, msg: str) -> None:
        if int(os.environ.get("RANK", "0")) == 0:
            print(msg, file=sys.stderr, flush=True)


def pretrain(run: dict, model: dict, pretrain: dict, vocab_dir: str, out_dir: str, checkpoint_dir: str,
             dictionary: str | None = None, threads: int = 1) -> dict:
    """Train (or resume) one run and export it; returns its metrics."""
    recipe = PretrainRecipe(run, ModelConfig.from_dict(model), PretrainConfig.from_dict(pretrain), vocab_dir,
                            out_dir, checkpoint_dir, dictionary, threads)
    recipe.setup()
    try:
        recipe.train()
        return recipe.export()
    finally:
        if recipe.world > 1:
            dist.destroy_process_group()


def _die_with_parent() -> None:
    """In the torchrun child (Linux): if the launcher is killed, torchrun gets SIGTERM and the ranks checkpoint."""
    if sys.platform.startswith("linux"):
        import ctypes
        ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))      # PR_SET_PDEATHSIG


def launch(spec: dict, gpus: int = 0) -> None:
    """Run `pretrain(**spec)` here, or under torchrun with one process per GPU when there are several.

    Under torchrun a pre-emption signal sent to this launcher (SLURM signals the job's processes) is forwarded to
    torchrun, which forwards it to every rank (`--signals-to-handle`): the ranks checkpoint together and exit, and
    the launcher exits with 128 + the signal so the scheduler requeues the job. torchrun runs in its own session,
    so each signal reaches it once, through here (and SIGTERM if the launcher dies)."""
    if gpus <= 1:
        pretrain(**spec)
        return
    path = Path(spec["checkpoint_dir"]) / "launch.json"
    with atomic_write(path) as f:
        json.dump(spec, f)
    handled = ",".join(s.name for s in (*PREEMPTION_SIGNALS, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT))
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone",
                             f"--nproc_per_node={gpus}", f"--signals-to-handle={handled}",
                             "--shutdown-timeout=900",                # a paper-scale checkpoint takes a while
                             "-m", "xstruct.pretrain", str(path)], start_new_session=True,
                            preexec_fn=_die_with_parent)
    caught = []

    def forward(signum, _frame):
        if not caught:                   # once: a second signal would interrupt torchrun's orderly shutdown
            caught.append(signum)
            proc.send_signal(signum)
    previous = {s: signal.signal(s, forward) for s in (*PREEMPTION_SIGNALS, signal.SIGINT)}
    try:
        code = proc.wait()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if caught:
        raise Preempted(128 + caught[0])
    if code:
        raise subprocess.CalledProcessError(code, proc.args)


if __name__ == "__main__":   # torchrun entry point: python -m xstruct.pretrain spec.json
    pretrain(**json.loads(Path(sys.argv[1]).read_text()))
