"""What every command shares: the one-line handling of user errors and interruptions, the progress bar."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from ..errors import UserError

EXIT_ERROR = 1
SHARED_MOCAP = Path(__file__).resolve().parents[3] / "shared" / "data" / "mocap"


class Progress:
    """tqdm bar on stderr for frames (rate and ETA); silent when quiet."""

    def __init__(self, quiet: bool, desc: str, total: int | None, position: int | None = None):
        self.bar = None
        if not quiet:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=desc, unit="frame", file=sys.stderr, dynamic_ncols=True,
                            position=position)
        self.done = 0

    def __call__(self, frames_done: int) -> None:
        if self.bar is not None:
            self.bar.update(frames_done - self.done)
        self.done = frames_done

    def close(self) -> None:
        if self.bar is not None:
            if self.bar.total is not None and self.done != self.bar.total:
                self.bar.total = self.done
                self.bar.refresh()
            self.bar.close()
            self.bar = None


class _Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a job scheduler's time limit) raised like Ctrl-C, so the same clean-up runs: without
    it the process died with its temporary output files and encoder left behind."""


def _raise_terminated(signum, frame):
    raise _Terminated()


def _run(handler, args, json_errors: bool = False) -> int:
    """handler(args) with the one-line errors and interruptions; json_errors: stdout is being read by a
    program (--json summaries), which then gets the error as a JSON object too."""
    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return handler(args)
    except UserError as e:
        print(f"vp3d: error: {e}", file=sys.stderr)
        if json_errors:
            where = {"input": str(args.input)} if hasattr(args, "input") else {}
            print(json.dumps({**where, "error": str(e), "exit_code": EXIT_ERROR}))
        return EXIT_ERROR
    except _Terminated:
        print("vp3d: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("vp3d: interrupted", file=sys.stderr)
        return 130
