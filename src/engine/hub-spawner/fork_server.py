"""A fork server for the learners' Jupyter servers (started by the class hub's config).

A learner's server spends most of its start importing Python modules: JupyterHub's
single-user app pulls in JupyterHub's handlers, its database layer and migrations,
then Notebook. With a class of 30 starting at once on two cores, that is half a
minute of CPU. Here it is done once: this process, started by the hub as root,
imports the single-user app, then forks a copy of itself for each server, which
drops to the learner's uid, groups and home and runs the app as
`jupyterhub-singleuser` would.

What it can be given, and how (the hub's side is ClassSpawner in class_spawner.py):
  - It talks only over one socket of a pair (SOCK_SEQPACKET: one message each) that
    the hub made and handed to it; nothing else can reach it, and it ends when the
    hub does (the socket closes).
  - A request is a number and one file descriptor, a pipe that will hold the server's
    command, environment and user. This process forks at once and never reads the
    pipe: the copy does. So the fork server's memory never holds a learner's token,
    and no learner's server inherits another's.
  - The reply echoes the number, with the copy's pid and a pidfd for it: the hub
    polls and signals the server through the pidfd, so a pid the system gives to
    another process once the server has ended is never signalled.
  - The copy closes every descriptor but 0-2 before it runs anything of the
    learner's, takes Python's own signal dispositions back, sets the learner's groups,
    gid and uid (and checks that root cannot be had back), and when anything Python
    read at start or import would differ for this server (the app chosen, Python's
    own variables, the locale, a user site-packages folder), or the command is not
    the one imported, it execs the command instead: the result is then what the
    hub's own spawner would have started.
"""
import atexit
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

#: What Python or the single-user app read when this process started and imported them:
#: a server whose environment differs in any of these gets the real command instead.
IMPORT_TIME = ("JUPYTERHUB_SINGLEUSER_APP", "LANG", "LC_ALL", "LC_CTYPE", "SETUPTOOLS_USE_DISTUTILS")


def _environment_at_start():
    """This process's environment as it was given (Python sets LC_CTYPE itself when it coerces the locale)."""
    with open("/proc/self/environ", "rb") as f:
        pairs = [entry.split(b"=", 1) for entry in f.read().split(b"\0") if b"=" in entry]
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


_given = _environment_at_start()
imported_with = {key: _given.get(key) for key in IMPORT_TIME}
#: Python's own dispositions at start (it ignores SIGPIPE and SIGXFSZ), which the copy takes back.
AT_START = {sig: signal.getsignal(sig) for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD)}
USER_SITE = os.path.join(".local", "lib", "python%d.%d" % sys.version_info[:2], "site-packages")

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
    if os.getresuid() != (user.pw_uid,) * 3 or os.getresgid() != (user.pw_gid,) * 3 or set(os.getgroups()) != set(groups):
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
    # Started with -s, this Python has no user site; a learner's own is read only by a Python started anew.
    if argv[0] != SINGLEUSER or differs(env) or os.path.isdir(os.path.join(user.pw_dir, USER_SITE)):
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
        for sig, disposition in AT_START.items():
            signal.signal(sig, disposition)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.setsid()
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
        # As Python's own exit would, then out: the copy must never return into the fork server's loop.
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def start(pipe):
    """Forks a server for the request in `pipe`; returns its pid and a pidfd for it."""
    # SIGCHLD waits until the pidfd is open, so the copy cannot be collected (and its pid reused) before.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    try:
        pid = os.fork()
        if pid == 0:
            copy(pipe)
        return pid, os.pidfd_open(pid)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})


def reap(*_):
    """Servers are this process's children: collect them as they end, so that none is left a zombie."""
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
    hub.send(b"ready")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(hub, 64, 1)
        except ConnectionError:
            return
        if not message:
            return  # the hub has gone
        number = message.decode(errors="replace")
        if len(fds) != 1 or not number.isdigit():
            for fd in fds:
                os.close(fd)
            hub.send(f"{number[:20]} error: a request is a number and one descriptor".encode())
            continue
        try:
            pid, pidfd = start(fds[0])
        except OSError as error:
            hub.send(f"{number} error: {error}".encode())
        else:
            socket.send_fds(hub, [f"{number} {pid}".encode()], [pidfd])
            os.close(pidfd)
        finally:
            os.close(fds[0])


if __name__ == "__main__":
    main()
