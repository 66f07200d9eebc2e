# The same data in Julia: reads data/readings.csv, writes out/summary-julia.txt, and displays an
# SVG bar chart through Julia's display system (any type with a `show` for image/svg+xml).
using Statistics

lines = readlines("data/readings.csv")
sensors = split(lines[1], ",")[2:end]
table = [parse.(Float64, split(line, ",")[2:end]) for line in lines[2:end]]
means = [mean(row[i] for row in table) for i in eachindex(sensors)]

mkpath("out")
open("out/summary-julia.txt", "w") do out
    for (name, m) in zip(sensors, means)
        line = rpad(name, 11) * " mean " * string(round(m; digits = 1))
        println(line)
        println(out, line)
    end
end

struct Bars
    labels::Vector{String}
    values::Vector{Float64}
end

function Base.show(io::IO, ::MIME"image/svg+xml", b::Bars)
    print(io, """<svg xmlns="http://www.w3.org/2000/svg" width="320" height="160">""")
    top = maximum(b.values)
    for (i, (label, v)) in enumerate(zip(b.labels, b.values))
        h = round(Int, 120 * v / top)
        x = 20 + 100 * (i - 1)
        print(io, """<rect x="$x" y="$(140 - h)" width="60" height="$h" fill="#4a7"/>""")
        print(io, """<text x="$x" y="155" font-size="12">$label</text>""")
    end
    print(io, "</svg>")
end

display(Bars(String.(sensors), means))
