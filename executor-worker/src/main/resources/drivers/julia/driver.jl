# execfarm driver for Julia 1.5 and later (Base and the standard library only).
#
# Protocol (docs/driver-protocol.md): commands arrive as JSON lines on the original stdin; frames
# leave as JSON lines on the original stdout. Both move to private descriptors before any user code
# runs: fd 0 becomes /dev/null, and for each request fds 1 and 2 become two fresh in-memory files
# (memfd) that the driver reads and forwards as "output" frames. Writes from C libraries (ccall)
# and child processes land there too, and user code cannot write into the frame channel by printing.
#
# Why files and a thread: a pipe must be drained while user code runs, or a large C-level write
# blocks (or, libuv having made the pipe non-blocking, loses bytes), and Julia tasks cannot drain it
# while user code computes without yielding. A write to a file never blocks and never loses bytes.
# The driver reads the files from its own offsets on a thread of its own (thread 2: start Julia with
# --threads=2), every 20 ms and once more when the request returns, so output streams live and what
# a request printed before a timeout has already reached the worker. That thread waits in GC-safe
# regions, so it never holds up user code's garbage collections.
#
# Between requests the forwarding thread waits in Julia's scheduler. A task a request left queued
# (Threads.@spawn) is made to start there before the request's done leaves, in plain sight of the
# worker's check that the process is at rest (see Handover). Neither driver thread yields while it
# takes a lock, so neither runs such a task in the driver's place during a request.
#
# A request's files are written into the working directory before its code runs, and the files it
# asks to collect go back after it as "file" frames. `display` of anything with a rich `show` (a
# picture, HTML) sends a "display" frame with a MIME bundle, in its place among the output.
#
# Where Julia versions differ the code branches on VERSION, in small helpers marked "1.5".

# A system image built with this driver baked in (deploy/julia/build-sysimage-incremental) holds the
# module below already compiled. Defining it again would replace that code with a copy compiled
# from scratch, so when the baked copy came from this very source it serves as it is.
if isdefined(Main, :ExecfarmDriver) && abspath(PROGRAM_FILE) == (@__FILE__) &&
        Main.ExecfarmDriver.SOURCE_HASH == hash(read(@__FILE__, String))
    Main.ExecfarmDriver.script(ARGS)
    exit(0)
end

module ExecfarmDriver

import Base64
import REPL
using Logging

# Which source a baked copy of this module was built from.
const SOURCE_HASH = hash(read(@__FILE__, String))
const MAX_TRACE_CHARS = 16 * 1024
# A rendered value longer than this is cut; the output budget of the request applies too.
const MAX_VALUE_CHARS = 1024 * 1024
# The most text in one output frame (bytes of UTF-8).
const MAX_CHUNK_BYTES = 32 * 1024
# How often the forwarding thread reads what the running request wrote.
const FORWARD_INTERVAL_MILLIS = 20
const F_DUPFD_CLOEXEC = Cint(1030)
const F_GETFL = Cint(3)
const F_SETFL = Cint(4)
const O_NONBLOCK = Cint(0o4000)
const MFD_CLOEXEC = Cuint(1)
const O_RDWR = Cint(0o2)
const O_CLOEXEC = Cint(0o2000000)
const FALLOC_PUNCH_HOLE = Cint(0x03)   # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
const SIGXFSZ = Cint(25)
const EFD_CLOEXEC = Cint(0o2000000)
const POLLIN = Cshort(1)
const SIG_IGN = Ptr{Cvoid}(1)

# ---------------------------------------------------------------------------------------------
# JSON: only what the protocol needs.

# Needs no escape: written as it is (a collected file's base64, most output), not a character at a time.
plain_json_byte(b::UInt8) = b >= 0x20 && b != 0x22 && b != 0x5c && b != 0x7f

function json_string(io::IO, s::AbstractString)
    if s isa String && isvalid(s) && all(plain_json_byte, codeunits(s))
        print(io, '"')
        write(io, s)
        print(io, '"')
        return
    end
    print(io, '"')
    for c in s
        if !isvalid(c)
            print(io, '\ufffd')
        elseif c == '"'
            print(io, "\\\"")
        elseif c == '\\'
            print(io, "\\\\")
        elseif c == '\n'
            print(io, "\\n")
        elseif c == '\r'
            print(io, "\\r")
        elseif c == '\t'
            print(io, "\\t")
        elseif c < ' ' || c == '\x7f'
            print(io, "\\u", string(UInt32(c); base = 16, pad = 4))
        else
            print(io, c)
        end
    end
    print(io, '"')
end

function json(io::IO, x)
    if x === nothing
        print(io, "null")
    elseif x isa Bool
        print(io, x ? "true" : "false")
    elseif x isa Integer
        print(io, x)
    elseif x isa AbstractString
        json_string(io, x)
    elseif x isa NamedTuple || x isa AbstractDict
        print(io, '{')
        for (i, (k, v)) in enumerate(pairs(x))
            i > 1 && print(io, ',')
            json_string(io, string(k))
            print(io, ':')
            json(io, v)
        end
        print(io, '}')
    else
        json_string(io, string(x))
    end
end

const NUMBER_BYTES = Set{UInt8}(codeunits("+-0123456789.eE"))

skip_space(b, i) = (while i <= length(b) && b[i] in (0x20, 0x09, 0x0a, 0x0d); i += 1; end; i)

function parse_json(line::AbstractString)
    value, _ = parse_value(codeunits(line), 1)
    return value
end

function parse_value(b, i)
    i = skip_space(b, i)
    c = b[i]
    c == UInt8('{') && return parse_object(b, i)
    c == UInt8('[') && return parse_array(b, i)
    c == UInt8('"') && return parse_string(b, i)
    c == UInt8('n') && return nothing, i + 4
    c == UInt8('t') && return true, i + 4
    c == UInt8('f') && return false, i + 5
    j = i
    while j <= length(b) && b[j] in NUMBER_BYTES
        j += 1
    end
    text = String(b[i:j-1])
    return (occursin(r"[.eE]", text) ? parse(Float64, text) : parse(Int64, text)), j
end

function parse_object(b, i)
    d = Dict{String,Any}()
    i = skip_space(b, i + 1)
    b[i] == UInt8('}') && return d, i + 1
    while true
        key, i = parse_string(b, skip_space(b, i))
        i = skip_space(b, i) + 1            # the ':'
        d[key], i = parse_value(b, i)
        i = skip_space(b, i)
        b[i] == UInt8('}') && return d, i + 1
        i += 1                              # the ','
    end
end

function parse_array(b, i)
    a = Any[]
    i = skip_space(b, i + 1)
    b[i] == UInt8(']') && return a, i + 1
    while true
        v, i = parse_value(b, i)
        push!(a, v)
        i = skip_space(b, i)
        b[i] == UInt8(']') && return a, i + 1
        i += 1
    end
end

hex4(b, i) = parse(UInt32, String(b[i:i+3]); base = 16)

function parse_string(b, i)
    out = IOBuffer()
    i += 1
    while true
        c = b[i]
        if c == UInt8('"')
            return String(take!(out)), i + 1
        elseif c == UInt8('\\')
            e = b[i+1]
            if e == UInt8('u')
                code = hex4(b, i + 2)
                i += 6
                if 0xd800 <= code <= 0xdbff && i + 5 <= length(b) && b[i] == UInt8('\\') && b[i+1] == UInt8('u')
                    low = hex4(b, i + 2)
                    if 0xdc00 <= low <= 0xdfff
                        write(out, Char(0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)))
                        i += 6
                        continue
                    end
                end
                write(out, 0xd800 <= code <= 0xdfff ? '\ufffd' : Char(code))
            else
                write(out, e == UInt8('n') ? '\n' : e == UInt8('t') ? '\t' : e == UInt8('r') ? '\r' :
                           e == UInt8('b') ? '\b' : e == UInt8('f') ? '\f' : Char(e))
                i += 2
            end
        else
            # A run of plain bytes at once: a file's base64 is one long run.
            j = i
            while b[j] != UInt8('"') && b[j] != UInt8('\\')
                j += 1
            end
            write(out, view(b, i:j-1))
            i = j
        end
    end
end

# ---------------------------------------------------------------------------------------------
# Descriptors.

function check(result, what)
    result < 0 && error(what, ": ", Libc.strerror())
    return result
end

dup_private(fd::Integer) = check(ccall(:fcntl, Cint, (Cint, Cint, Cint...), fd, F_DUPFD_CLOEXEC, 3), "dup of fd $fd")

"""Makes the open file behind `fd` blocking again: libuv made the worker's pipes non-blocking when
Julia wrapped them as stdin and stdout, and the driver's reads and writes on them are plain calls."""
function set_blocking(fd::Integer)
    flags = check(ccall(:fcntl, Cint, (Cint, Cint, Cint...), fd, F_GETFL, 0), "fcntl F_GETFL")
    check(ccall(:fcntl, Cint, (Cint, Cint, Cint...), fd, F_SETFL, flags & ~O_NONBLOCK), "fcntl F_SETFL")
    return fd
end

"""Runs `f` holding `l`, waiting for it without yielding: a thread that yields may pick up a task
user code queued and run it in the driver's place."""
function hold(f, l)
    while !trylock(l)
        gc_safe(() -> ccall(:usleep, Cint, (UInt32,), UInt32(50)))
    end
    try
        return f()
    finally
        unlock(l)
    end
end

"""An eventfd: one driver thread waits on it (GC-safe, never in the scheduler), the other rings it."""
struct Doorbell
    fd::Cint
end

Doorbell() = Doorbell(check(ccall(:eventfd, Cint, (Cuint, Cint), 0, EFD_CLOEXEC), "eventfd"))

function ring(d::Doorbell)
    one = Ref(UInt64(1))
    ccall(:write, Cssize_t, (Cint, Ptr{UInt64}, Csize_t), d.fd, one, 8)
    nothing
end

struct PollFd
    fd::Cint
    events::Cshort
    revents::Cshort
end

"""Waits until `d` rings or `timeout_ms` pass; whether it rang."""
function await_ring(d::Doorbell, timeout_ms::Integer)
    ready = Ref(PollFd(d.fd, POLLIN, 0))
    n = gc_safe(() -> ccall(:poll, Cint, (Ptr{PollFd}, Culong, Cint), ready, 1, timeout_ms))
    n > 0 || return false
    count = Ref(UInt64(0))
    ccall(:read, Cssize_t, (Cint, Ptr{UInt64}, Csize_t), d.fd, count, 8)
    return true
end

dup2(from::Integer, to::Integer) = check(ccall(:dup2, Cint, (Cint, Cint), from, to), "dup2 $from -> $to")
close_fd(fd::Integer) = ccall(:close, Cint, (Cint,), fd)

"""Runs a blocking system call in a GC-safe region: another thread's garbage collection need not
wait for it. `f` must not touch Julia objects other than the arrays and Refs it was given."""
function gc_safe(f)
    state = ccall(:jl_gc_safe_enter, Int8, ())
    try
        return f()
    finally
        ccall(:jl_gc_safe_leave, Cvoid, (Int8,), state)
    end
end

"""Reads newline-terminated commands from a descriptor, waiting GC-safe."""
struct CommandReader
    fd::Cint
    buffer::Vector{UInt8}
    pending::Vector{UInt8}
end

CommandReader(fd) = CommandReader(fd, Vector{UInt8}(undef, 64 * 1024), UInt8[])

"""The next command line, or nothing at end of input."""
function next_line!(r::CommandReader)
    while true
        newline = findfirst(==(0x0a), r.pending)
        if newline !== nothing
            line = String(r.pending[1:newline-1])
            deleteat!(r.pending, 1:newline)
            return line
        end
        read_more!(r) || return nothing
    end
end

"""The `size` bytes that follow a command line (its files, as JSON)."""
function next_bytes!(r::CommandReader, size::Integer)
    while length(r.pending) < size
        read_more!(r) || error("the command's attached files ended after $(length(r.pending)) of $size bytes")
    end
    bytes = r.pending[1:size]
    deleteat!(r.pending, 1:size)
    return String(bytes)
end

"""Reads what the descriptor has into `pending`; false at end of input."""
function read_more!(r::CommandReader)
    buffer = r.buffer
    while true
        n = gc_safe(() -> ccall(:read, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), r.fd, buffer, length(buffer)))
        if n < 0
            Libc.errno() == Libc.EINTR && continue
            error("reading commands: ", Libc.strerror())
        end
        n == 0 && return false
        append!(r.pending, view(buffer, 1:n))
        return true
    end
end

"""The frame channel, the command reader and the log: private copies of fds 1, 0 and 2 as the worker gave them."""
mutable struct Channels
    frames::IO
    commands::CommandReader
    log_fd::Cint
    devnull_fd::Cint
end

const CHANNELS = Ref{Channels}()
# The stdio objects Julia started with wrap fds 0, 1 and 2; were they finalized (nothing else refers
# to them once redirected), they would close descriptors the driver now uses.
const ORIGINAL_STDIO = Any[]

# Guards the frame channel, the request state and the captures, shared by the main thread and the
# forwarding thread.
const LOCK = ReentrantLock()

function send(frame::NamedTuple)
    buf = IOBuffer()
    json(buf, frame)
    write(buf, '\n')
    hold(LOCK) do
        io = CHANNELS[].frames
        write(io, take!(buf))
        flush(io)
    end
    nothing
end

"""Writes a line to the process's original stderr: a log the worker keeps outside the sandbox (user
code could write into it through the descriptor too, so the worker treats it as untrusted text)."""
function diagnose(message::AbstractString)
    text = "execfarm driver: " * message * "\n"
    ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), CHANNELS[].log_fd, text, sizeof(text))
    nothing
end

# ---------------------------------------------------------------------------------------------
# Output capture.

"""One of the request's two streams: fd 1 or 2 pointed at a fresh in-memory file, read from `offset`."""
mutable struct Capture
    name::String
    unix_fd::Cint
    file::Cint            # the driver's own descriptor of the in-memory file; -1 between requests
    offset::Int64
    pending::Vector{UInt8}   # the start of a UTF-8 character whose rest has not been written yet
end

mutable struct RequestState
    id::Union{Nothing,String}
    budget::Int
    truncated::Bool
end

const STATE = RequestState(nothing, 0, false)
const CAPTURES = [Capture("stdout", 1, -1, 0, UInt8[]), Capture("stderr", 2, -1, 0, UInt8[])]
const READ_BUFFER = Vector{UInt8}(undef, 64 * 1024)

"""A Julia stream on fd 1 or 2 that does not own it and is line-buffered, so Julia's output keeps
its order with C-level and child-process writes to the same descriptor."""
function unbuffered_stream(fd::Integer)
    io = fdio(Int(fd), false)
    # ios_t keeps its buffering mode at byte 16, bm_block on a new stream; bm_line is the value
    # before it (the enum starts after libuv's handle types, whose count varies between versions).
    # A value outside the plausible range leaves the stream buffered: the final flush still comes.
    mode = unsafe_load(Ptr{Cint}(pointer(io.ios) + 16))
    if 10 <= mode <= 40
        ccall(:ios_bufmode, Cint, (Ptr{Cvoid}, Cint), io.ios, mode - 1)
    end
    return io
end

function begin_capture!(c::Capture)
    c.file = check(ccall(:memfd_create, Cint, (Cstring, Cuint), c.name, MFD_CLOEXEC), "memfd_create")
    c.offset = 0
    empty!(c.pending)
    dup2(c.file, c.unix_fd)
end

"""Points fds 1 and 2 and Julia's stdout, stderr, display and logger at fresh capture files,
whatever the previous request did to any of them."""
function begin_request!()
    foreach(begin_capture!, CAPTURES)
    redirect_stdout(unbuffered_stream(1))
    redirect_stderr(unbuffered_stream(2))
    # The display and the logger hold the stream they were made with; give them today's.
    empty!(Base.Multimedia.displays)
    pushdisplay(TextDisplay(stdout))
    pushdisplay(FrameDisplay())
    global_logger(ConsoleLogger(stderr))
end

function complete_utf8_prefix(b::Vector{UInt8}, upto::Int)
    upto <= 0 && return 0
    i = upto
    while i > 0 && upto - i < 3 && (b[i] & 0xc0) == 0x80
        i -= 1
    end
    i == 0 && return upto
    lead = b[i]
    need = lead < 0x80 ? 1 : (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf8) == 0xf0 ? 4 : 1
    return upto - i + 1 < need ? i - 1 : upto
end

valid_text(bytes::AbstractVector{UInt8}) = (s = String(copy(bytes)); isvalid(s) ? s : map(c -> isvalid(c) ? c : '\ufffd', s))

"""Sends `bytes` within the request's budget, in frames of at most MAX_CHUNK_BYTES that end on
character boundaries."""
function forward(c::Capture, bytes::Vector{UInt8})
    if length(bytes) > STATE.budget
        resize!(bytes, STATE.budget)
        STATE.truncated = true
    end
    STATE.budget -= length(bytes)
    start = 1
    while start <= length(bytes)
        stop = min(length(bytes), start + MAX_CHUNK_BYTES - 1)
        if stop < length(bytes)
            cut = complete_utf8_prefix(bytes, stop)
            stop = cut >= start ? cut : stop
        end
        send((ev = "output", id = STATE.id, stream = c.name, text = valid_text(view(bytes, start:stop))))
        start = stop + 1
    end
end

"""Forwards what was written to `c` since the last read. `final` forwards a character cut short too."""
function drain!(c::Capture, final::Bool)
    c.file < 0 && return
    while true
        n = ccall(:pread, Cssize_t, (Cint, Ptr{UInt8}, Csize_t, Int64), c.file, READ_BUFFER, length(READ_BUFFER), c.offset)
        n <= 0 && break
        c.offset += n
        if STATE.budget <= 0
            STATE.truncated = true
            # Nothing more of this request is wanted: later writes vanish instead of filling memory.
            dup2(CHANNELS[].devnull_fd, c.unix_fd)
        else
            append!(c.pending, view(READ_BUFFER, 1:n))
            keep = complete_utf8_prefix(c.pending, length(c.pending))
            if keep > 0
                forward(c, c.pending[1:keep])
                deleteat!(c.pending, 1:keep)
            end
        end
        # Gives back the memory of what has been read; the file keeps its size, so writers are unaffected.
        ccall(:fallocate, Cint, (Cint, Cint, Int64, Int64), c.file, FALLOC_PUNCH_HOLE, 0, c.offset)
    end
    if final && !isempty(c.pending)
        STATE.budget > 0 ? forward(c, copy(c.pending)) : (STATE.truncated = true)
        empty!(c.pending)
    end
end

function flush_streams()
    for io in (stdout, stderr)
        try flush(io) catch end
    end
    Libc.flush_cstdio()
end

"""How a request passes between the driver's threads. The first announces it (`pending`, and a notify
that wakes the forwarding thread from the scheduler, where it waits between requests instead of
waking every FORWARD_INTERVAL: eight idle processes polling cost a core several percent). The
forwarding thread takes it and forwards its output every FORWARD_INTERVAL until it finds the request
over, then returns to the scheduler.

A task the request left in the scheduler's shared queue (Threads.@spawn) starts only when a thread
looks there: at rest, the forwarding thread, up to FORWARD_INTERVAL after the done, when the worker
has already judged the process at rest; or the first thread, when a later request waits for
something, which then prints the task's output as its own. (A forwarding thread woken in the
scheduler runs its own task first, and does not look.) So after a request outside a session, unless
no such task can be waiting, the first thread asks the forwarding thread to look (`asked`, the
request's number, and a ring of `ended` to cut short its pause if it is forwarding) and waits for it
to answer (`looked`, and a ring of `back`) once such a task has run on that thread until it ended or
waits (Julia 1.5), or is sure to run next there (from 1.9); only then does it send the done. It
waits at most LOOK_WAIT_MILLIS, and a look not answered by then counts as something left waiting:
the forwarding thread may still be compiling the task it took (its first `sleep` on a loaded
machine took over a second in CI), and the timer the task is about to set would then fire in a
later request, where no check of the worker's sees it coming."""
mutable struct Handover
    started::Threads.Condition
    pending::Bool
    asked::Int
    looked::Int
    ended::Doorbell
    back::Doorbell
end

# Made at start: a system image must not hold descriptors of the process that built it.
const HANDOVER = Ref{Handover}()
const LOOK_WAIT_MILLIS = 1000

function announce_request(h::Handover)
    hold(h.started) do
        h.pending = true
        notify(h.started)
    end
end

"""After the request's last output: has the forwarding thread look for a spawned task that may be
waiting, else withdraws the request if the forwarding thread has not taken it yet. Whether the
look, if one was asked for, was answered in time."""
function close_request(h::Handover, in_session::Bool)
    look = !in_session && spawned_task_may_wait()
    asked = hold(h.started) do
        if look
            h.asked += 1
            notify(h.started)
        else
            h.pending = false
        end
        return h.asked
    end
    look || return true
    ring(h.ended)
    # Signed: time_ns() is unsigned, and a wait can end past the deadline.
    deadline = Int64(time_ns()) + LOOK_WAIT_MILLIS * 1_000_000
    while hold(() -> h.looked, h.started) < asked
        left = (deadline - Int64(time_ns())) ÷ 1_000_000
        left <= 0 && return false
        await_ring(h.back, left)
    end
    return true
end

"""Whether a task may wait in the scheduler's shared queue. From 1.9 Base's scheduler keeps it and
says; before, it lives in C, and only the forwarding thread can look (`requeue_spawned_task`)."""
function spawned_task_may_wait()
    VERSION < v"1.9" && return true
    try
        return !Base.Partr.multiq_check_empty()
    catch
        return true
    end
end

second_time_here(asked) = (asked[] += 1) >= 2 ? current_task() : nothing

"""Julia 1.5: takes a task from the shared queue with the scheduler's own call, which asks its
callback again when it finds none (the second answer, this task, then means none waits)."""
function take_spawned_task()
    try
        task = ccall(:jl_task_get_next, Ref{Task}, (Any, Any), second_time_here, Ref(0))
        return task === current_task() ? nothing : task
    catch err
        diagnose("looking for a spawned task failed: " * sprint(showerror, err))
        return nothing
    end
end

# A spawned task that spawns another each time it runs gets this many.
const SPAWNED_TASK_ROUNDS = 64

"""Julia 1.5: runs the tasks waiting in the shared queue on this thread, each until it ends or waits
(for a timer, say, which the driver's count of event sources then finds), and those they queued on
this thread by yielding. Julia before 1.7 never moves a task between threads, so it is this thread
that must take them."""
function run_spawned_tasks()
    for _ in 1:SPAWNED_TASK_ROUNDS
        task = take_spawned_task()
        if task !== nothing
            yield(task)
        elseif tasks_queued()
            yield()
        else
            return
        end
    end
end

"""The forwarding thread: forwards what each request writes, every FORWARD_INTERVAL while it runs,
and looks for spawned tasks when asked."""
function forward_forever()
    h = HANDOVER[]
    while true
        # Taken without yielding, as every lock here: a yield could run a spawned task in its place.
        job = hold(h.started) do
            while !h.pending && h.looked == h.asked
                wait(h.started)
            end
            # A request first: the first thread may have asked to look already, as it ended.
            h.pending && return (h.pending = false; 0)
            return h.asked
        end
        job == 0 ? forward_until_request_ends(h) : look_for_spawned_task(h, job)
    end
end

"""Answers once the spawned tasks that waited have run until they ended or wait for something (Julia
1.5), or once one that waits is sure to run next (from 1.9, where the scheduler takes it). With
none, Julia 1.5's thread would spin about 4 ms in the scheduler, which the worker takes for running:
it pauses first, until the pause is over or the next request ends."""
function look_for_spawned_task(h::Handover, asked::Int)
    VERSION >= v"1.9" || run_spawned_tasks()
    hold(() -> h.looked = asked, h.started)
    ring(h.back)
    VERSION >= v"1.9" || await_ring(h.ended, FORWARD_INTERVAL_MILLIS)
end

"""Forwards, every FORWARD_INTERVAL or as the request ends, what it wrote; first at once, since a
request the thread takes late may be over already."""
function forward_until_request_ends(h::Handover)
    while true
        try
            ended = hold(LOCK) do
                STATE.id === nothing && return true
                Libc.flush_cstdio()
                foreach(c -> drain!(c, false), CAPTURES)
                return false
            end
            ended && return
        catch err
            diagnose("forwarding output failed: " * sprint(showerror, err))
        end
        await_ring(h.ended, FORWARD_INTERVAL_MILLIS)
    end
end

"""Forwards the rest of the request's output and detaches it: what something it left running
writes later goes to the old files, which nobody reads."""
function end_request!()
    flush_streams()
    for c in CAPTURES
        drain!(c, true)
        close_fd(c.file)
        c.file = -1
    end
    dup2(CHANNELS[].devnull_fd, 1)
    dup2(CHANNELS[].log_fd, 2)
    truncated = STATE.truncated
    STATE.id = nothing
    return truncated
end

# ---------------------------------------------------------------------------------------------
# Displays and files.

"""Sends what `display` shows as a MIME bundle, when it has more than text: anything else falls
through to the TextDisplay below it, which prints, as before displays existed."""
struct FrameDisplay <: AbstractDisplay end

const RICH_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "text/html", "text/markdown", "text/latex")
const BINARY_MIMES = ("image/png", "image/jpeg")

function Base.display(::FrameDisplay, x)
    data = Dict{String,String}()
    for m in RICH_MIMES
        showable(m, x) || continue
        data[m] = m in BINARY_MIMES ? Base64.base64encode(repr(MIME(m), x)) : String(repr(MIME(m), x))
    end
    isempty(data) && throw(MethodError(display, (x,)))
    data["text/plain"] = repr(MIME("text/plain"), x; context = :limit => true)
    flush_streams()
    hold(LOCK) do
        STATE.id === nothing && return
        # What the request printed before this goes first.
        foreach(c -> drain!(c, false), CAPTURES)
        size = sum(sizeof, values(data))
        if size > STATE.budget
            STATE.truncated = true
        else
            STATE.budget -= size
            send((ev = "display", id = STATE.id, data = data))
        end
    end
    nothing
end

const WORK_DIR = Ref{String}()
# A collection stops looking after this many entries of the working directory.
const MAX_COLLECT_WALK = 10000
const O_WRONLY = Cint(0o1)
const O_CREAT = Cint(0o100)
const O_TRUNC = Cint(0o1000)
const O_DIRECTORY = Cint(0o200000)
const O_NOFOLLOW = Cint(0o400000)

"""Opens `path` below the working directory without following a link at any step: a link user
code left there (in a session) leads nowhere, it is refused (ELOOP, ENOTDIR). -1 and errno on failure."""
function open_beneath(path::AbstractString, flags::Cint, make_dirs::Bool)
    dir = ccall(:open, Cint, (Cstring, Cint), WORK_DIR[], O_DIRECTORY | O_CLOEXEC)
    dir < 0 && return dir
    parts = split(path, '/')
    for part in parts[1:end-1]
        make_dirs && ccall(:mkdirat, Cint, (Cint, Cstring, Cuint), dir, part, 0o755)
        below = ccall(:openat, Cint, (Cint, Cstring, Cint), dir, part, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        errno = Libc.errno()
        close_fd(dir)
        below < 0 && (Libc.errno(errno); return below)
        dir = below
    end
    fd = ccall(:openat, Cint, (Cint, Cstring, Cint, Cuint), dir, parts[end], flags | O_NOFOLLOW | O_CLOEXEC, 0o644)
    errno = Libc.errno()
    close_fd(dir)
    Libc.errno(errno)
    return fd
end

"""The request's files, into the working directory; nothing, or the error that stops the request."""
function write_files(files)
    for entry in files
        path = entry["path"]::String
        fd = open_beneath(path, O_WRONLY | O_CREAT | O_TRUNC, true)
        if fd < 0
            return (type = "InputFileError", message = "could not write $path: $(Libc.strerror(Libc.errno()))",
                    stacktrace = nothing)
        end
        io = fdio(Int(fd), true)
        try
            write(io, Base64.base64decode(entry["base64"]::String))
        finally
            close(io)
        end
    end
    return nothing
end

"""A glob as a regular expression over paths relative to the working directory: * and ? within a
name, ** as a whole name for any number of directories (at the end: anything below)."""
function glob_pattern(glob::AbstractString)
    parts = split(glob, '/')
    pattern = ""
    for (i, part) in enumerate(parts)
        last = i == length(parts)
        if part == "**"
            pattern *= last ? "[^/]+(?:/[^/]+)*" : "(?:[^/]+/)*"
            continue
        end
        for c in part
            pattern *= c == '*' ? "[^/]*" : c == '?' ? "[^/]" : "\\Q$(c)\\E"
        end
        pattern *= last ? "" : "/"
    end
    return Regex("^" * pattern * "\\z")
end

"""Sends the files matching `globs`, in name order: regular files only, read without following a
link, within the request's limits (the worker counts again)."""
function collect_files(id::String, globs, limits)
    patterns = [glob_pattern(g) for g in globs]
    matches = String[]
    walked = 0
    stack = [""]
    while !isempty(stack) && walked <= MAX_COLLECT_WALK
        prefix = pop!(stack)
        names = try readdir(isempty(prefix) ? WORK_DIR[] : joinpath(WORK_DIR[], prefix)) catch; continue end
        for name in names
            walked += 1
            walked > MAX_COLLECT_WALK && break
            relative = prefix * name
            info = lstat(joinpath(WORK_DIR[], relative))
            if isdir(info)
                push!(stack, relative * "/")
            elseif any(p -> occursin(p, relative), patterns)
                push!(matches, relative)
            end
        end
    end
    frames = Any[]
    if walked > MAX_COLLECT_WALK
        push!(frames, (path = String(globs[1]), error = "TooManyFiles: the working directory holds more than " *
                       "$MAX_COLLECT_WALK entries; collection stopped looking there"))
    end
    total = 0
    max_files = Int(limits["maxFiles"])
    for relative in sort(matches)
        if length(frames) >= max_files
            push!(frames, (path = relative, error = "TooManyFiles: more than $max_files files matched; " *
                           "the rest were not collected"))
            break
        end
        frame, size = read_collected(relative, limits, total)
        total += size
        push!(frames, frame)
    end
    for frame in frames
        send(merge((ev = "file", id = id), frame))
    end
end

function read_collected(relative::String, limits, total::Int)
    islink(joinpath(WORK_DIR[], relative)) &&
        return (path = relative, error = "NotARegularFile: a symbolic link; only regular files are collected"), 0
    fd = open_beneath(relative, O_NONBLOCK, false)
    fd < 0 && return (path = relative, error = "Unreadable: $(Libc.strerror(Libc.errno()))"), 0
    io = fdio(Int(fd), true)
    max_file = Int(limits["maxFileBytes"])
    content = try
        isfile(stat(RawFD(fd))) || return (path = relative, error = "NotARegularFile: only regular files are collected"), 0
        # Read no more than the limit allows, whatever the file grows to meanwhile.
        read(io, max_file + 1)
    finally
        close(io)
    end
    length(content) > max_file &&
        return (path = relative, error = "FileTooLarge: over the limit of $max_file bytes per file"), 0
    total + length(content) > limits["maxRequestBytes"] &&
        return (path = relative, error = "CollectLimitExceeded: the request's files would exceed " *
                "$(limits["maxRequestBytes"]) bytes together"), 0
    return (path = relative, base64 = Base64.base64encode(content)), length(content)
end

# ---------------------------------------------------------------------------------------------
# Evaluation.

const SESSIONS = Dict{String,Module}()

function fresh_module()
    m = Module(:Cell, true)
    isdefined(m, :eval) || Core.eval(m, :(eval(x) = Core.eval($m, x)))
    isdefined(m, :include) || Core.eval(m, :(include(path) = Base.include($m, path)))
    return m
end

"""Unqualified for Core, Base and the request's own module (what the user wrote), else qualified
from the first module the user can name."""
function type_name(T, mod::Module)
    T isa DataType || return string(T)
    m = parentmodule(T)
    (m === Core || m === Base || m === mod) && return string(nameof(T))
    path, cell = fullname(m), fullname(mod)
    if length(path) > length(cell) && path[1:length(cell)] == cell
        path = path[length(cell)+1:end]
    end
    return join((path..., nameof(T)), ".")
end

# Julia 1.5 and 1.6 call the stack of exceptions being handled catch_stack; 1.7 renamed it.
exception_stack() = VERSION >= v"1.7" ? Base.current_exceptions() : Base.catch_stack()

function trimmed_trace(backtrace)
    frames = stacktrace(backtrace)
    # Frames past the outermost user cell belong to include_string and this driver.
    last_cell = findlast(f -> startswith(string(f.file), "<cell "), frames)
    last_cell === nothing && return ""
    return join(("  [$i] $(frames[i])" for i in 1:last_cell), "\n") * "\n"
end

function describe_exception(err, mod::Module)
    while err isa LoadError
        err = err.error
    end
    message = try
        # 1.5: a ParseError shows itself as a constructor call; later versions show the message.
        VERSION < v"1.10" && err isa Meta.ParseError ? "syntax: " * err.msg :
            Base.invokelatest(sprint, showerror, err; context = :module => mod)
    catch
        type_name(typeof(err), mod)
    end
    return err, message
end

"""The error as the protocol reports it: the exception being raised, and, in the trace, every
exception it was raised while handling ("caused by"), as Julia itself shows them."""
function error_info(stack, mod::Module)
    err, message = describe_exception(first(stack[end]), mod)
    trace = trimmed_trace(last(stack[end]))
    for k in length(stack)-1:-1:1
        cause, cause_message = describe_exception(first(stack[k]), mod)
        trace *= "\ncaused by: " * type_name(typeof(cause), mod) * ": " * cause_message * "\n" * trimmed_trace(last(stack[k]))
    end
    if length(trace) > MAX_TRACE_CHARS
        trace = first(trace, MAX_TRACE_CHARS ÷ 2) * "\n...\n" * last(trace, MAX_TRACE_CHARS ÷ 2)
    end
    return (type = type_name(typeof(err), mod), message = message, stacktrace = isempty(trace) ? nothing : trace)
end

function render(value, mod::Module)
    io = IOBuffer()
    show(IOContext(io, :limit => true, :displaysize => (24, 80), :module => mod), MIME"text/plain"(), value)
    return String(take!(io))
end

"""Each top-level expression as it is evaluated: in soft scope, as in the REPL and notebooks (a loop
at top level updates the cell's globals). A syntax error raises a ParseError, as Julia >= 1.10's
parser does; 1.5 hands it over as an :error or :incomplete expression instead (and turns an
exception thrown here into another error, hence the throw is evaluated, not done)."""
function prepare(ex)
    if ex isa Expr && (ex.head === :error || ex.head === :incomplete)
        return :(throw($(Meta.ParseError(string(ex.head === :incomplete ? "incomplete: " : "", ex.args[1])))))
    end
    return REPL.softscope(ex)
end

function evaluate(mod::Module, code::String, filename::String)
    local value
    try
        value = Base.include_string(prepare, mod, code, filename)
    catch
        return "error", nothing, error_info(exception_stack(), mod)
    end
    value === nothing && return "ok", nothing, nothing
    try
        # invokelatest: show methods the cell itself defined are newer than this loop.
        return "ok", Base.invokelatest(render, value, mod), nothing
    catch
        return "error", nothing, error_info(exception_stack(), mod)
    end
end

# Tasks a request started with @async and did not wait for run before its output ends, so what
# they print is that request's own; left queued, they would run, and print, in whichever later
# request first yields. Rounds are bounded: a task that re-queues itself forever gets this many.
const QUEUED_TASK_ROUNDS = 64

"""Whether a task waits in this thread's queue (Base's scheduler internals, which differ by
version: where they cannot be read, no task is taken to wait)."""
function tasks_queued()
    try
        tid = Threads.threadid()
        return !isempty(isdefined(Base, :workqueue_for) ? Base.workqueue_for(tid) : Base.Workqueues[tid])
    catch
        return false
    end
end

function run_queued_tasks()
    for _ in 1:QUEUED_TASK_ROUNDS
        tasks_queued() || return
        yield()
    end
end

"""Event sources in Julia's event loop (libuv's count of active handles: timers, sockets, processes,
pipes being read), read from the loop's own struct, whose second field it is in every libuv 1.x."""
event_sources() = Int(unsafe_load(Ptr{Cuint}(Base.eventloop() + sizeof(Ptr{Cvoid}))))

"""The event sources once the close callbacks of handles closed so far have run (a closed handle
counts as active until then): taken the same way at rest and after each request."""
settled_event_sources() = (Base.process_events(); event_sources())

# How many the process has at rest, taken after the warm-up; none is left to compare before then.
const REST_EVENT_SOURCES = Ref(typemax(Int))

const ITIMER_WHICH = (Cint(0), Cint(1), Cint(2))  # ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF

"""Whether an interval timer (alarm, setitimer) will send the process a signal: its it_value."""
function interval_timer_armed()
    value = zeros(Clong, 4)  # struct itimerval: it_interval then it_value, each seconds and microseconds
    for which in ITIMER_WHICH
        ccall(:getitimer, Cint, (Cint, Ptr{Clong}), which, value) == 0 || continue
        (value[3] != 0 || value[4] != 0) && return true
    end
    return false
end

"""What a request outside a session left to run later, as this process counts it, or nothing: a task
waiting on a timer or a socket is no thread of its own and uses no CPU while it waits, so nothing
outside the process sees it, and when it wakes, during a later request, it runs and prints there.
The worker retires a process for which this says something; it never keeps one for what this says,
since user code owns the process and can make it say nothing."""
function left_waiting()
    try
        settled_event_sources() > REST_EVENT_SOURCES[] && return "an event source in Julia's event loop (a timer, a socket, a process)"
        interval_timer_armed() && return "an interval timer (alarm, setitimer)"
        tasks_queued() && return "a task queued on the driver's thread"
    catch
        # A count that cannot be read (another Julia's internals) says nothing: the worker's own checks stand.
    end
    return nothing
end

function run_request(command::Dict{String,Any})
    id = command["id"]::String
    session = get(command, "session", nothing)
    max_output = Int(command["maxOutputBytes"])
    mod = session === nothing ? fresh_module() : get!(fresh_module, SESSIONS, session)
    hold(LOCK) do
        STATE.id = id
        STATE.budget = max_output
        STATE.truncated = false
        begin_request!()
    end
    announce_request(HANDOVER[])
    started = time_ns()
    error = write_files(get(command, "files", ()))
    if error === nothing
        status, value, error = evaluate(mod, command["code"]::String, "<cell $id>")
    else
        status, value = "error", nothing
    end
    run_queued_tasks()
    eval_micros = (time_ns() - started) ÷ 1000
    globs = get(command, "collect", ())
    isempty(globs) || collect_files(id, globs, command["collectLimits"])
    truncated = hold(end_request!, LOCK)
    looked = close_request(HANDOVER[], session !== nothing)
    left = session !== nothing ? nothing :
           looked ? left_waiting() : "a spawned task the forwarding thread had not finished looking at"
    limit = min(MAX_VALUE_CHARS, max_output)
    if value !== nothing && length(value) > limit
        value = first(value, limit)
        truncated = true
    end
    send((ev = "done", id = id, status = status, value = value, error = error, truncated = truncated,
          evalMicros = eval_micros, leftWaiting = left))
end

"""Runs the driver's own paths once (output, a value, an error, a display, a file in and out) with
frames going nowhere, before the worker sees the process ready: otherwise each process's first real
request would pay for compiling them (40 ms for the first print, 240 ms for the first error,
measured on 1.5.3). The file is gone again before the worker looks at the working directory."""
function warm_own_paths()
    frames = CHANNELS[].frames
    CHANNELS[].frames = devnull
    file = ".execfarm-warm-up"
    try
        for code in ("println(\"1\"); println(2); print(stderr, 3); 1 + 1", "error(\"warm\")",
                     "struct Warm end; Base.show(io::IO, ::MIME\"text/html\", ::Warm) = print(io, \"<b/>\"); display(Warm())")
            run_request(Dict{String,Any}("id" => "driver-warm-up", "code" => code, "session" => nothing,
                                         "maxOutputBytes" => 1024))
        end
        run_request(Dict{String,Any}("id" => "driver-warm-up", "code" => "1", "session" => nothing,
                                     "maxOutputBytes" => 1024, "files" => Any[Dict{String,Any}("path" => file, "base64" => "")],
                                     "collect" => Any[file],
                                     "collectLimits" => Dict{String,Any}("maxFileBytes" => 1, "maxRequestBytes" => 1, "maxFiles" => 1)))
        rm(joinpath(WORK_DIR[], file); force = true)
    finally
        CHANNELS[].frames = frames
    end
end

function serve()
    while true
        line = next_line!(CHANNELS[].commands)
        line === nothing && return
        isempty(line) && continue
        command = parse_json(line)
        if haskey(command, "filesBytes")
            command["files"] = parse_json(next_bytes!(CHANNELS[].commands, command["filesBytes"]))
        end
        op = get(command, "op", nothing)
        op == "exec" || error("unknown command op $(repr(op))")
        run_request(command)
    end
end

function main()
    # A burst of output can outgrow the sandbox's RLIMIT_FSIZE in a capture file before the forwarder
    # (every 20 ms) sends a request past its budget to /dev/null. Ignored, as CPython ignores it, the
    # signal becomes a failed write (EFBIG) in user code instead of the kernel killing the process.
    ccall(:signal, Ptr{Cvoid}, (Cint, Ptr{Cvoid}), SIGXFSZ, SIG_IGN)
    devnull_fd = check(ccall(:open, Cint, (Cstring, Cint), "/dev/null", O_RDWR | O_CLOEXEC), "open /dev/null")
    append!(ORIGINAL_STDIO, (stdin, stdout, stderr))
    WORK_DIR[] = pwd()
    frames = set_blocking(dup_private(1))
    CHANNELS[] = Channels(fdio(Int(frames), true), CommandReader(set_blocking(dup_private(0))), dup_private(2), devnull_fd)
    dup2(devnull_fd, 0)
    dup2(devnull_fd, 1)
    redirect_stdin(fdio(0, false))
    redirect_stdout(unbuffered_stream(1))
    if Threads.nthreads() < 2
        diagnose("needs a thread of its own to forward output: start Julia with --threads=2 (or more)")
        exit(78)
    end
    HANDOVER[] = Handover(Threads.Condition(), false, 0, 0, Doorbell(), Doorbell())
    # :static puts iteration 1 (requests) on thread 1 and iteration 2 (forwarding) on thread 2.
    Threads.@threads :static for role in 1:2
        role == 2 ? forward_forever() : serve_until_end()
    end
end

"""The first thread's work: the warm-up (whose requests need the forwarding thread too), then requests."""
function serve_until_end()
    try
        warm_own_paths()
        REST_EVENT_SOURCES[] = settled_event_sources()
        send((ev = "ready", pid = getpid(), runtime = "julia", version = string(VERSION)))
        serve()
    catch err
        # Outside any request (a request's own errors are its result): say what broke where the
        # worker will find it, then end, so the worker replaces this process.
        diagnose("fatal error outside any request: " * sprint(showerror, err, catch_backtrace()))
        exit(70)
    end
    exit(0)
end

"""Run as a script: serves the protocol, or with `--describe` answers the worker's one question
(asked inside the sandbox): the real interpreter and its version."""
function script(args)
    if args == ["--describe"]
        println(joinpath(Sys.BINDIR, Base.julia_exename()))
        println(VERSION)
    else
        main()
    end
end

end # module

# Run as a script it serves the protocol; included by another file (deploy/julia's tools) it only
# defines the module.
if abspath(PROGRAM_FILE) == @__FILE__
    ExecfarmDriver.script(ARGS)
end
