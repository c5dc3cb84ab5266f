"""The class hub's spawner (imported by the hub's config, run by JupyterHub as root).

JupyterHub's LocalProcessSpawner, with two changes made for a class of 30 whose
servers start at once on a small machine:

- Each learner's server gets a port of its own. JupyterHub picks a port by binding
  to port 0, closing, and passing the number on; with 30 servers and their kernels
  starting at once two of them are sometimes given the same one (180 such picks in a
  row repeat one or more most times), and the hub then takes another server's answer
  for this one's. These ports come from below the range the system hands out for
  port 0, so no random pick can take one, and no two learners are given the same. A
  port something else holds is passed over.
- With `fork_server`, a server is forked from fork_server.py, which has imported the
  single-user app once, instead of started as a new Python (see that file for what
  it may do and why it cannot make a server different). When the fork server cannot
  start one, the server is started as a process of its own, as before.
"""
import asyncio
import json
import os
import socket
import subprocess
import sys

from jupyterhub.spawner import LocalProcessSpawner

HERE = os.path.dirname(os.path.abspath(__file__))


def _random_ports_from():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


PORTS_TO = _random_ports_from()
PORTS_FROM = max(1024, PORTS_TO - 8192)


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("", port))
            return True
        except OSError:
            return False


class ServerPorts:
    """Which learner's server has which port, for the hub's life."""

    def __init__(self, learners):
        self.order = sorted(learners)
        self.given = {}

    def port_for(self, user):
        mine = self.given.get(user)
        if mine is not None and _bindable(mine):
            return mine
        others = {p for u, p in self.given.items() if u != user}
        size = PORTS_TO - PORTS_FROM
        first = self.order.index(user) if user in self.order else 0
        for step in range(size):
            port = PORTS_FROM + (first + step) % size
            if port not in others and _bindable(port):
                self.given[user] = port
                return port
        raise RuntimeError(f"no free port for a learner's server from {PORTS_FROM} to {PORTS_TO}")


#: What of the hub's environment a learner's server gets (LocalProcessSpawner's env_keep
#: default) that Python or the app read at import: the fork server imports with these.
IMPORT_ENV = ("PATH", "LANG", "LC_ALL", "JUPYTERHUB_SINGLEUSER_APP")


class ForkServer:
    """The hub's end of fork_server.py: one socket of a pair, one request at a time."""

    def __init__(self, singleuser, environment):
        self.singleuser = singleuser
        self.environment = dict(environment)
        self.process = None
        self.socket = None
        self.lock = asyncio.Lock()

    def _start(self):
        mine, theirs = socket.socketpair()
        env = {k: v for k, v in os.environ.items() if k in IMPORT_ENV}
        env.update({k: v for k, v in self.environment.items() if k == "SETUPTOOLS_USE_DISTUTILS"})
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fork_server.py"), self.singleuser, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the hub, which stops the servers; this ends with it
        )
        theirs.close()
        self.socket = mine
        self.lines = mine.makefile("rb")

    def _fork(self, payload):
        """Blocking: hands the fork server a pipe with the request, returns the server's pid."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        read, write = os.pipe()
        try:
            socket.send_fds(self.socket, [b"F"], [read])
        finally:
            os.close(read)
        with os.fdopen(write, "wb") as f:
            f.write(payload)
        while True:
            line = self.lines.readline().decode().strip()
            if not line:
                raise ConnectionError("the fork server has ended")
            if line != "ready":
                break
        if not line.isdigit():
            raise OSError(line)
        return int(line)

    async def fork(self, user, argv, env):
        payload = json.dumps({"user": user, "argv": argv, "env": env}).encode()
        async with self.lock:
            return await asyncio.get_running_loop().run_in_executor(None, self._fork, payload)


def class_spawner(learners, fork_server):
    """The spawner class for a class of `learners`; forks servers when `fork_server`."""
    ports = ServerPorts(learners)

    class ClassSpawner(LocalProcessSpawner):
        forks = None

        async def start(self):
            self.port = ports.port_for(self.user.name)
            cmd = list(self.cmd) + self.get_args()
            if not fork_server or self.shell_cmd or self.popen_kwargs:
                return await super().start()
            if ClassSpawner.forks is None:
                ClassSpawner.forks = ForkServer(self.cmd[0], self.environment)
            try:
                pid = await ClassSpawner.forks.fork(self.user.name, cmd, self.get_env())
            except (OSError, ValueError) as error:
                self.log.warning("The fork server could not start %s's server (%s): starting it as a process of its own", self.user.name, error)
                return await super().start()
            self.log.info("Forked %s's server (pid %d)", self.user.name, pid)
            self.proc = None  # not the hub's child: poll and stop go by pid, and the fork server collects it
            self.pid = pid
            return (self.ip or "127.0.0.1", self.port)

    return ClassSpawner
