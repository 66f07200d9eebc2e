# Evaluates recorded precompile statements into the system image being built, keeping only those
# that name Core, Base and the standard library, in the shapes --trace-compile writes: user code
# (a type a request defined, anything that calls a function) is never evaluated at build time.
#
# Run by deploy/julia/build-sysimage-incremental inside `julia --output-o`:
#   julia -J sys.so --output-o OUT.o precompile-safe.jl STATEMENTS.jl REPORT.txt [DRIVER.jl]
#
# With DRIVER.jl the driver's module is defined in the image too (the driver runs that baked copy
# when its own source is the same), and statements over the driver's own functions are compiled.

# In --output-o mode Base's __init__ has not run, so there is no LOAD_PATH: the standard library
# modules the shipped image already holds are bound by name instead of loaded with `using`.
const ALLOWED_ROOTS = Set{Symbol}([:Core, :Base])
for (id, m) in Base.loaded_modules
    name = Symbol(id.name)
    # Only the standard library (UUID'd packages shipped in the image): not Main, where user code lives.
    id.uuid === nothing && continue
    push!(ALLOWED_ROOTS, name)
    isdefined(Main, name) || Core.eval(Main, :(const $name = $m))
end

"""Whether `ex` is a type expression over allowed modules: names, module paths, `{}` applications,
`typeof(...)`, `Vararg`, and literals; no call other than `typeof`."""
function safe_type(ex)
    # Core's names (Tuple, Int64, ...) but not Core.Main, through which user code would be reached.
    ex isa Symbol && return ex in ALLOWED_ROOTS || (isdefined(Core, ex) && !(getfield(Core, ex) isa Module))
    ex isa QuoteNode && return ex.value isa Symbol
    (ex isa Number || ex isa Char || ex isa String) && return true
    ex isa Expr || return false
    if ex.head === :.
        return safe_type(ex.args[1]) && ex.args[2] isa QuoteNode
    elseif ex.head === :curly || ex.head === :tuple
        return all(safe_type, ex.args)
    elseif ex.head === :call
        return ex.args[1] === :typeof && length(ex.args) == 2 && safe_type(ex.args[2])
    elseif ex.head === :where || ex.head === :<:
        return all(a -> a isa Symbol || safe_type(a), ex.args)
    end
    return false
end

safe_statement(ex) = ex isa Expr && ex.head === :call && ex.args[1] === :precompile && length(ex.args) == 2 &&
    safe_type(ex.args[2])

statements, report = ARGS[1], ARGS[2]
if length(ARGS) >= 3
    # The driver imports REPL and Logging by name, which needs a load path to resolve them, and the
    # load path's @stdlib needs what Sys.__init__ sets at every start (and will set again).
    Sys.__init__()
    push!(LOAD_PATH, "@stdlib")
    include(ARGS[3])
    push!(ALLOWED_ROOTS, :ExecfarmDriver)
end
compiled, skipped, failed = 0, 0, 0
for line in eachline(statements)
    ex = try Meta.parse(line) catch; nothing end
    if !safe_statement(ex)
        global skipped += 1
        continue
    end
    try
        Core.eval(Main, ex) ? (global compiled += 1) : (global failed += 1)
    catch
        global failed += 1
    end
end
# Printing to stdout here would crash: the streams are not set up while an image is being written.
write(report, "compiled $compiled, skipped $skipped (not Core, Base, the standard library or the driver), failed $failed\n")
