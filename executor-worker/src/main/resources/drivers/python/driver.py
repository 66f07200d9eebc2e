"""execfarm driver for CPython >= 3.10 (standard library only).

Protocol (docs/driver-protocol.md): commands arrive as JSON lines on the original stdin; frames
leave as JSON lines on the original stdout. Both are moved to private descriptors before any user
code runs: fd 0 becomes /dev/null, and fds 1 and 2 become pipes whose bytes a reader thread
forwards as "output" frames, so writes from C libraries and child processes are captured too and
user code cannot write into the frame channel by printing.

A request's files are written into the working directory before its code runs, and the files it
asks to collect are sent back after it, as "file" frames. display() (a builtin, as in IPython)
and matplotlib's show() send "display" frames with a MIME bundle, in their place among the output.
"""

import ast
import base64
import builtins
import codecs
import ctypes
import importlib.util
import io
import json
import linecache
import os
import re
import selectors
import signal
import stat
import sys
import threading
import time
import traceback

READ_CHUNK = 32 * 1024
MAX_TRACEBACK_CHARS = 16 * 1024
# A rendered value longer than this is cut; the output budget of the request applies too.
MAX_VALUE_CHARS = 1024 * 1024
DRIVER_PID = os.getpid()
# Files are written and collected here whatever directory user code moved to.
WORK_DIR = os.getcwd()
# A collection stops looking after this many entries of the working directory.
MAX_COLLECT_WALK = 10000
# matplotlib draws with this driver's backend (module://execfarm_inline below), into display frames.
INLINE_BACKEND = "execfarm_inline"
INLINE_BACKEND_SOURCE = """
import builtins
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas
import matplotlib._pylab_helpers as _helpers


def show(*args, **kwargs):
    for manager in _helpers.Gcf.get_all_fig_managers():
        builtins.display(manager.canvas.figure)
    _helpers.Gcf.destroy_all()
"""
# (media type, the IPython-style method that renders it); text/plain is always repr().
RICH_REPRS = (("image/png", "_repr_png_"), ("image/jpeg", "_repr_jpeg_"), ("image/svg+xml", "_repr_svg_"),
              ("text/html", "_repr_html_"), ("text/markdown", "_repr_markdown_"), ("text/latex", "_repr_latex_"),
              ("application/json", "_repr_json_"))


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


def read_attached(commands, size):
    """The {size} bytes that follow a command line (its files, as JSON), read in large chunks: the
    command line itself is read a byte at a time (readline of an unbuffered file, the driver's rest
    point), which for a 1 MB file inline took a second."""
    chunks, got = [], 0
    while got < size:
        chunk = commands.read(size - got)
        if not chunk:
            raise EOFError("the command's attached files ended after %d of %d bytes" % (got, size))
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


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

    def sync(self):
        """Forwards everything written so far, the request still attached: what comes next follows it."""
        self._drained.clear()
        self._drain_requested.set()
        os.write(self._wake_w, b"x")
        self._drained.wait()

    def request_id(self):
        with self._lock:
            return self._request_id

    def take(self, size):
        """Whether {size} more bytes fit the request's budget, taking them if so; else the output is cut."""
        with self._lock:
            if size > self._budget:
                self._truncated = True
                return False
            self._budget -= size
            return True

    def finish(self):
        """Forwards everything written so far, then detaches the request; returns whether output was cut."""
        self.sync()
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


class Displayer:
    """display(): a MIME bundle per object, sent after the output written before it. An object with
    nothing but text is printed instead, as before display existed."""

    def __init__(self, channel, pump):
        self._channel = channel
        self._pump = pump

    def __call__(self, *objs, **_options):
        for obj in objs:
            data = bundle_of(obj)
            if len(data) == 1:
                print(data["text/plain"])
                continue
            flush_streams()
            self._pump.sync()
            request_id = self._pump.request_id()
            size = sum(len(value.encode("utf-8")) for value in data.values())
            if request_id is not None and self._pump.take(size):
                self._channel.send({"ev": "display", "id": request_id, "data": data})


def bundle_of(obj):
    data = {}
    if hasattr(obj, "savefig") and hasattr(obj, "canvas"):
        png = io.BytesIO()
        obj.savefig(png, format="png", bbox_inches="tight")
        data["image/png"] = png.getvalue()
    for media_type, method in RICH_REPRS:
        render = getattr(obj, method, None)
        if media_type in data or not callable(render) or isinstance(obj, type):
            continue
        value = render()
        if isinstance(value, tuple):
            value = value[0]
        if value is not None:
            data[media_type] = value
    for media_type, value in list(data.items()):
        if isinstance(value, bytes) and media_type.startswith("image/") and media_type != "image/svg+xml":
            data[media_type] = base64.b64encode(value).decode("ascii")
        elif isinstance(value, bytes):
            data[media_type] = value.decode("utf-8", "replace")
        elif media_type == "application/json" and not isinstance(value, str):
            data[media_type] = json.dumps(value)
        else:
            data[media_type] = str(value)
    data["text/plain"] = repr(obj)
    return data


class InlineBackend:
    """Makes module://execfarm_inline importable without a file of its own, and only once matplotlib
    asks for it: importing matplotlib costs a third of a second and 60 MB, not for every process."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        return importlib.util.spec_from_loader(name, InlineBackend) if name == INLINE_BACKEND else None

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        exec(INLINE_BACKEND_SOURCE, module.__dict__)


def show_open_figures():
    """Figures a request drew but did not show are shown at its end, as in a notebook, and closed:
    none is left for the next request."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    try:
        if pyplot is not None and pyplot.get_fignums():
            try:
                pyplot.show()
            finally:
                pyplot.close("all")
    except Exception:
        traceback.print_exc()


def open_beneath(path, flags, make_dirs):
    """Opens {path} below the working directory without following a link at any step: a link user
    code left there (in a session) leads nowhere, it is refused (ELOOP, ENOTDIR)."""
    dir_fd = os.open(WORK_DIR, os.O_RDONLY | os.O_DIRECTORY)
    try:
        parts = path.split("/")
        for part in parts[:-1]:
            if make_dirs:
                try:
                    os.mkdir(part, 0o755, dir_fd=dir_fd)
                except FileExistsError:
                    pass
            below = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = below
        return os.open(parts[-1], flags | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


def write_files(files):
    """The request's files, into the working directory; None, or the error that stops the request."""
    for entry in files:
        try:
            fd = open_beneath(entry["path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, True)
            with os.fdopen(fd, "wb") as out:
                out.write(base64.b64decode(entry["base64"]))
        except OSError as e:
            return {"type": "InputFileError", "message": "could not write %s: %s" % (entry["path"], e.strerror),
                    "stacktrace": None}
    return None


def glob_pattern(glob):
    """A glob as a regular expression over paths relative to the working directory: * and ? within
    a name, ** as a whole name for any number of directories (at the end: anything below)."""
    parts = glob.split("/")
    pattern = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            pattern += "[^/]+(?:/[^/]+)*" if last else "(?:[^/]+/)*"
            continue
        pattern += "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in part)
        pattern += "" if last else "/"
    return re.compile(pattern + r"\Z")


def collect(channel, request_id, globs, limits):
    """Sends the files matching {globs}, in name order: regular files only, read without following
    a link, within the request's limits (the worker counts again)."""
    patterns = [glob_pattern(glob) for glob in globs]
    matches, walked = [], 0
    stack = [""]
    while stack and walked <= MAX_COLLECT_WALK:
        prefix = stack.pop()
        try:
            entries = os.scandir(os.path.join(WORK_DIR, prefix) if prefix else WORK_DIR)
        except OSError:
            continue
        with entries:
            for entry in entries:
                walked += 1
                if walked > MAX_COLLECT_WALK:
                    break
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append(relative + "/")
                elif any(p.match(relative) for p in patterns):
                    matches.append((relative, entry))
    frames = []
    if walked > MAX_COLLECT_WALK:
        frames.append({"path": globs[0], "error": "TooManyFiles: the working directory holds more than %d entries; "
                       "collection stopped looking there" % MAX_COLLECT_WALK})
    total = 0
    for relative, entry in sorted(matches, key=lambda match: match[0]):
        if len(frames) >= limits["maxFiles"]:
            frames.append({"path": relative, "error": "TooManyFiles: more than %d files matched; the rest were "
                           "not collected" % limits["maxFiles"]})
            break
        frame = read_collected(relative, entry, limits, total)
        total += frame.pop("bytes", 0)
        frames.append(frame)
    for frame in frames:
        frame.update({"ev": "file", "id": request_id})
        channel.send(frame)


def read_collected(relative, entry, limits, total):
    if entry.is_symlink():
        return {"path": relative, "error": "NotARegularFile: a symbolic link; only regular files are collected"}
    try:
        fd = open_beneath(relative, os.O_RDONLY | os.O_NONBLOCK, False)
    except OSError as e:
        return {"path": relative, "error": "Unreadable: %s" % e.strerror}
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return {"path": relative, "error": "NotARegularFile: only regular files are collected"}
        # Read no more than the limit allows, whatever the file grows to meanwhile.
        content = f.read(limits["maxFileBytes"] + 1)
    if len(content) > limits["maxFileBytes"]:
        return {"path": relative, "error": "FileTooLarge: over the limit of %d bytes per file"
                % limits["maxFileBytes"]}
    if total + len(content) > limits["maxRequestBytes"]:
        return {"path": relative, "error": "CollectLimitExceeded: the request's files would exceed %d bytes "
                "together" % limits["maxRequestBytes"]}
    return {"path": relative, "base64": base64.b64encode(content).decode("ascii"), "bytes": len(content)}


def flush_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    flush_c_stdio()


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
    builtins.display = Displayer(channel, pump)
    sys.meta_path.append(InlineBackend)
    os.environ["MPLBACKEND"] = "module://" + INLINE_BACKEND
    os.environ["MPLCONFIGDIR"] = os.path.join(os.environ.get("TMPDIR", "/tmp"), "matplotlib")
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
        # The driver's rest point: the worker finds its first thread blocked in this read, at this depth
        # of the C stack, between requests (a read(1) called here instead was found at another depth
        # once CPython had specialized the call, retiring innocent processes: away-from-rest).
        line = commands.readline()
        if not line:
            return
        command = json.loads(line)
        if command.get("filesBytes"):
            command["files"] = json.loads(read_attached(commands, command["filesBytes"]))
        op = command.get("op")
        if op == "exec":
            restore_stdio(writers)
            session = command.get("session")
            pump.begin(command["id"], command["maxOutputBytes"])
            started = time.perf_counter()
            error = write_files(command.get("files", ()))
            if error is not None:
                status, value = "error", None
            else:
                try:
                    status, value, error = evaluator.run(command["code"], evaluator.namespace(session),
                                                         session is not None, command["id"])
                    show_open_figures()
                finally:
                    flush_streams()
            eval_us = int((time.perf_counter() - started) * 1e6)
            if command.get("collect"):
                collect(channel, command["id"], command["collect"], command["collectLimits"])
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
