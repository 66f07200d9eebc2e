"""execfarm driver for CPython >= 3.10 (standard library only).

Protocol (docs/driver-protocol.md): commands arrive as JSON lines on the original stdin; frames
leave as JSON lines on the original stdout. Both are moved to private descriptors before any user
code runs: fd 0 becomes /dev/null, and fds 1 and 2 become pipes whose bytes a reader thread
forwards as "output" frames, so writes from C libraries and child processes are captured too and
user code cannot write into the frame channel by printing.
"""

import ast
import builtins
import codecs
import ctypes
import json
import linecache
import os
import selectors
import signal
import sys
import threading
import time
import traceback

READ_CHUNK = 32 * 1024
MAX_TRACEBACK_CHARS = 16 * 1024
# A rendered value longer than this is cut; the output budget of the request applies too.
MAX_VALUE_CHARS = 1024 * 1024
DRIVER_PID = os.getpid()


class Channel:
    """Writes frames to the worker; shared by the main and reader threads."""

    def __init__(self, fd):
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, frame):
        data = (json.dumps(frame, ensure_ascii=True) + "\n").encode("ascii")
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]


class OutputPump(threading.Thread):
    """Forwards what user code writes to fds 1 and 2, as it arrives, within the request's budget."""

    def __init__(self, channel, stdout_r, stderr_r):
        super().__init__(name="execfarm-output", daemon=True)
        self._channel = channel
        self._streams = {stdout_r: "stdout", stderr_r: "stderr"}
        self._decoders = {}
        self._wake_r, self._wake_w = os.pipe()
        self._selector = selectors.DefaultSelector()
        for fd in (stdout_r, stderr_r, self._wake_r):
            os.set_blocking(fd, False)
            self._selector.register(fd, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._request_id = None
        self._budget = 0
        self._truncated = False
        self._drain_requested = threading.Event()
        self._drained = threading.Event()

    def begin(self, request_id, max_bytes):
        with self._lock:
            self._request_id = request_id
            self._budget = max_bytes
            self._truncated = False
            self._decoders = {fd: codecs.getincrementaldecoder("utf-8")("replace") for fd in self._streams}

    def finish(self):
        """Forwards everything written so far, then detaches the request; returns whether output was cut."""
        self._drained.clear()
        self._drain_requested.set()
        os.write(self._wake_w, b"x")
        self._drained.wait()
        with self._lock:
            for fd, decoder in self._decoders.items():
                self._emit(fd, decoder.decode(b"", final=True))
            truncated = self._truncated
            self._request_id = None
        return truncated

    def run(self):
        while True:
            for key, _ in self._selector.select():
                if key.fd == self._wake_r:
                    os.read(self._wake_r, 64)
                else:
                    self._read(key.fd)
            if self._drain_requested.is_set():
                self._drain_requested.clear()
                self._drain()
                self._drained.set()

    def _drain(self):
        # Every write that happened before the request finished is already in the pipes; a child
        # process that keeps writing would keep this loop busy forever, hence the bound.
        for _ in range(256):
            if not any(self._read(fd) for fd in self._streams):
                return

    def _read(self, fd):
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return False
        if not data:
            return False
        with self._lock:
            if self._request_id is None:
                return True
            if len(data) > self._budget:
                data = data[: self._budget]
                self._truncated = True
            self._budget -= len(data)
            self._emit(fd, self._decoders[fd].decode(data))
        return True

    def _emit(self, fd, text):
        if text and self._request_id is not None:
            self._channel.send({"ev": "output", "id": self._request_id, "stream": self._streams[fd], "text": text})


class Evaluator:
    """Runs code in a namespace; the value of a final expression is rendered with repr()."""

    def __init__(self):
        self._sessions = {}

    def namespace(self, session):
        if session is None:
            return self._fresh()
        return self._sessions.setdefault(session, self._fresh())

    @staticmethod
    def _fresh():
        return {"__name__": "__main__", "__builtins__": builtins}

    def run(self, code, namespace, keep_source, request_id):
        # Named after the request, so a traceback says which request a frame came from.
        filename = "<cell %s>" % request_id
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            return self._run(code, namespace, filename)
        finally:
            if not keep_source:
                linecache.cache.pop(filename, None)

    def _run(self, code, namespace, filename):
        try:
            tree = ast.parse(code, filename=filename, mode="exec")
        except (SyntaxError, ValueError) as e:
            return "error", None, error_of(e, None)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        try:
            exec(compile(tree, filename, "exec"), namespace)
            value = eval(compile(last, filename, "eval"), namespace) if last is not None else None
            return "ok", (None if value is None else repr(value)), None
        except SystemExit:
            raise
        except BaseException as e:
            return "error", None, error_of(e, e.__traceback__)
        finally:
            leave_if_forked()


def error_of(exc, tb):
    # Frames before the first user cell are the driver's own: not the user's business.
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell"):
        tb = tb.tb_next
    kind = type(exc)
    # Unqualified for built-ins and for what the user's own cells defined (their namespace is __main__).
    name = kind.__qualname__ if kind.__module__ in ("builtins", "__main__") else kind.__module__ + "." + kind.__qualname__
    stack = "".join(traceback.format_exception(kind, exc, tb))
    if len(stack) > MAX_TRACEBACK_CHARS:
        stack = stack[: MAX_TRACEBACK_CHARS // 2] + "\n...\n" + stack[-MAX_TRACEBACK_CHARS // 2 :]
    return {"type": name, "message": str(exc), "stacktrace": stack}


def leave_if_forked():
    """A child that user code forked must not return into the driver: it shares the frame channel
    and the command pipe, and would answer (or steal) requests as a second driver."""
    if os.getpid() != DRIVER_PID:
        os._exit(0)


def flush_c_stdio():
    try:
        ctypes.CDLL(None).fflush(None)
    except OSError:
        pass


def take_over_stdio():
    commands = os.fdopen(os.dup(0), "rb", buffering=0)
    channel = Channel(os.dup(1))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    return commands, channel, (stdout_r, stderr_r), (stdout_w, stderr_w)


def restore_stdio(writers):
    """Gives each request working fds 1 and 2 and sys streams, whatever the previous one did to them."""
    for fd, writer in zip((1, 2), writers):
        os.dup2(writer, fd)
    for name, fd in (("stdout", 1), ("stderr", 2)):
        original = getattr(sys, "__%s__" % name)
        if original is None or original.closed:
            original = open(fd, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
            setattr(sys, "__%s__" % name, original)
        original.reconfigure(write_through=True)
        setattr(sys, name, original)


def main():
    # The original stderr is the worker's log of this process (a file outside the sandbox; user code
    # could still write into it through this descriptor, so the worker treats it as untrusted text).
    log = os.dup(2)
    commands, channel, readers, writers = take_over_stdio()
    pump = OutputPump(channel, *readers)
    pump.start()
    evaluator = Evaluator()
    channel.send({"ev": "ready", "pid": os.getpid(), "runtime": "python", "version": sys.version.split()[0]})
    try:
        serve(commands, channel, writers, pump, evaluator)
    except Exception:
        # Outside any request (a request's own errors are its result): say what broke where the
        # worker will find it, then end, so the worker replaces this process.
        os.write(log, ("execfarm driver: fatal error outside any request: " + traceback.format_exc()).encode())
        os._exit(70)


def left_waiting():
    """What a request outside a session left to run later, as this process counts it, or None: an
    interval timer (alarm, setitimer) is no thread, and its signal would arrive during a later
    request. The worker retires a process for which this says something; it never keeps one for
    what this says, since user code owns the process and can make it say nothing."""
    for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
        if signal.getitimer(which)[0] > 0:
            return "an interval timer (alarm, setitimer)"
    return None


def serve(commands, channel, writers, pump, evaluator):
    while True:
        line = commands.readline()
        if not line:
            return
        command = json.loads(line)
        op = command.get("op")
        if op == "exec":
            restore_stdio(writers)
            session = command.get("session")
            pump.begin(command["id"], command["maxOutputBytes"])
            started = time.perf_counter()
            try:
                status, value, error = evaluator.run(command["code"], evaluator.namespace(session), session is not None,
                                                     command["id"])
            finally:
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except (AttributeError, OSError, ValueError):
                        pass
                flush_c_stdio()
            eval_us = int((time.perf_counter() - started) * 1e6)
            truncated = pump.finish()
            left = left_waiting() if session is None else None
            if value is not None and len(value) > min(MAX_VALUE_CHARS, command["maxOutputBytes"]):
                value = value[: min(MAX_VALUE_CHARS, command["maxOutputBytes"])]
                truncated = True
            channel.send({"ev": "done", "id": command["id"], "status": status, "value": value, "error": error,
                          "truncated": truncated, "evalMicros": eval_us, "leftWaiting": left})
        else:
            raise ValueError("unknown command op %r" % (op,))


if __name__ == "__main__":
    if sys.argv[1:] == ["--describe"]:
        # Asked once by the worker, outside any sandbox: the real interpreter and its version.
        print(sys.executable)
        print(sys.version.split()[0])
    else:
        main()
