"""Servers that misbehave the way real mail servers do, on a local port, for tests.

- `SilentServer` accepts every connection and never says a word: a mail server (or a Redis) that hangs. A
  client without a timeout waits on it for ever.
- `RefusingSmtpServer` speaks enough SMTP to take a message and then refuses it with 554 at DATA, as a
  server does for a message it considers spam or a mailbox it will not deliver to.

Both run in a daemon thread and are context managers: leaving the `with` block closes every connection and
the listening socket and joins the threads, so no test leaves anything running. `deadline` turns a hang into a
failure, so a test of a hang never hangs itself.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from types import TracebackType

import pytest

HOST = "127.0.0.1"
POLL_SECONDS = 0.05


class _LocalServer:
    """Listens on 127.0.0.1 (a free port); `handle(connection)` runs in the accepting thread for each client."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((HOST, 0))
        self._listener.listen(16)
        self._listener.settimeout(POLL_SECONDS)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accepted = 0
        self._acceptor = threading.Thread(target=self._accept, name=f"{type(self).__name__}:{self.port}", daemon=True)

    @property
    def accepted(self) -> int:
        """How many connections clients have made so far."""
        with self._lock:
            return self._accepted

    def start(self) -> _LocalServer:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=5)
        with self._lock:
            connections, self._connections = self._connections, []
            threads, self._threads = self._threads, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        for thread in threads:
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self):
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._accepted += 1
                self._connections.append(connection)
            self.handle(connection)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def handle(self, connection: socket.socket) -> None:
        raise NotImplementedError


class SilentServer(_LocalServer):
    """Accepts and holds every connection, and never sends or reads a byte."""

    def handle(self, connection: socket.socket) -> None:
        pass  # kept open in self._connections until stop()


class RefusingSmtpServer(_LocalServer):
    """Answers SMTP politely until the command `at` (DATA by default), which it refuses with `reply` (554 by
    default). Counts the refusals."""

    def __init__(self, reply: str = "554 5.7.1 Message rejected as spam", at: bytes = b"DATA") -> None:
        super().__init__()
        self.reply = reply
        self.at = at
        self.refused = 0

    def handle(self, connection: socket.socket) -> None:
        self._spawn(self._converse, connection)

    def _converse(self, connection: socket.socket) -> None:
        connection.settimeout(POLL_SECONDS)
        pending = b""

        def say(line: str) -> None:
            connection.sendall(line.encode() + b"\r\n")

        try:
            say("220 refusing.test ESMTP")
            while not self._stopping.is_set():
                try:
                    chunk = connection.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                pending += chunk
                while b"\r\n" in pending:
                    line, pending = pending.split(b"\r\n", 1)
                    verb = line.split(b" ", 1)[0].upper()
                    if verb in {b"EHLO", b"HELO"}:
                        say("250 refusing.test")
                    elif verb == self.at:
                        with self._lock:
                            self.refused += 1
                        say(self.reply)
                    elif verb in {b"MAIL", b"RCPT", b"RSET", b"NOOP"}:
                        say("250 OK")
                    elif verb == b"QUIT":
                        say("221 Bye")
                        return
                    else:
                        say("502 Command not implemented")
        except OSError:
            return


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail the test if the block is still running after `seconds` (the main thread only: it uses SIGALRM).

    The alarm interrupts a blocking socket read and raises pytest's failure, which is not an `Exception`, so
    no `except Exception` in the code under test can record it as an ordinary error and carry on.
    """

    def expire(signum, frame) -> None:
        pytest.fail(f"still waiting after {seconds} s: something has no timeout")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
