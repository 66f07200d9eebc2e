# Errors come back as results with the runtime's own message and a trimmed backtrace.
def divide(a, b):
    return a / b

print("about to divide by zero")
divide(1, 0)
