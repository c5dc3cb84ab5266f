"""The class hub's spawner (imported by the hub's config, run by JupyterHub as root).

JupyterHub's LocalProcessSpawner, with two changes made for a class of 30 whose
servers start at once on a small machine:

- Each learner's server gets a port of its own. JupyterHub picks a port by binding
  to port 0, closing, and passing the number on; with 30 servers and their kernels
  starting at once two of them are sometimes given the same one (180 such picks in a
  row repeat one or more most times), and the hub then takes another server's answer
  for this one's. These ports come from below the range the system hands out for
  port 0, so no random pick can take one, and no two learners are given the same. A
  port something else holds (on any address, IPv4 or IPv6) is passed over, and a
  server is taken for the learner's only once the learner's own account listens on
  its port: another learner who starts listening there in between gets the start
  refused, never the learner's browser, and the port is given up, so the next start
  gets another. Ports are picked at random in the range, so nobody can know ahead
  which port a learner's next server will have.
- A server is forked from fork_server.py, which has imported the
  single-user app once, instead of started as a new Python (see that file for what
  it may do and why it cannot make a server different). When the fork server cannot
  start one, the server is started as a process of its own, as before. A forked
  server is not the hub's child, and the fork server collects it as soon as it ends,
  so the hub holds it by a pidfd: its pid, once free, may be any process's.
"""
import asyncio
import json
import os
import pwd
import random
import select
import signal
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


def _bindable(port, listened):
    """Whether a server could listen on `port` now, and nothing listens there on any address
    (`listened`, from `_listeners()`; SO_REUSEADDR, as Tornado binds: a port in TIME_WAIT is free)."""
    if port in listened:
        return False
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
            return True
        except OSError:
            return False


class ServerPorts:
    """Which learner's server has which port, for the hub's life."""

    def __init__(self, learners):
        self.given = {}
        self.pick = random.SystemRandom()

    def port_for(self, user):
        # the tables are read once: a learner listening on thousands of ports must not make
        # each probe read them all again (the hub waits, for every learner, while this runs)
        listened = _listeners()
        mine = self.given.get(user)
        if mine is not None and _bindable(mine, listened):
            return mine
        others = {p for u, p in self.given.items() if u != user}
        size = PORTS_TO - PORTS_FROM
        first = self.pick.randrange(size)
        for step in range(size):
            port = PORTS_FROM + (first + step) % size
            if port not in others and _bindable(port, listened):
                self.given[user] = port
                return port
        raise RuntimeError(f"no free port for a learner's server from {PORTS_FROM} to {PORTS_TO}")

    def give_up(self, user):
        """The learner's port is another's now: their next start picks a new one."""
        self.given.pop(user, None)


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
        self.number = 0
        self.lock = asyncio.Lock()

    def _start(self):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {k: v for k, v in os.environ.items() if k in IMPORT_ENV}
        env.update({k: v for k, v in self.environment.items() if k == "SETUPTOOLS_USE_DISTUTILS"})
        self.process = subprocess.Popen(
            # -s: no user site-packages (root's); a learner's own makes the copy exec instead
            [sys.executable, "-s", os.path.join(HERE, "fork_server.py"), self.singleuser, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the hub, which stops the servers; this ends with it
        )
        theirs.close()
        self.socket = mine
        if self.socket.recv(64) != b"ready":
            raise ConnectionError("the fork server did not start")

    def _end(self):
        """After a request that went wrong: a fork server out of step is never asked again."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.socket is not None:
            self.socket.close()
        self.process = self.socket = None

    def _fork(self, payload):
        """Blocking: hands the fork server a pipe for the request; returns the server's pid and pidfd."""
        if self.process is None or self.process.poll() is not None:
            self._end()
            self._start()
        self.number += 1
        read, write = os.pipe()
        with os.fdopen(write, "wb") as request:
            try:
                socket.send_fds(self.socket, [str(self.number).encode()], [read])
            finally:
                os.close(read)
            try:
                message, fds, _, _ = socket.recv_fds(self.socket, 64, 1)
                number, _, answer = message.decode().partition(" ")
                if number != str(self.number) or not answer.isdigit() or len(fds) != 1:
                    for fd in fds:
                        os.close(fd)
                    raise ConnectionError(f"the fork server answered {message[:80]!r}")
            except BaseException:
                self._end()  # a copy it may have forked reads no request (the pipe closes empty) and ends
                raise
            # Only now the request: a copy whose pid the hub does not know never gets one.
            request.write(payload)
        return int(answer), fds[0]

    async def fork(self, user, argv, env):
        payload = json.dumps({"user": user, "argv": argv, "env": env}).encode()
        async with self.lock:
            return await asyncio.get_running_loop().run_in_executor(None, self._fork, payload)


def _listeners():
    """Each port something listens on, on any address, with the uids of its sockets (from /proc/net/tcp and tcp6)."""
    ports = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 7 and fields[3] == "0A":
                ports.setdefault(int(fields[1].rsplit(":", 1)[1], 16), set()).add(int(fields[7]))
    return ports


def _listening(port):
    """The uids of the sockets listening on `port`, on any address."""
    return _listeners().get(port, set())


def class_spawner(learners):
    """The spawner class for a class of `learners`."""
    ports = ServerPorts(learners)

    class ClassSpawner(LocalProcessSpawner):
        forks = None
        pidfd = None

        async def start(self):
            self.port = ports.port_for(self.user.name)
            address = await self._start_server()
            await self._listening_as_learner()
            return address

        async def _start_server(self):
            cmd = list(self.cmd) + self.get_args()
            if self.shell_cmd or self.popen_kwargs:
                return await super().start()
            if ClassSpawner.forks is None:
                ClassSpawner.forks = ForkServer(self.cmd[0], self.environment)
            try:
                pid, pidfd = await ClassSpawner.forks.fork(self.user.name, cmd, self.get_env())
            except (OSError, ValueError) as error:
                self.log.warning("The fork server could not start %s's server (%s): starting it as a process of its own", self.user.name, error)
                return await super().start()
            self.log.info("Forked %s's server (pid %d)", self.user.name, pid)
            self.proc = None  # not the hub's child: it is polled and signalled through its pidfd
            self.pid, self.pidfd = pid, pidfd
            return (self.ip or "127.0.0.1", self.port)

        async def _listening_as_learner(self):
            """Waits until the server listens; a listener of another account's on its port (which another learner
            could bind first) is refused, so the hub never takes someone else's server for the learner's."""
            uid = pwd.getpwnam(self.user.name).pw_uid
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.start_timeout
            while loop.time() < deadline:
                owners = _listening(self.port)
                if owners - {uid}:
                    await self.stop(now=True)
                    ports.give_up(self.user.name)
                    raise RuntimeError(f"port {self.port} of {self.user.name}'s server is held by another account (uid {sorted(owners - {uid})})")
                if owners:
                    return
                if await self.poll() is not None:
                    raise RuntimeError(f"{self.user.name}'s server ended before it listened on port {self.port}")
                await asyncio.sleep(0.05)

        async def poll(self):
            if self.pidfd is None:
                return await super().poll()
            if select.select([self.pidfd], [], [], 0)[0]:  # a pidfd is readable once its process has ended
                self.clear_state()
                return 0
            return None

        async def _signal(self, sig):
            if self.pidfd is None:
                return await super()._signal(sig)
            try:
                signal.pidfd_send_signal(self.pidfd, sig)
            except ProcessLookupError:
                return False
            return True

        def clear_state(self):
            super().clear_state()
            if self.pidfd is not None:
                os.close(self.pidfd)
                self.pidfd = None

    return ClassSpawner
