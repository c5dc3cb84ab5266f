"""A fork server for the learners' Jupyter servers (started by the class hub's config).

A learner's server spends most of its start importing Python modules: JupyterHub's
single-user app pulls in JupyterHub's handlers, its database layer and migrations,
then Notebook. With a class of 30 starting at once on two cores, that is half a
minute of CPU. Here it is done once: this process, started by the hub as root,
imports the single-user app, then forks a copy of itself for each server, which
drops to the learner's uid, groups and home and runs the app as
`jupyterhub-singleuser` would.

What it can be given, and how (the hub's side is ClassSpawner in the config):
  - It talks only over one socket of a pair the hub made and handed to it; nothing
    else can reach it, and it ends when the hub does (the socket closes).
  - A request is one byte and one file descriptor, a pipe holding the server's
    command, environment and user. This process forks at once and never reads the
    pipe: the copy does. So the fork server's memory never holds a learner's token,
    and no learner's server inherits another's.
  - The copy closes every descriptor but 0-2 before it runs anything of the
    learner's, sets the learner's groups, gid and uid (and checks that root cannot
    be had back), and when anything Python read at import time would differ for this
    server (the app chosen, Python's own variables, the locale), or the command is
    not the one imported, it execs the command instead: the result is then exactly
    what the hub's own spawner would have started.
"""
import grp
import json
import os
import pwd
import random
import signal
import socket
import sys
import tempfile
import traceback

SINGLEUSER = sys.argv[1]
HUB_FD = int(sys.argv[2])

#: What Python or the single-user app read when this process imported them: a server
#: whose environment differs in any of these gets the real command instead.
IMPORT_TIME = ("JUPYTERHUB_SINGLEUSER_APP", "LANG", "LC_ALL", "LC_CTYPE", "SETUPTOOLS_USE_DISTUTILS")
imported_with = {key: os.environ.get(key) for key in IMPORT_TIME}

import jupyterhub.singleuser  # noqa: E402  (the point of this process)
import notebook.notebookapp  # noqa: E402,F401


def differs(env):
    """Whether a server with this environment would have imported differently."""
    if any(key.startswith("PYTHON") for key in env):
        return True
    return any(env.get(key) != value for key, value in imported_with.items())


def become(request):
    """In the copy, still root: become the learner's server (or exec its command)."""
    user = pwd.getpwnam(request["user"])
    if user.pw_uid == 0:
        raise PermissionError("a learner's server never runs as root")
    groups = [g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem]
    os.setgid(user.pw_gid)
    os.setgroups(groups)
    os.setuid(user.pw_uid)
    if os.getresuid() != (user.pw_uid,) * 3 or os.getresgid() != (user.pw_gid,) * 3 or os.getgroups() != groups:
        raise PermissionError("the server's uid, gid or groups are not the learner's")
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise PermissionError("root could be had back")
    try:
        os.chdir(user.pw_dir)
    except OSError:
        os.chdir(tempfile.gettempdir())
    argv, env = request["argv"], request["env"]
    if argv[0] != SINGLEUSER or differs(env):
        os.execve(argv[0], argv, env)
    os.environ.clear()
    os.environ.update(env)
    random.seed()  # the fork server's state is every copy's: each server draws its own
    sys.argv = list(argv)
    return jupyterhub.singleuser.main()


def copy(pipe):
    """The forked copy: nothing of the fork server's stays open, then the request is read and run. Never returns."""
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(pipe, 3)
        os.closerange(4, os.sysconf("SC_OPEN_MAX"))
        with os.fdopen(3, "rb") as f:
            request = json.loads(f.read())
        code = become(request) or 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def start(pipe):
    """Forks a server for the request in `pipe`; returns its pid."""
    pid = os.fork()
    if pid == 0:
        copy(pipe)
    return pid


def reap(*_):
    """Servers are this process's children: collect them as they end, so that the hub sees them gone."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main():
    hub = socket.socket(fileno=HUB_FD)
    signal.signal(signal.SIGCHLD, reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the hub stops the servers, then this ends with it
    hub.sendall(b"ready\n")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(hub, 1, 1)
        except ConnectionError:
            return
        if not message:
            return  # the hub has gone
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            hub.sendall(b"error: a request is one descriptor\n")
            continue
        try:
            pid = start(fds[0])
        except OSError as error:
            hub.sendall(f"error: {error}\n".encode())
        else:
            hub.sendall(f"{pid}\n".encode())
        finally:
            os.close(fds[0])


if __name__ == "__main__":
    main()
