# execfarm driver for Julia >= 1.10 (Base only).
#
# Protocol (docs/driver-protocol.md): commands arrive as JSON lines on the original stdin; frames
# leave as JSON lines on the original stdout. Both move to private descriptors before any user code
# runs: fd 0 becomes /dev/null, and fds 1 and 2 become pipes whose bytes two tasks forward as
# "output" frames, so writes from C libraries (ccall) and child processes are captured too, and user
# code cannot write into the frame channel by printing.
#
# Everything runs on one thread (start Julia with --threads=1): every wait here is a libuv wait that
# yields to the output tasks, so nothing blocks them except user code that never yields.

module ExecfarmDriver

const MAX_TRACE_CHARS = 16 * 1024
# A rendered value longer than this is cut; the output budget of the request applies too.
const MAX_VALUE_CHARS = 1024 * 1024
const F_DUPFD_CLOEXEC = Cint(1030)
# How long the end-of-request marker may take to come through the output pipes.
const SYNC_TIMEOUT_SECONDS = 5.0

# ---------------------------------------------------------------------------------------------
# JSON: only what the protocol needs.

function json_string(io::IO, s::AbstractString)
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
    elseif x isa NamedTuple
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
            write(out, c)
            i += 1
        end
    end
end

# ---------------------------------------------------------------------------------------------
# The frame channel.

const CHANNEL = Ref{IO}()
const CHANNEL_LOCK = ReentrantLock()

function send(frame::NamedTuple)
    buf = IOBuffer()
    json(buf, frame)
    write(buf, '\n')
    bytes = take!(buf)
    lock(CHANNEL_LOCK) do
        write(CHANNEL[], bytes)
    end
    nothing
end

function dup_private(fd::Integer)
    new_fd = ccall(:fcntl, Cint, (Cint, Cint, Cint...), fd, F_DUPFD_CLOEXEC, 3)
    new_fd < 0 && error("cannot duplicate file descriptor $fd: ", Libc.strerror())
    return new_fd
end

# ---------------------------------------------------------------------------------------------
# The request being run, and the tasks forwarding its output.

mutable struct RequestState
    id::Union{Nothing,String}
    budget::Int
    truncated::Bool
    marker::Union{Nothing,Vector{UInt8}}
    synced::Union{Nothing,Channel{String}}
end

const STATE = RequestState(nothing, 0, false, nothing, nothing)

mutable struct Pump
    name::String
    unix_fd::Cint
    redirect::Function
    reader::IO            # the read end of the pipe behind fd 1 or 2
    writer::IO            # what user code gets as stdout or stderr
    private_fd::Cint      # a write end of that pipe only the driver holds: keeps it open whatever user code closes
    keeper::IO            # a stream on private_fd, for the end-of-request marker
    pending::Vector{UInt8}
end

const PUMPS = Pump[]
# The stdio objects Julia started with still wrap fds 0, 1 and 2; were they finalized, fds the
# driver now uses would be closed under it.
const ORIGINAL_STDIO = Any[]

function take_over(name, unix_fd, redirect)
    ends = redirect()
    reader, writer = ends isa Tuple ? ends : (ends.out, ends.in)
    private_fd = dup_private(unix_fd)
    return Pump(name, unix_fd, redirect, reader, writer, private_fd, open(RawFD(private_fd)), UInt8[])
end

"""Gives each request working fds 1 and 2 and stdout/stderr streams, whatever the previous one did to them."""
function restore!(p::Pump)
    if !isopen(p.writer)
        p.writer = open(RawFD(dup_private(p.private_fd)))
    end
    p.redirect(p.writer)
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

valid_text(bytes::Vector{UInt8}) = (s = String(bytes); isvalid(s) ? s : map(c -> isvalid(c) ? c : '\ufffd', s))

function forward(p::Pump, bytes::Vector{UInt8})
    id = STATE.id
    (id === nothing || isempty(bytes)) && return
    if length(bytes) > STATE.budget
        bytes = bytes[1:STATE.budget]
        STATE.truncated = true
    end
    STATE.budget -= length(bytes)
    isempty(bytes) || send((ev = "output", id = id, stream = p.name, text = valid_text(bytes)))
end

function absorb!(p::Pump, data::Vector{UInt8})
    append!(p.pending, data)
    marker = STATE.marker
    if marker !== nothing
        at = findfirst(marker, p.pending)
        if at !== nothing
            forward(p, p.pending[1:first(at)-1])
            empty!(p.pending)
            synced = STATE.synced
            synced === nothing || try put!(synced, p.name) catch end
            return
        end
    end
    # Hold back what may be the start of the marker or of a character split across reads.
    hold = marker === nothing ? 0 : min(length(p.pending), length(marker) - 1)
    n = complete_utf8_prefix(p.pending, length(p.pending) - hold)
    if n > 0
        forward(p, p.pending[1:n])
        deleteat!(p.pending, 1:n)
    end
end

function pump(p::Pump)
    try
        while !eof(p.reader)
            absorb!(p, readavailable(p.reader))
        end
    catch
        # A broken pump must not take the driver down; the worker notices missing output.
    end
end

"""Forwards everything the request wrote, then detaches it: a random marker, written after the
request's own writes, shows each pump where the request's output ends."""
function finish_output()
    for io in (stdout, stderr)
        try flush(io) catch end
    end
    Libc.flush_cstdio()
    marker = Vector{UInt8}("\0execfarm-end-" * string(rand(UInt64); base = 16) * "\0")
    synced = Channel{String}(length(PUMPS))
    STATE.marker = marker
    STATE.synced = synced
    for p in PUMPS
        try
            write(p.keeper, marker)
        catch
            put!(synced, p.name)
        end
    end
    deadline = Timer(_ -> close(synced), SYNC_TIMEOUT_SECONDS)
    try
        for _ in PUMPS
            take!(synced)
        end
    catch
    end
    close(deadline)
    STATE.marker = nothing
    STATE.synced = nothing
    truncated = STATE.truncated
    STATE.id = nothing
    return truncated
end

# ---------------------------------------------------------------------------------------------
# Evaluation.

const SESSIONS = Dict{String,Module}()
const CELLS = Ref(0)

function fresh_module()
    m = Module(:Cell, true)
    isdefined(m, :eval) || Core.eval(m, :(eval(x) = Core.eval($m, x)))
    isdefined(m, :include) || Core.eval(m, :(include(path) = Base.include($m, path)))
    return m
end

function type_name(T)
    T isa DataType || return string(T)
    m = parentmodule(T)
    return m === Core || m === Base ? string(nameof(T)) : join((fullname(m)..., nameof(T)), ".")
end

function render(value)
    io = IOBuffer()
    show(IOContext(io, :limit => true, :displaysize => (24, 80)), MIME"text/plain"(), value)
    return String(take!(io))
end

function error_info(err, backtrace)
    while err isa LoadError
        err = err.error
    end
    message = try
        Base.invokelatest(sprint, showerror, err)
    catch
        type_name(typeof(err))
    end
    frames = stacktrace(backtrace)
    # Frames past the outermost user cell belong to include_string and this driver.
    last_cell = findlast(f -> startswith(string(f.file), "<cell "), frames)
    trace = nothing
    if last_cell !== nothing
        trace = join(("  [$i] $(frames[i])" for i in 1:last_cell), "\n") * "\n"
        if length(trace) > MAX_TRACE_CHARS
            trace = first(trace, MAX_TRACE_CHARS ÷ 2) * "\n...\n" * last(trace, MAX_TRACE_CHARS ÷ 2)
        end
    end
    return (type = type_name(typeof(err)), message = message, stacktrace = trace)
end

function evaluate(mod::Module, code::String, filename::String)
    local value
    try
        value = Base.include_string(mod, code, filename)
    catch err
        return "error", nothing, error_info(err, catch_backtrace())
    end
    value === nothing && return "ok", nothing, nothing
    try
        # invokelatest: show methods the cell itself defined are newer than this loop.
        return "ok", Base.invokelatest(render, value), nothing
    catch err
        return "error", nothing, error_info(err, catch_backtrace())
    end
end

function run_request(command::Dict{String,Any})
    id = command["id"]::String
    session = get(command, "session", nothing)
    max_output = Int(command["maxOutputBytes"])
    mod = session === nothing ? fresh_module() : get!(fresh_module, SESSIONS, session)
    CELLS[] += 1
    foreach(restore!, PUMPS)
    STATE.id = id
    STATE.budget = max_output
    STATE.truncated = false
    started = time_ns()
    status, value, error = evaluate(mod, command["code"]::String, "<cell $(CELLS[])>")
    eval_micros = (time_ns() - started) ÷ 1000
    truncated = finish_output()
    limit = min(MAX_VALUE_CHARS, max_output)
    if value !== nothing && length(value) > limit
        value = first(value, limit)
        truncated = true
    end
    send((ev = "done", id = id, status = status, value = value, error = error, truncated = truncated,
          evalMicros = eval_micros))
end

function main()
    append!(ORIGINAL_STDIO, (stdin, stdout, stderr))
    commands = open(RawFD(dup_private(0)))
    CHANNEL[] = open(RawFD(dup_private(1)))
    devnull_in = open("/dev/null", "r")
    push!(ORIGINAL_STDIO, devnull_in)
    redirect_stdin(devnull_in)
    push!(PUMPS, take_over("stdout", 1, redirect_stdout))
    push!(PUMPS, take_over("stderr", 2, redirect_stderr))
    for p in PUMPS
        @async pump(p)
    end
    send((ev = "ready", pid = getpid(), runtime = "julia", version = string(VERSION)))

    while true
        line = readline(commands)
        if isempty(line)
            eof(commands) && return
            continue
        end
        command = parse_json(line)
        op = get(command, "op", nothing)
        if op == "exec"
            run_request(command)
        else
            send((ev = "fault", message = "unknown op $(repr(op))"))
        end
    end
end

end # module

# Run as a script it serves the protocol; included by another file (deploy/julia's tools) it only
# defines the module.
if abspath(PROGRAM_FILE) == @__FILE__
    if ARGS == ["--describe"]
        # Asked once by the worker, inside the sandbox: the real interpreter and its version.
        println(joinpath(Sys.BINDIR, Base.julia_exename()))
        println(VERSION)
    else
        ExecfarmDriver.main()
    end
end
