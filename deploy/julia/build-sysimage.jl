# Builds the worker's Julia sysimage: the driver's code paths (and any packages listed) compiled
# ahead of time, from recorded precompile statements.
#
#   julia deploy/julia/build-sysimage.jl --driver DRIVER.jl OUT.so TRACE.jl [TRACE.jl...]
#
# The driver is baked in: its module is defined in the image and the recorded statements over its
# own functions are compiled, so a driver process started on the image with the same driver source
# skips compiling its own code (driver.jl checks that the source matches).
#
# The traces are --trace-compile recordings: deploy/julia/trace-workload.sh's of the sample
# workload, and the workers' own of real traffic (execfarm.worker.runtime.julia.trace-compile-dir),
# so each image can learn from what the previous one served, the way AutoSysimages.jl does.
# Packages to bake in are listed one per line in deploy/julia/packages.txt.

using PackageCompiler

length(ARGS) >= 4 && ARGS[1] == "--driver" ||
    error("usage: julia build-sysimage.jl --driver DRIVER.jl OUT.so TRACE.jl [TRACE.jl...]")
driver, out, traces = abspath(ARGS[2]), ARGS[3], ARGS[4:end]

packages_file = joinpath(@__DIR__, "packages.txt")
packages = filter(!isempty, strip.(readlines(packages_file)))
packages = filter(p -> !startswith(p, "#"), packages)

# Statements that no longer compile (a method gone from a package, a type renamed) are skipped by
# PackageCompiler with a warning; a recording from an older image is safe to feed.
statements = joinpath(mktempdir(), "statements.jl")
open(statements, "w") do io
    for trace in traces
        isfile(trace) || error("no trace file at $trace")
        for line in eachline(trace)
            startswith(line, "precompile(") && println(io, line)
        end
    end
end
@info "building $out" packages traces statements = countlines(statements)

# PackageCompiler compiles the statements before it runs this script, when the driver's module does
# not exist yet: the statements over the driver are compiled here, after the driver is defined.
bake_driver = joinpath(mktempdir(), "bake-driver.jl")
write(bake_driver, """
    include($(repr(driver)))
    for line in eachline($(repr(statements)))
        occursin("ExecfarmDriver.", line) || continue
        try
            Core.eval(Main, Meta.parse(line))
        catch
        end
    end
    """)

create_sysimage(Symbol.(packages); sysimage_path = out, precompile_statements_file = statements, script = bake_driver,
    # Runs on the machines the image is deployed to, not only on the one that built it.
    cpu_target = PackageCompiler.default_app_cpu_target())
