"""Runs many `flashflow` commands as separate processes that share one interpreter start-up.

`python -m tests.workers.forked_cli COMMANDS.json` imports the CLI and what its commands load,
then forks one child per command. Each child is a real process of its own (own session, standard
output and error in the files named, environment, signals, exit code) that enters through
`workers.cli.run`, as the console script does; only the ~1 s of imports is shared, which keeps a
test that runs every command cheap on a small machine.

COMMANDS.json is a list of {"label", "argv", "env", "stdout", "stderr"}. Standard output gets
`started LABEL PID` per child, then `exited LABEL CODE` as each one ends; it exits when all have.
"""

from __future__ import annotations

import json
import os
import sys


def _preload() -> None:
    import jobs.boot  # noqa: F401 - broker, actors, runtime
    import workers.cli  # noqa: F401
    import workers.demo  # noqa: F401
    import workers.scheduler  # noqa: F401
    import workers.worker  # noqa: F401


def _child(command: dict) -> None:
    os.setsid()
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    for fd, path in ((1, command["stdout"]), (2, command["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.environ.clear()
    os.environ.update(command["env"])
    sys.argv = ["flashflow", *command["argv"]]
    code = 1
    try:
        from workers.cli import run

        run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        sys.excepthook(*sys.exc_info())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    commands = json.loads(open(sys.argv[1]).read())
    _preload()
    running = {}
    for command in commands:
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(command)
        running[pid] = command["label"]
        print(f"started {command['label']}\t{pid}", flush=True)
    while running:
        pid, status = os.wait()
        label = running.pop(pid, None)
        if label is not None:
            print(f"exited {label}\t{os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    main()
