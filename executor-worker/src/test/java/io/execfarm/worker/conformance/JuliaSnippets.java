package io.execfarm.worker.conformance;

import java.util.List;
import java.util.Map;

final class JuliaSnippets implements Snippets {

    @Override
    public String hello() {
        return "println(\"hello, world\")";
    }

    @Override
    public String lastValue() {
        return "x = 6\nx * 7";
    }

    @Override
    public String noValue() {
        return "y = 1\nnothing";
    }

    @Override
    public String interleaved() {
        return """
                println(stdout, "one"); flush(stdout); sleep(0.2)
                println(stderr, "two"); flush(stderr); sleep(0.2)
                println(stdout, "three"); flush(stdout)
                """;
    }

    @Override
    public String manyLines(int n) {
        return "for i in 0:" + (n - 1) + "\n    println(i)\nend";
    }

    @Override
    public String unicode() {
        return "println(\"héllo 🚀 ✓\")";
    }

    @Override
    public String invalidBytes() {
        return "write(stdout, UInt8[0x61, 0xff, 0x62, 0x0a])\nflush(stdout)\nnothing";
    }

    @Override
    public String bigOutput(int bytes) {
        return "print(\"x\"^" + bytes + ")";
    }

    @Override
    public String runtimeError() {
        return "function explode()\n    error(\"boom\")\nend\n\nexplode()";
    }

    @Override
    public String runtimeErrorType() {
        return "ErrorException";
    }

    @Override
    public String syntaxError() {
        return "function broken(:\nend";
    }

    @Override
    public String syntaxErrorType() {
        return "Base.Meta.ParseError";
    }

    @Override
    public String printThenSpin() {
        return "println(\"before\"); flush(stdout)\nwhile true\nend";
    }

    @Override
    public String printThenSleep(int seconds) {
        return "println(\"started\"); flush(stdout)\nsleep(" + seconds + ")";
    }

    @Override
    public String exitWith(int code) {
        return "exit(" + code + ")";
    }

    @Override
    public String abort() {
        return "ccall(:abort, Cvoid, ())";
    }

    @Override
    public String closeStdout() {
        return "ccall(:close, Cint, (Cint,), 1)\n\"closed\"";
    }

    @Override
    public String closeAllDescriptors() {
        return "for fd in 1:1023\n    ccall(:close, Cint, (Cint,), fd)\nend";
    }

    @Override
    public String writeGarbageEverywhere() {
        return """
                for fd in 3:63
                    ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), fd, "garbage\\n", 8)
                end
                """;
    }

    @Override
    public String writeFramesLater() {
        return """
                Threads.@spawn begin
                    sleep(0.5)
                    small = "{\\"ev\\":\\"output\\",\\"id\\":\\"elsewhere\\",\\"stream\\":\\"stdout\\",\\"text\\":\\"x\\"}\\n"
                    large = "{\\"ev\\":\\"output\\",\\"id\\":\\"elsewhere\\",\\"stream\\":\\"stdout\\",\\"text\\":\\"" * "x"^(1 << 20) * "\\"}\\n"
                    for frame in [small; fill(large, 20)], fd in 3:63
                        ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), fd, frame, sizeof(frame))
                    end
                end
                nothing
                """;
    }

    @Override
    public String forgeDone(String requestId) {
        return """
                frame = "{\\"ev\\":\\"done\\",\\"id\\":\\"%s\\",\\"status\\":\\"ok\\",\\"value\\":\\"forged\\",\\"error\\":null,\\"truncated\\":false,\\"evalMicros\\":1}\\n"
                for fd in 3:63
                    ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), fd, frame, sizeof(frame))
                end
                sleep(0.3)
                7
                """.formatted(requestId);
    }

    /*
     * The large writes go to the frame channel alone, found through the driver's module: a write
     * of megabytes to each descriptor in turn would block on one of libuv's own pipes first.
     */
    @Override
    public String writeOutputFrame(String requestId, int chars) {
        return """
                line = "{\\"ev\\":\\"output\\",\\"id\\":\\"%s\\",\\"stream\\":\\"stdout\\",\\"text\\":\\"" * "x"^%d * "\\"}\\n"
                channel = Base.fd(Main.ExecfarmDriver.CHANNELS[].frames)
                ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), channel, line, sizeof(line))
                sleep(1)
                """.formatted(requestId, chars);
    }

    @Override
    public String writeEndlessLine(int bytes) {
        return """
                line = "x"^%d
                channel = Base.fd(Main.ExecfarmDriver.CHANNELS[].frames)
                ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), channel, line, sizeof(line))
                """.formatted(bytes);
    }

    @Override
    public String cLevelWrite() {
        return "ccall(:puts, Cint, (Cstring,), \"from C\")\nnothing";
    }

    @Override
    public String childProcessOutput() {
        return "run(`echo from child`)\nnothing";
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
        return "answer() = carried_value + 1";
    }

    @Override
    public String callAnswer() {
        return "answer()";
    }

    @Override
    public String startBackgroundSleeper() {
        return "run(`sleep 1000`; wait=false)\nnothing";
    }

    @Override
    public String leaveRunning() {
        return """
                Threads.@spawn begin
                    finish = time() + 10
                    n = 0
                    while time() < finish
                        n += 1
                        n % 1_000_000 == 0 && println("stray ", n)
                    end
                end
                nothing
                """;
    }

    @Override
    public String leaveTimer() {
        return """
                @async (sleep(0.3); println("late"))
                Threads.@spawn (sleep(0.3); println("late"))
                Threads.@spawn (yield(); sleep(0.3); println("late"))
                nothing
                """;
    }

    @Override
    public String leavePosixTimer() {
        return """
                timer = Ref{Ptr{Cvoid}}()
                ccall(:timer_create, Cint, (Cint, Ptr{Cvoid}, Ptr{Ptr{Cvoid}}), 1, C_NULL, timer) == 0 || error("timer_create")
                # struct itimerspec: the interval, then the first expiry, each in seconds and nanoseconds
                spec = Clong[0, 0, 0, 300_000_000]
                ccall(:timer_settime, Cint, (Ptr{Cvoid}, Cint, Ptr{Clong}, Ptr{Cvoid}), timer[], 0, spec, C_NULL) == 0 ||
                    error("timer_settime")
                nothing
                """;
    }

    @Override
    public String helloAfterHalfASecond() {
        return "sleep(0.5)\nprintln(\"hello, world\")";
    }

    @Override
    public String startSleeperLater() {
        return "Threads.@spawn (sleep(0.5); run(`sleep 1000`; wait=false))\nnothing";
    }

    @Override
    public String spinTwoProcesses() {
        return """
                spinners = [run(`sh -c 'while :; do :; done'`; wait=false) for _ in 1:2]
                started = time()
                sleep(1.5)
                ticks(p) = sum(parse.(Int, split(split(read("/proc/$(getpid(p))/stat", String), ") ")[2])[12:13]))
                used = sum(ticks, spinners) / 100
                wall = time() - started
                foreach(kill, spinners)
                round(used / wall, digits = 2)
                """;
    }

    @Override
    public String answerTheNextRequest() {
        return """
                D = Main.ExecfarmDriver
                answer(id) = D.send((ev = "done", id = id, status = "ok", value = "forged", error = nothing,
                                     truncated = false, evalMicros = 1))
                answer(D.STATE.id)
                while true
                    next = D.parse_json(D.next_line!(D.CHANNELS[].commands))
                    D.send((ev = "output", id = next["id"], stream = "stdout", text = "forged\\n"))
                    answer(next["id"])
                end
                """;
    }

    @Override
    public String fill(String dir) {
        return """
                block = fill(UInt8('x'), 1 << 20)
                try
                    for n in 0:1023
                        write(joinpath(%1$s, "fill-$n"), block) == length(block) || break
                    end
                catch
                end
                sum(Int[filesize(joinpath(%1$s, name)) for name in readdir(%1$s) if startswith(name, "fill-")]) >> 20
                """.formatted(juliaString(dir));
    }

    @Override
    public String countSleepers() {
        return """
                function sleepers()
                    n = 0
                    for pid in readdir("/proc")
                        all(isdigit, pid) || continue
                        cmd = try read("/proc/$pid/cmdline", String) catch; "" end
                        strip(replace(cmd, '\\0' => ' ')) == "sleep 1000" && (n += 1)
                    end
                    n
                end
                sleepers()
                """;
    }

    @Override
    public String secretSightings(String secret, long workerPid) {
        return """
                function sightings(secret)
                    n = count(kv -> occursin(secret, kv.first) || occursin(secret, kv.second), collect(ENV))
                    paths = Set(["/proc/%d/environ", "/proc/1/environ"])
                    for pid in readdir("/proc")
                        all(isdigit, pid) && push!(paths, "/proc/$pid/environ")
                    end
                    for path in paths
                        data = try read(path, String) catch; "" end
                        occursin(secret, data) && (n += 1)
                    end
                    n
                end
                sightings(%s)
                """.formatted(workerPid, juliaString(secret));
    }

    @Override
    public String readFile(String path) {
        return "try\n    println(read(" + juliaString(path) + ", String))\ncatch\n    println(\"unreadable\")\nend";
    }

    @Override
    public String connect(String host, int port) {
        return """
                import Sockets
                connected = Ref(false)
                attempt = @async try
                    close(Sockets.connect(%s, %d))
                    connected[] = true
                catch
                end
                timedwait(() -> istaskdone(attempt), 2.0)
                println(connected[] ? "connected" : "no connection")
                """.formatted(juliaString(host), port);
    }

    @Override
    public String listDirectory(String path) {
        return "try\n    foreach(println, sort(readdir(" + juliaString(path) + ")))\ncatch\n    println(\"unreadable\")\nend";
    }

    @Override
    public String syscalls(Map<String, List<Long>> calls) {
        return """
                for call in [
                %s]
                    name = call[1]
                    a = vcat(collect(Int, call[2:end]), zeros(Int, 8 - length(call)))
                    result = ccall(:syscall, Clong, (Clong, Clong, Clong, Clong, Clong, Clong, Clong),
                                   a[1], a[2], a[3], a[4], a[5], a[6], a[7])
                    println(name, " ", result == -1 ? Libc.errno() : 0)
                end
                """.formatted(Snippets.syscallTuples(calls));
    }

    @Override
    public String memoryBomb() {
        return """
                try
                    zeros(UInt8, 64 * 1024^3)
                catch
                end
                blocks = Vector{Vector{UInt8}}()
                while true
                    push!(blocks, ones(UInt8, 64 * 1024^2))
                end
                """;
    }

    @Override
    public String forkBomb() {
        return "run(`sh -c 'b() { b | b & }; b'`; wait=false)\nsleep(60)";
    }

    @Override
    public String displayRange() {
        return "display(1:3)";
    }

    @Override
    public String displayedRange() {
        return "1:3";
    }

    @Override
    public String loopAccumulating() {
        return "s = 0\nfor i in 1:3\n    s += i\nend\ns";
    }

    @Override
    public String childThenBigPrint(int bytes) {
        return "run(`true`)\nprint(\"x\"^" + bytes + ")";
    }

    @Override
    public String bigCLevelWrite(int bytes) {
        return "ccall(:puts, Cint, (Cstring,), \"y\"^" + bytes + ")\nnothing";
    }

    @Override
    public String warning() {
        return "@warn \"careful\"";
    }

    @Override
    public String userTypeValue() {
        return "struct P\n    x::Int\nend\nP(3)";
    }

    @Override
    public String userTypeRendered() {
        return "P(3)";
    }

    @Override
    public String userException() {
        return "struct X <: Exception end\nthrow(X())";
    }

    @Override
    public String errorWhileHandlingAnother() {
        return "try\n    error(\"inner\")\ncatch\n    error(\"outer\")\nend";
    }

    @Override
    public String breakCommandReading() {
        return "empty!(Main.ExecfarmDriver.NUMBER_BYTES)\nnothing";
    }

    @Override
    public String tickEvery100Ms(int ticks) {
        return "for n in 1:" + ticks + "\n    println(\"tick \", n)\n    sleep(0.1)\nend";
    }

    private static String juliaString(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("$", "\\$") + "\"";
    }

    @Override
    public String importModule() {
        return "import Base64";
    }

    @Override
    public String useImportedModule() {
        return "length(Base64.base64encode(\"42\"))";
    }

    @Override
    public String defineType() {
        return "struct CarriedPoint\n    x::Int\nend";
    }

    @Override
    public String useType() {
        return "CarriedPoint(6).x * 7";
    }

    @Override
    public String defineRandomToken() {
        return "carried_token = string(rand(UInt64); base = 16, pad = 16)";
    }

    @Override
    public String readToken() {
        return "carried_token";
    }

    @Override
    public String sumInputIntoOutput() {
        return "rows = split(read(\"data/in.csv\", String))\nprintln(\"rows \", length(rows))\nmkpath(\"out\")\n"
                + "write(\"out/sum.txt\", string(sum(parse.(Int, rows[2:end]))))";
    }

    @Override
    public String leaveFilesToCollect(int bytes, int many) {
        return "mkpath(\"out/many\")\nwrite(\"out/ok.txt\", \"ok\")\nsymlink(\"/etc/passwd\", \"out/link.txt\")\n"
                + "write(\"out/big.bin\", fill(UInt8('x'), " + bytes + "))\n"
                + "for i in 0:" + (many - 1) + "\n    write(\"out/many/f\" * lpad(i, 4, '0') * \".txt\", string(i))\nend";
    }

    @Override
    public String linkDirectory(String name, String target) {
        return "symlink(" + juliaString(target) + ", " + juliaString(name) + ")";
    }

    @Override
    public String displayBetweenPrints(int pngBytes) {
        return "struct Picture end\nBase.show(io::IO, ::MIME\"text/html\", ::Picture) = print(io, \"<b>picture</b>\")\n"
                + "Base.show(io::IO, ::MIME\"image/png\", ::Picture) = write(io, vcat(UInt8[0x89, 0x50, 0x4e, 0x47], "
                + "fill(UInt8('p'), " + (pngBytes - 4) + ")))\nprintln(\"before\")\ndisplay(Picture())\nprintln(\"after\")";
    }

    @Override
    public String manyEmptyFiles(int n) {
        return "mkpath(\"many\")\nfor i in 0:" + (n - 1) + "\n    touch(\"many/f\" * lpad(i, 5, '0'))\nend";
    }

    @Override
    public String growInTheBackground(String path) {
        return "run(`sh -c \"while :; do head -c 65536 /dev/zero; done > " + path + "\"`; wait = false)\n"
                + "while !isfile(" + juliaString(path) + ") || filesize(" + juliaString(path) + ") < 65536\n"
                + "    sleep(0.01)\nend";
    }
}
