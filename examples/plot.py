# Files in, a picture and a file out: reads the uploaded data/readings.csv, plots it (shown as a
# PNG the farm sends back) and writes out/summary.txt, which the demo collects.
import csv
import os
import statistics

with open("data/readings.csv") as f:
    rows = list(csv.DictReader(f))
sensors = [name for name in rows[0] if name != "hour"]
hours = [int(row["hour"]) for row in rows]
print(f"{len(rows)} readings of {', '.join(sensors)}")

os.makedirs("out", exist_ok=True)
with open("out/summary.txt", "w") as out:
    for name in sensors:
        values = [float(row[name]) for row in rows]
        line = f"{name:<11} mean {statistics.mean(values):5.1f}  min {min(values):5.1f}  max {max(values):5.1f}"
        print(line)
        out.write(line + "\n")

try:
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed where the workers run: no plot (Debian: python3-matplotlib)")
else:
    for name in sensors:
        plt.plot(hours, [float(row[name]) for row in rows], label=name)
    plt.xlabel("hour")
    plt.ylabel("°C")
    plt.legend()
    plt.title("A day of readings")
    plt.show()
