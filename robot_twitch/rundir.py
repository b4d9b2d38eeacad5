"""A run directory's status.json, and the checks made before a run writes anything.

status.json says what happened to a run: ``running`` (with the process id, the host and a
heartbeat refreshed at least every ``HEARTBEAT_S`` of wall time), ``interrupted`` (a signal
stopped it; resumable), ``diverged`` (the physics blew up: time and first bad quantity),
``killed`` (found ``running`` although its process is gone: SIGKILL, power loss) or
``complete``. :func:`describe_status` tells a live run from a dead one, so that
``--resume``, ``report`` and the next run do not trust a stale ``running``.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from robot_twitch.errors import ConfigError

STATUS_FILE = "status.json"
INCOMPLETE_SUFFIX = ".incomplete"
#: A running run rewrites its heartbeat at least this often [wall s].
HEARTBEAT_S = 30.0
#: A heartbeat older than this means the run is dead even if its pid exists (pid reuse, other host).
STALE_AFTER_S = 600.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


def write_status(run_dir: Path, status: str, **extra: Any) -> None:
    """Write status.json atomically; a ``running`` status carries pid, host and heartbeat."""
    data: dict[str, Any] = {"status": status, "updated": _now().isoformat(timespec="seconds")}
    if status == "running":
        data.update(pid=os.getpid(), host=socket.gethostname(), heartbeat=_now().isoformat(timespec="seconds"))
    data.update(extra)
    tmp = run_dir / (STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(run_dir / STATUS_FILE)


def read_status(run_dir: Path) -> dict[str, Any] | None:
    """status.json as a dict, or None if it is missing or unreadable."""
    try:
        data = json.loads((run_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except (OSError, OverflowError, ValueError):
        return False
    return True


def is_live(status: dict[str, Any]) -> bool:
    """True if a ``running`` status belongs to a process that is still running it."""
    if status.get("status") != "running":
        return False
    try:
        beat = datetime.fromisoformat(str(status.get("heartbeat")))
        age_s = (_now() - beat).total_seconds()
    except ValueError:
        return False
    if age_s > STALE_AFTER_S:
        return False
    pid = status.get("pid")
    if status.get("host") != socket.gethostname() or not isinstance(pid, int):
        return True  # another machine: only the heartbeat can tell
    return _pid_alive(pid)


def describe_status(run_dir: Path) -> str:
    """One phrase: what happened to the run in `run_dir`."""
    status = read_status(run_dir)
    if status is None:
        return "has no readable status.json"
    state = status.get("status")
    if state == "running":
        if is_live(status):
            return f"is running (pid {status.get('pid')} on {status.get('host')}, heartbeat {status.get('heartbeat')})"
        return (f"was killed or crashed (its status says running, but pid {status.get('pid')} on "
                f"{status.get('host')} is gone; last heartbeat {status.get('heartbeat')})")
    if state == "killed":
        return f"was killed or crashed (last heartbeat {status.get('heartbeat')})"
    if state == "interrupted":
        return f"was interrupted (checkpoint at {status.get('resume_from_s')} s)"
    if state == "diverged":
        return f"diverged at t = {status.get('time_s')} s ({status.get('quantity')})"
    return f"is {state}"


def mark_dead_runs(out: Path) -> list[Path]:
    """Rewrite ``running`` to ``killed`` in every incomplete run under `out` whose process is gone."""
    marked = []
    if not out.is_dir():
        return marked
    for run_dir in sorted(out.glob(f"*{INCOMPLETE_SUFFIX}")):
        status = read_status(run_dir)
        if status is not None and status.get("status") == "running" and not is_live(status):
            try:
                write_status(run_dir, "killed", **{k: v for k, v in status.items() if k not in ("status", "updated")},
                             detected=_now().isoformat(timespec="seconds"))
            except OSError:
                continue
            marked.append(run_dir)
    return marked


def check_writable_folder(folder: Path, what: str = "output folder") -> None:
    """Create `folder` if needed and check that files can be written into it; ConfigError if not."""
    folder = Path(folder)
    for parent in (folder, *folder.parents):
        if parent.exists() and not parent.is_dir():
            raise ConfigError(folder, None, f"cannot create the {what}: {parent} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except PermissionError:
        raise ConfigError(folder, None, f"cannot write into the {what}: permission denied") from None
    except OSError as exc:
        raise ConfigError(folder, None, f"cannot write into the {what}: {exc.strerror or exc}") from None
