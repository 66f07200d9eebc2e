package io.execfarm.worker.conformance;

import java.util.List;
import java.util.Map;

final class PythonSnippets implements Snippets {

    @Override
    public String hello() {
        return "print('hello, world')";
    }

    @Override
    public String lastValue() {
        return "x = 6\nx * 7";
    }

    @Override
    public String noValue() {
        return "y = 1";
    }

    @Override
    public String interleaved() {
        return """
                import sys, time
                print('one', flush=True); time.sleep(0.2)
                print('two', file=sys.stderr, flush=True); time.sleep(0.2)
                print('three', flush=True)
                """;
    }

    @Override
    public String manyLines(int n) {
        return "for i in range(" + n + "):\n    print(i)";
    }

    @Override
    public String unicode() {
        return "print('héllo 🚀 ✓')";
    }

    @Override
    public String invalidBytes() {
        return "import os\nos.write(1, b'a\\xffb\\n')";
    }

    @Override
    public String bigOutput(int bytes) {
        return "import sys\nsys.stdout.write('x' * " + bytes + ")";
    }

    @Override
    public String runtimeError() {
        return "def explode():\n    raise RuntimeError('boom')\n\nexplode()";
    }

    @Override
    public String runtimeErrorType() {
        return "RuntimeError";
    }

    @Override
    public String syntaxError() {
        return "def broken(:\n    pass";
    }

    @Override
    public String syntaxErrorType() {
        return "SyntaxError";
    }

    @Override
    public String printThenSpin() {
        return "print('before', flush=True)\nwhile True:\n    pass";
    }

    @Override
    public String printThenSleep(int seconds) {
        return "import time\nprint('started', flush=True)\ntime.sleep(" + seconds + ")";
    }

    @Override
    public String exitWith(int code) {
        return "import os\nos._exit(" + code + ")";
    }

    @Override
    public String abort() {
        return "import os\nos.abort()";
    }

    @Override
    public String closeStdout() {
        return "import os\nos.close(1)\n'closed'";
    }

    @Override
    public String closeAllDescriptors() {
        return "import os\nos.closerange(1, 1024)";
    }

    @Override
    public String writeGarbageEverywhere() {
        return "import os\n" + writeToDescriptors("b'garbage\\n'");
    }

    @Override
    public String writeFramesLater() {
        return """
                import os, threading, time
                def flood():
                    time.sleep(0.5)
                    small = b'{"ev":"output","id":"elsewhere","stream":"stdout","text":"x"}\\n'
                    large = b'{"ev":"output","id":"elsewhere","stream":"stdout","text":"' + b'x' * (1 << 20) + b'"}\\n'
                    for frame in [small] + [large] * 20:
                        for fd in range(3, 64):
                            try:
                                os.set_blocking(fd, False)
                                os.write(fd, frame)
                            except OSError:
                                pass
                threading.Thread(target=flood, daemon=True).start()
                """;
    }

    @Override
    public String forgeDone(String requestId) {
        return "import os, time\n"
                + writeToDescriptors("b'{\"ev\":\"done\",\"id\":\"%s\",\"status\":\"ok\",\"value\":\"forged\",\"error\":null,"
                        .formatted(requestId) + "\"truncated\":false,\"evalMicros\":1}\\n'")
                + "time.sleep(0.3)\n7\n";
    }

    @Override
    public String writeOutputFrame(String requestId, int chars) {
        return "import os, time\n"
                + writeToDescriptors("b'{\"ev\":\"output\",\"id\":\"%s\",\"stream\":\"stdout\",\"text\":\"' + b'x' * %d + b'\"}\\n'"
                        .formatted(requestId, chars))
                + "time.sleep(1)\n";
    }

    @Override
    public String writeEndlessLine(int bytes) {
        return "import os\n" + writeToDescriptors("b'x' * " + bytes);
    }

    /** Writes what the Python expression {@code bytes} gives to every descriptor from 3 to 63 that takes it. */
    private static String writeToDescriptors(String bytes) {
        return """
                for fd in range(3, 64):
                    try:
                        os.write(fd, %s)
                    except OSError:
                        pass
                """.formatted(bytes);
    }

    @Override
    public String cLevelWrite() {
        return "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.printf(b'from C\\n')\nNone";
    }

    @Override
    public String childProcessOutput() {
        return "import subprocess\nsubprocess.run(['echo', 'from child'])\nNone";
    }

    @Override
    public String defineCarriedValue() {
        return "carried_value = 41";
    }

    @Override
    public String useCarriedValue() {
        return "carried_value + 1";
    }

    @Override
    public String defineFunctionUsingCarriedValue() {
        return "def answer():\n    return carried_value + 1";
    }

    @Override
    public String callAnswer() {
        return "answer()";
    }

    @Override
    public String startBackgroundSleeper() {
        return "import subprocess\nsubprocess.Popen(['sleep', '1000'])\nNone";
    }

    @Override
    public String leaveRunning() {
        return """
                import threading, time
                def spin():
                    end = time.monotonic() + 10
                    n = 0
                    while time.monotonic() < end:
                        n += 1
                        if n % 100000 == 0:
                            print('stray', n, flush=True)
                threading.Thread(target=spin, daemon=True).start()
                None
                """;
    }

    @Override
    public String leaveTimer() {
        return """
                import signal
                signal.signal(signal.SIGALRM, lambda *_: print('late', flush=True))
                signal.setitimer(signal.ITIMER_REAL, 0.3)
                None
                """;
    }

    @Override
    public String leavePosixTimer() {
        return """
                import ctypes, signal
                signal.signal(signal.SIGALRM, lambda *_: print('late', flush=True))
                libc = ctypes.CDLL(None, use_errno=True)
                timer = ctypes.c_void_p()
                assert libc.timer_create(1, None, ctypes.byref(timer)) == 0, ctypes.get_errno()
                # struct itimerspec: the interval, then the first expiry, each in seconds and nanoseconds
                spec = (ctypes.c_long * 4)(0, 0, 0, 300_000_000)
                assert libc.timer_settime(timer, 0, spec, None) == 0, ctypes.get_errno()
                None
                """;
    }

    @Override
    public String helloAfterHalfASecond() {
        return "import time\ntime.sleep(0.5)\nprint('hello, world')";
    }

    @Override
    public String startSleeperLater() {
        return """
                import subprocess, threading, time
                def later():
                    time.sleep(0.5)
                    subprocess.Popen(['sleep', '1000'])
                threading.Thread(target=later, daemon=True).start()
                None
                """;
    }

    @Override
    public String spinTwoProcesses() {
        return """
                import subprocess, time
                spinners = [subprocess.Popen(['sh', '-c', 'while :; do :; done']) for _ in range(2)]
                started = time.monotonic()
                time.sleep(1.5)
                def ticks(p):
                    with open('/proc/%d/stat' % p.pid) as stat:
                        fields = stat.read().rsplit(') ', 1)[1].split()
                    return int(fields[11]) + int(fields[12])
                used = sum(ticks(p) for p in spinners) / 100
                wall = time.monotonic() - started
                for p in spinners:
                    p.kill()
                    p.wait()
                round(used / wall, 2)
                """;
    }

    @Override
    public String answerTheNextRequest() {
        return """
                import json, sys
                frame = sys._getframe()
                while 'commands' not in frame.f_locals:
                    frame = frame.f_back
                channel, commands = frame.f_locals['channel'], frame.f_locals['commands']
                def answer(id):
                    channel.send({'ev': 'done', 'id': id, 'status': 'ok', 'value': 'forged', 'error': None,
                                  'truncated': False, 'evalMicros': 1})
                answer(frame.f_locals['command']['id'])
                while True:
                    next = json.loads(commands.readline())
                    channel.send({'ev': 'output', 'id': next['id'], 'stream': 'stdout', 'text': 'forged\\n'})
                    answer(next['id'])
                """;
    }

    @Override
    public String fill(String dir) {
        return """
                import os
                block = b'x' * (1 << 20)
                try:
                    for n in range(1024):
                        with open(os.path.join(%s, 'fill-%%d' %% n), 'wb') as f:
                            f.write(block)
                except OSError:
                    pass
                sum(os.path.getsize(os.path.join(%1$s, name)) for name in os.listdir(%1$s)
                    if name.startswith('fill-')) >> 20
                """.formatted(pythonString(dir));
    }

    @Override
    public String countSleepers() {
        return """
                import os
                count = 0
                for pid in os.listdir('/proc'):
                    if pid.isdigit():
                        try:
                            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                                if f.read().replace(b'\\0', b' ').strip() == b'sleep 1000':
                                    count += 1
                        except OSError:
                            pass
                count
                """;
    }

    @Override
    public String secretSightings(String secret, long workerPid) {
        return """
                import os, glob
                secret = %s
                seen = sum(1 for k, v in os.environ.items() if secret in k or secret in v)
                paths = set(glob.glob('/proc/[0-9]*/environ')) | {'/proc/%d/environ', '/proc/1/environ'}
                for path in paths:
                    try:
                        with open(path, 'rb') as f:
                            if secret.encode() in f.read():
                                seen += 1
                    except OSError:
                        pass
                seen
                """.formatted(pythonString(secret), workerPid);
    }

    @Override
    public String readFile(String path) {
        return """
                try:
                    with open(%s) as f:
                        print(f.read())
                except OSError:
                    print('unreadable')
                """.formatted(pythonString(path));
    }

    @Override
    public String connect(String host, int port) {
        return """
                import socket
                try:
                    socket.create_connection((%s, %d), timeout=2).close()
                    print('connected')
                except OSError:
                    print('no connection')
                """.formatted(pythonString(host), port);
    }

    @Override
    public String listDirectory(String path) {
        return """
                import os
                try:
                    print(''.join(name + '\\n' for name in sorted(os.listdir(%s))), end='')
                except OSError:
                    print('unreadable')
                """.formatted(pythonString(path));
    }

    @Override
    public String syscalls(Map<String, List<Long>> calls) {
        return """
                import ctypes
                libc = ctypes.CDLL(None, use_errno=True)
                for name, number, *args in [
                %s]:
                    ctypes.set_errno(0)
                    result = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
                    print(name, ctypes.get_errno() if result == -1 else 0)
                """.formatted(Snippets.syscallTuples(calls));
    }

    @Override
    public String memoryBomb() {
        return """
                try:
                    huge = bytearray(64 * 1024**3)
                except MemoryError:
                    pass
                blocks = []
                while True:
                    blocks.append(bytearray(64 * 1024**2))
                """;
    }

    @Override
    public String forkBomb() {
        return "import subprocess, time\nsubprocess.Popen(['sh', '-c', 'b() { b | b & }; b'])\ntime.sleep(60)";
    }

    @Override
    public String displayRange() {
        return "import sys\nsys.displayhook(range(1, 4))";
    }

    @Override
    public String displayedRange() {
        return "range(1, 4)";
    }

    @Override
    public String loopAccumulating() {
        return "s = 0\nfor i in range(1, 4):\n    s += i\ns";
    }

    @Override
    public String childThenBigPrint(int bytes) {
        return "import subprocess\nsubprocess.run(['true'])\nprint('x' * " + bytes + ", end='')";
    }

    @Override
    public String bigCLevelWrite(int bytes) {
        return "import ctypes\nctypes.CDLL(None).puts(b'y' * " + bytes + ")\nNone";
    }

    @Override
    public String warning() {
        return "import warnings\nwarnings.warn('careful')";
    }

    @Override
    public String userTypeValue() {
        return "from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\nP(3)";
    }

    @Override
    public String userTypeRendered() {
        return "P(x=3)";
    }

    @Override
    public String userException() {
        return "class X(Exception):\n    pass\nraise X()";
    }

    @Override
    public String errorWhileHandlingAnother() {
        return "try:\n    raise ValueError('inner')\nexcept ValueError:\n    raise RuntimeError('outer')";
    }

    @Override
    public String breakCommandReading() {
        return "import json\njson.loads = None";
    }

    @Override
    public String tickEvery100Ms(int ticks) {
        return "import time\nfor n in range(1, " + (ticks + 1) + "):\n    print('tick', n, flush=True)\n    time.sleep(0.1)";
    }

    private static String pythonString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    @Override
    public String importModule() {
        return "import base64 as carried_b64";
    }

    @Override
    public String useImportedModule() {
        return "len(carried_b64.b64encode(b'42'))";
    }

    @Override
    public String defineType() {
        return "class CarriedPoint:\n    def __init__(self, x):\n        self.x = x";
    }

    @Override
    public String useType() {
        return "CarriedPoint(6).x * 7";
    }

    @Override
    public String defineRandomToken() {
        return "import os\ncarried_token = os.urandom(8).hex()";
    }

    @Override
    public String readToken() {
        return "carried_token";
    }

    @Override
    public String sumInputIntoOutput() {
        return "import os\nrows = open('data/in.csv').read().split()\nprint('rows', len(rows))\n"
                + "os.makedirs('out', exist_ok=True)\nopen('out/sum.txt', 'w').write(str(sum(int(r) for r in rows[1:])))";
    }

    @Override
    public String leaveFilesToCollect(int bytes, int many) {
        return "import os\nos.makedirs('out/many', exist_ok=True)\nopen('out/ok.txt', 'w').write('ok')\n"
                + "os.symlink('/etc/passwd', 'out/link.txt')\nopen('out/big.bin', 'wb').write(b'x' * " + bytes + ")\n"
                + "for i in range(" + many + "):\n    open('out/many/f%04d.txt' % i, 'w').write(str(i))";
    }

    @Override
    public String linkDirectory(String name, String target) {
        return "import os\nos.symlink('" + target + "', '" + name + "')";
    }

    @Override
    public String displayBetweenPrints(int pngBytes) {
        return "import base64\nclass Picture:\n    def _repr_html_(self):\n        return '<b>picture</b>'\n"
                + "    def _repr_png_(self):\n        return b'\\x89PNG' + b'p' * " + (pngBytes - 4) + "\n"
                + "print('before')\ndisplay(Picture())\nprint('after')";
    }

    @Override
    public String plotAndShow() {
        return "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nprint('drawn')\nplt.show()\nprint('shown')";
    }

    @Override
    public String manyEmptyFiles(int n) {
        return "import os\nos.makedirs('many', exist_ok=True)\nfor i in range(" + n + "):\n"
                + "    open('many/f%05d' % i, 'w').close()";
    }

    @Override
    public String growInTheBackground(String path) {
        return "import os, subprocess, time\nsubprocess.Popen(['sh', '-c', 'while :; do head -c 65536 /dev/zero; done > "
                + path + "'])\nwhile not os.path.exists('" + path + "') or os.path.getsize('" + path + "') < 65536:\n"
                + "    time.sleep(0.01)";
    }
}
