# Builds the worker's Julia sysimage: the driver's code paths (and any packages listed) compiled
# ahead of time, from recorded precompile statements.
#
#   julia deploy/julia/build-sysimage.jl OUT.so TRACE.jl [TRACE.jl...]
#
# The traces are --trace-compile recordings: deploy/julia/trace-workload.sh's of the sample
# workload, and the workers' own of real traffic (execfarm.worker.runtime.julia.trace-compile-dir),
# so each image can learn from what the previous one served, the way AutoSysimages.jl does.
# Packages to bake in are listed one per line in deploy/julia/packages.txt.

using PackageCompiler

length(ARGS) >= 2 || error("usage: julia build-sysimage.jl OUT.so TRACE.jl [TRACE.jl...]")
out, traces = ARGS[1], ARGS[2:end]

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

create_sysimage(Symbol.(packages); sysimage_path = out, precompile_statements_file = statements,
    # Runs on the machines the image is deployed to, not only on the one that built it.
    cpu_target = PackageCompiler.default_app_cpu_target())
