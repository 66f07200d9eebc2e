# A first job: live output line by line, a value at the end.
import math
import time

for step in range(1, 4):
    print(f"step {step}: sqrt({step}) = {math.sqrt(step):.4f}", flush=True)
    time.sleep(0.5)

sum(i * i for i in range(1000))
